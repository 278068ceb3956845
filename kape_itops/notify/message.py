"""What an alert says: one line per new problem, a subject, Telegram-sized chunks (no I/O).

A :class:`Notice` is a problem as it is queued for a channel: plain JSON values, so what a
channel could not deliver waits in the outbox file for the next round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kape_itops.domain.problems import SEVERITY_RANK, Problem, Severity
from kape_itops.domain.text import reveal

__all__ = ["LINE_MAX", "Notice", "body", "chunks", "notice", "subject", "summary"]

LINE_MAX = 600
"""Longest line of one problem (device-supplied detail is cut)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One new problem, ready to be told: ``school_name`` is the inventory name (Khmer first)."""

    key: str
    severity: str
    kind: str
    school: str
    school_name: str
    asset_tag: str | None
    detail: str
    since: str | None
    """ISO-8601 time the problem was first seen in its streak."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Notice:
        """The notice :meth:`to_json` wrote; KeyError/TypeError/ValueError when it is not one."""
        if raw.get("since") is not None:
            dt.datetime.fromisoformat(str(raw["since"]))  # ValueError now, not when sending
        return cls(
            key=str(raw["key"]),
            severity=str(raw["severity"]),
            kind=str(raw["kind"]),
            school=str(raw["school"]),
            school_name=str(raw.get("school_name") or ""),
            asset_tag=None if raw.get("asset_tag") is None else str(raw["asset_tag"]),
            detail=str(raw["detail"]),
            since=None if raw.get("since") is None else str(raw["since"]),
        )

    def line(self, tz: dt.tzinfo) -> str:
        """``CRIT down KPT-PSP សាលា… KPT-PSP-SW01: no reply (since 2026-11-02 15:05)``."""
        where = f"{self.school} {self.school_name}" if self.school_name else self.school
        since = ""
        if self.since:
            at = dt.datetime.fromisoformat(self.since).astimezone(tz)
            since = f" (since {at:%Y-%m-%d %H:%M})"
        text = (
            f"{self.severity.upper()} {self.kind.replace('_', ' ')} {where} "
            f"{self.asset_tag or '-'}: {self.detail}"
        )
        text = reveal(text, newlines=False)
        if len(text) > LINE_MAX:
            text = text[: LINE_MAX - 1] + "…"
        return text + since


def notice(p: Problem, school_name: str = "") -> Notice:
    """The notice of a problem the alert hook reported."""
    return Notice(
        key=p.key,
        severity=p.severity.value,
        kind=p.kind.value,
        school=p.school,
        school_name=school_name,
        asset_tag=p.asset_tag,
        detail=p.detail,
        since=p.since.isoformat() if p.since else None,
    )


def summary(notices: Sequence[Notice]) -> str:
    """``3 new problems (1 crit, 2 warn)``."""
    n = len(notices)
    counts = {s: sum(1 for x in notices if x.severity == s.value) for s in Severity}
    parts = [f"{c} {s.value}" for s, c in sorted(counts.items(), key=lambda i: SEVERITY_RANK[i[0]])]
    by = ", ".join(p for p in parts if not p.startswith("0 "))
    return f"{n} new problem{'s' if n != 1 else ''}" + (f" ({by})" if by else "")


def subject(notices: Sequence[Notice], dropped: int = 0) -> str:
    """The e-mail subject."""
    more = f", {dropped} older dropped" if dropped else ""
    return f"[kape-itops] {summary(notices)}{more}"


def body(notices: Sequence[Notice], tz: dt.tzinfo, dropped: int = 0) -> str:
    """The whole message: a summary line, then one line per problem."""
    head = f"kape-itops: {summary(notices)}"
    lines = [head, ""] + [n.line(tz) for n in notices]
    if dropped:
        lines += ["", f"({dropped} older notifications were dropped while this channel was down)"]
    return "\n".join(lines) + "\n"


def chunks(
    notices: Sequence[Notice], tz: dt.tzinfo, limit: int, dropped: int = 0
) -> list[tuple[str, int]]:
    """Messages of at most ``limit`` characters: (text, how many notices it carries), in order.

    Every notice is in exactly one message, so a channel that fails half-way knows how many
    went out.
    """
    out: list[tuple[str, int]] = []
    total = summary(notices)
    lines: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal lines, size
        part = f" ({len(out) + 1})" if out or len(lines) < len(notices) else ""
        head = f"kape-itops: {total}{part}"
        text = "\n".join([head, "", *lines])
        if dropped and not out:
            text += f"\n\n({dropped} older notifications were dropped while this channel was down)"
        out.append((text, len(lines)))
        lines, size = [], 0

    budget = limit - 200  # the header and the dropped note
    for n in notices:
        line = n.line(tz)
        if lines and size + len(line) + 1 > budget:
            flush()
        lines.append(line)
        size += len(line) + 1
    if lines:
        flush()
    return out
