"""Backup records and pure operations on them (versions, diffs)."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from enum import StrEnum


class BackupStatus(StrEnum):
    """What one device's backup did."""

    FIRST = "first"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One stored backup of one device. ``version`` counts distinct configurations (1, 2 …);
    an unchanged entry carries the version it equals and no content."""

    id: int
    asset_tag: str
    taken_at: dt.datetime
    sha256: str
    changed: bool
    version: int
    content: str | None = None
    run_id: int | None = None


@dataclass(frozen=True, slots=True)
class BackupOutcome:
    """The result of backing up one device."""

    asset_tag: str
    status: BackupStatus
    reason: str
    sha256: str | None = None
    version: int | None = None
    masked: int = 0
    duration_ms: float = 0.0


def number_versions(
    rows: list[tuple[int, dt.datetime, str, bool, str | None, int | None]], asset_tag: str
) -> list[ConfigEntry]:
    """Entries with version numbers from rows ``(id, taken_at, sha, changed, content, run)``
    given oldest first."""
    out: list[ConfigEntry] = []
    version = 0
    for rid, at, sha, changed, content, run in rows:
        if changed or version == 0:
            version += 1
        out.append(ConfigEntry(rid, asset_tag, at, sha, changed, version, content, run))
    return out


def unified_diff(old: ConfigEntry, new: ConfigEntry) -> str:
    """A unified diff between two stored (already scrubbed) versions."""
    a = (old.content or "").splitlines(keepends=True)
    b = (new.content or "").splitlines(keepends=True)
    stamp = "%Y-%m-%d %H:%M:%S UTC"
    return "".join(
        difflib.unified_diff(
            a,
            b,
            fromfile=f"{old.asset_tag} v{old.version}",
            tofile=f"{new.asset_tag} v{new.version}",
            fromfiledate=old.taken_at.strftime(stamp),
            tofiledate=new.taken_at.strftime(stamp),
        )
    )
