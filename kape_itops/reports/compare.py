"""Month against the previous month: availability and problem counts side by side (no I/O).

:func:`compare` takes two built reports (each from the rollups of its own month) and gives, for
every school of the current report and overall, this month's and the previous month's figures
and their difference. A school missing from the previous month has no previous figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kape_itops.domain.problems import Problem, Severity
from kape_itops.reports.availability import Availability

if TYPE_CHECKING:
    from kape_itops.reports.model import HealthReport

__all__ = ["Figures", "MonthComparison", "Row", "compare", "delta", "previous_month"]


@dataclass(frozen=True, slots=True)
class Figures:
    """One school (or all) over one month."""

    availability_pct: float | None
    """Percent of the samples up; None when nothing was monitored."""
    down_pct: float | None
    problems: int
    crit: int
    warn: int
    info: int


@dataclass(frozen=True, slots=True)
class Row:
    """This month, the previous month (None: the school had no data then) and the change."""

    code: str
    name: str
    current: Figures
    previous: Figures | None

    @property
    def availability_delta(self) -> float | None:
        """Percentage points gained (positive) or lost since the previous month."""
        if self.previous is None:
            return None
        now, before = self.current.availability_pct, self.previous.availability_pct
        return None if now is None or before is None else now - before

    @property
    def problems_delta(self) -> int | None:
        """More (positive) or fewer problems than the previous month."""
        return None if self.previous is None else self.current.problems - self.previous.problems

    @property
    def crit_delta(self) -> int | None:
        """More (positive) or fewer critical problems than the previous month."""
        return None if self.previous is None else self.current.crit - self.previous.crit


@dataclass(frozen=True, slots=True)
class MonthComparison:
    """The month compared with ``previous_start``..``previous_end`` (UTC, end exclusive)."""

    previous_start: dt.datetime
    previous_end: dt.datetime
    overall: Row
    schools: list[Row]

    @property
    def previous_days(self) -> tuple[dt.date, dt.date]:
        """The previous month's first and last day (UTC days)."""
        last = (self.previous_end - dt.timedelta(seconds=1)).astimezone(dt.UTC).date()
        return self.previous_start.astimezone(dt.UTC).date(), last

    def to_json(self) -> dict[str, object]:
        """Plain JSON values, deltas included."""

        def row(r: Row) -> dict[str, object]:
            return {
                "code": r.code,
                "name": r.name,
                "current": _figures_json(r.current),
                "previous": None if r.previous is None else _figures_json(r.previous),
                "availability_delta": _round(r.availability_delta),
                "problems_delta": r.problems_delta,
                "crit_delta": r.crit_delta,
            }

        return {
            "previous_start": self.previous_start.isoformat(),
            "previous_end": self.previous_end.isoformat(),
            "overall": row(self.overall),
            "schools": [row(r) for r in self.schools],
        }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def _figures_json(f: Figures) -> dict[str, object]:
    return {
        "availability_pct": _round(f.availability_pct),
        "down_pct": _round(f.down_pct),
        "problems": f.problems,
        "crit": f.crit,
        "warn": f.warn,
        "info": f.info,
    }


def figures(availability: Availability, problems: Iterable[Problem]) -> Figures:
    """The figures of one availability and its problems."""
    counts = dict.fromkeys(Severity, 0)
    for p in problems:
        counts[p.severity] += 1
    return Figures(
        availability_pct=availability.pct_up,
        down_pct=availability.pct_down,
        problems=sum(counts.values()),
        crit=counts[Severity.CRIT],
        warn=counts[Severity.WARN],
        info=counts[Severity.INFO],
    )


def compare(
    current: HealthReport,
    previous: HealthReport,
    previous_start: dt.datetime,
    previous_end: dt.datetime,
) -> MonthComparison:
    """Per school of ``current`` and overall: its figures against ``previous``'s."""
    before = {s.code: s for s in previous.schools}
    rows = []
    for s in current.schools:
        old = before.get(s.code)
        rows.append(
            Row(
                s.code,
                s.name,
                figures(s.availability, (p for p in current.problems if p.school == s.code)),
                None
                if old is None
                else figures(
                    old.availability, (p for p in previous.problems if p.school == s.code)
                ),
            )
        )
    overall = Row(
        "",
        "",
        figures(current.availability, current.problems),
        figures(previous.availability, previous.problems),
    )
    return MonthComparison(previous_start, previous_end, overall, rows)


def delta(v: float | None, unit: str = "") -> str:
    """``+1.5 pp``, ``-2``, ``±0`` (``—`` when there is nothing to compare)."""
    if v is None:
        return "—"
    text = f"{v:+.1f}" if isinstance(v, float) else f"{v:+d}"
    return ("±0" if text.lstrip("+-") in ("0", "0.0") else text) + unit


def previous_month(first: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month before the one starting on ``first``."""
    last = first.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last
