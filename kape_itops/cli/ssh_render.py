"""How ``itops ssh`` shows its results: tables for people, dicts for ``--json``.

Device output passes :func:`clean` (no escape sequences or control characters); tables show
times in the configured zone and name it once in the header.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rich.text import Text

from kape_itops.cli.render import console, table
from kape_itops.domain.backups import BackupOutcome, BackupStatus, ConfigEntry
from kape_itops.domain.text import reveal

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")
_BSTYLE = {
    BackupStatus.FIRST: "green",
    BackupStatus.CHANGED: "yellow",
    BackupStatus.UNCHANGED: "green",
    BackupStatus.FAILED: "red",
    BackupStatus.SKIPPED: "dim",
}


def clean(text: str) -> str:
    """Device output for the terminal: no escape sequences or C0 controls; C1 and bidi
    controls shown as escapes (:func:`kape_itops.domain.text.reveal`)."""
    return reveal(_CONTROL.sub("", text.replace("\r\n", "\n")))


def show_outcomes(outcomes: list[BackupOutcome]) -> None:
    """The ``ssh backup`` table."""
    rows = [
        (
            o.asset_tag,
            Text(o.status.value, style=_BSTYLE[o.status]),
            o.version or "",
            (o.sha256 or "")[:12],
            clean(o.reason),
        )
        for o in outcomes
    ]
    columns = ["device", "result", "version", "sha256", "reason"]
    console.print(table("ssh backup", columns, rows, keys=("sha256",)))


def show_history(tag: str, entries: list[ConfigEntry], tz: dt.tzinfo) -> None:
    """The ``ssh history`` table, times in ``tz``."""
    rows = [
        (
            e.taken_at,
            f"v{e.version}",
            "new version" if e.changed else "unchanged",
            e.sha256[:16],
            e.run_id or "",
        )
        for e in entries
    ]
    columns = ["taken", "version", "", "sha256", "run"]
    console.print(
        table(
            f"configuration history of {tag}", columns, rows, tz=tz, seconds=True, keys=("sha256",)
        )
    )


def _version(e: ConfigEntry) -> dict[str, Any]:
    return {"version": e.version, "taken_at": e.taken_at, "sha256": e.sha256, "run_id": e.run_id}


def diff_json(tag: str, old: ConfigEntry, new: ConfigEntry, text: str) -> dict[str, Any]:
    """``ssh diff --json``: both versions and the unified diff ('' when identical)."""
    return {
        "asset_tag": tag,
        "from": _version(old),
        "to": _version(new),
        "identical": not text,
        "diff": clean(text),
    }
