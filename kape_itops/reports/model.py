"""The health report's model: the period it covers and what it shows, as plain data.

:func:`~kape_itops.reports.build.build_report` fills it from the store (the numbers come from
:mod:`~kape_itops.reports.calc`); the renderers and :func:`to_dict` read it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Change
from kape_itops.domain.problems import Problem, Severity
from kape_itops.domain.reports import DAY, HOUR, epoch, from_epoch
from kape_itops.errors import UsageError
from kape_itops.reports.availability import Availability
from kape_itops.reports.compare import MonthComparison
from kape_itops.reports.silence import Silence
from kape_itops.reports.trends import Point

HOURLY_UP_TO = dt.timedelta(days=8)


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC, with the rollup grain used to read it."""

    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return (self.end - self.start).total_seconds()

    @property
    def grain(self) -> str:
        """``hour`` up to 8 days, else ``day``."""
        return "hour" if self.end - self.start <= HOURLY_UP_TO else "day"

    @property
    def bucket_s(self) -> int:
        """Seconds per bucket of the grain."""
        return HOUR if self.grain == "hour" else DAY

    @property
    def step_s(self) -> int:
        """Seconds per point of the trend charts."""
        if self.grain == "day":
            return DAY
        return HOUR if self.end - self.start <= dt.timedelta(days=2) else 6 * HOUR


def resolve_period(
    since: dt.timedelta | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    now: dt.datetime | None = None,
) -> Period:
    """The report period from ``--since`` or ``--from/--to`` (whole UTC days, ``to`` inclusive).

    The start is aligned to the grain (hour or day) so buckets line up with the period.
    """
    now = now or dt.datetime.now(dt.UTC)
    if since is not None and (date_from or date_to):
        raise UsageError("give either --since or --from/--to, not both")
    if date_from or date_to:
        if date_from is None:
            raise UsageError("--to needs --from")
        start = dt.datetime.combine(date_from, dt.time(), dt.UTC)
        if start >= now:
            raise UsageError(f"--from {date_from} is in the future")
        stop = date_to or now.date()
        if stop < date_from:
            raise UsageError(f"--to {stop} is before --from {date_from}")
        if stop >= now.date():  # also --to 9999-12-31, whose next day does not exist
            return Period(start, now)
        end = min(now, dt.datetime.combine(stop + dt.timedelta(days=1), dt.time(), dt.UTC))
        return Period(start, end)
    span = since if since is not None else dt.timedelta(days=7)
    if span <= dt.timedelta(0):
        raise UsageError("--since must be a positive duration such as 7d")
    start = now - span
    align = HOUR if span <= HOURLY_UP_TO else DAY
    start = from_epoch(epoch(start) // align * align)
    return Period(start, now)


@dataclass(frozen=True, slots=True)
class Supply:
    """One printer supply's newest level."""

    name: str
    pct: float | None


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """One device over the period.

    ``availability`` is None when the device is not monitored: not deployed, or no result of
    it is stored in the period. Otherwise it counts from ``monitored_from``: the period start,
    or the device's first stored result when that is later.
    """

    asset_tag: str
    kind: DeviceKind
    status: DeviceStatus
    model: str | None
    ip: str | None
    monitored: bool
    availability: Availability | None
    rtt_avg_ms: float | None
    rtt_p50_ms: float | None
    rtt_p95_ms: float | None
    loss_pct: float | None
    last_status: str | None
    last_seen: dt.datetime | None
    supplies: tuple[Supply, ...] = ()
    pages_printed: float | None = None
    disk_used_pct: float | None = None
    recording: bool | None = None
    clock_drift_s: float | None = None
    monitored_from: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SchoolHealth:
    """One school over the period: ``devices`` are the deployed ones, their availability pooled;
    devices in stock or in repair are in ``not_deployed`` (no availability, no problems)."""

    code: str
    name: str
    devices_by_kind_status: dict[str, dict[str, int]]
    availability: Availability
    rtt_p50_ms: float | None
    rtt_p95_ms: float | None
    loss_pct: float | None
    cameras_recording: int
    cameras_reporting: int
    devices: list[DeviceHealth]
    not_deployed: list[DeviceHealth] = field(default_factory=list)
    silence: Silence | None = None
    """Set when the school's collector is silent at the end of the period: no data since."""
    name_km: str | None = None
    """The school's Khmer name (inventory), if any."""

    @property
    def monitored(self) -> int:
        """Deployed devices with results in the period (those the availability counts)."""
        return sum(1 for d in self.devices if d.availability is not None)

    @property
    def printers(self) -> list[DeviceHealth]:
        """Printers with their supplies."""
        return [d for d in self.devices if d.kind == DeviceKind.PRINTER]

    @property
    def nvrs(self) -> list[DeviceHealth]:
        """NVRs with their disk use."""
        return [d for d in self.devices if d.kind == DeviceKind.NVR]


@dataclass(frozen=True, slots=True)
class Trends:
    """Chart series; each point starts a step of ``step_s`` seconds."""

    step_s: int
    availability: dict[str, list[Point]]
    latency: dict[str, list[Point]]
    toner: dict[str, list[Point]]
    pages: dict[str, list[Point]]


@dataclass(frozen=True, slots=True)
class InventoryView:
    """Counts per school × kind and funding project, and the period's change-log entries."""

    by_school_kind: dict[str, dict[str, int]]
    by_funding: dict[str, int]
    by_status: dict[str, int]
    total: int
    changes: list[Change]


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """A school's latest discovery sweep of one scope (network or onvif) in the period."""

    school: str
    scope: str
    method: str
    started_at: dt.datetime
    actor: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Everything the renderers show."""

    title: str
    generated_at: dt.datetime
    period: Period
    interval_s: int
    school_filter: str | None
    schools: list[SchoolHealth]
    availability: Availability
    problems: list[Problem]
    trends: Trends
    inventory: InventoryView
    discovery: list[SweepSummary] = field(default_factory=list)
    """The latest sweep per school and scope; their findings are in ``problems``."""
    notes: list[str] = field(default_factory=list)
    tz: str = "UTC"
    """IANA zone the renderers show times in (every time here is UTC)."""
    comparison: MonthComparison | None = None
    """A monthly report: each school and all against the previous month."""

    @property
    def devices_deployed(self) -> int:
        """Deployed devices in the report's schools."""
        return sum(len(s.devices) for s in self.schools)

    @property
    def devices_monitored(self) -> int:
        """Deployed devices with results in the period: the headline availability is theirs."""
        return sum(s.monitored for s in self.schools)

    @property
    def silent(self) -> list[SchoolHealth]:
        """Schools whose collector is silent at the end of the period (no data from them)."""
        return [s for s in self.schools if s.silence is not None]

    @property
    def not_deployed(self) -> list[tuple[str, DeviceHealth]]:
        """(school code, device) of every device in stock or in repair."""
        return [(s.code, d) for s in self.schools for d in s.not_deployed]

    def problem_counts(self) -> dict[str, int]:
        """Problems per severity."""
        out = {s.value: 0 for s in Severity}
        for p in self.problems:
            out[p.severity.value] += 1
        return out


def to_dict(value: Any) -> Any:
    """The report as plain JSON values (availability with its percentages)."""
    if isinstance(value, Availability):
        return {
            "expected_samples": round(value.expected, 3),
            "up_pct": _round(value.pct_up),
            "down_pct": _round(value.pct_down),
            "unknown_pct": _round(value.pct_unknown),
            "no_data_pct": _round(value.pct_no_data),
        }
    if isinstance(value, MonthComparison):
        return value.to_json()
    if isinstance(value, Problem):
        out = {f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
        out["key"] = value.key
        return out
    if isinstance(value, Point):
        return [from_epoch(value.t).isoformat(), _round(value.v)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return _round(value)
    if isinstance(value, dict):
        return {str(k): to_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dict(v) for v in value]
    return value


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


__all__ = [
    "DeviceHealth",
    "HealthReport",
    "InventoryView",
    "Period",
    "SchoolHealth",
    "Supply",
    "SweepSummary",
    "Trends",
    "resolve_period",
    "to_dict",
]
