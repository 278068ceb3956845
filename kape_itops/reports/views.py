"""What the overview, problems, school and device pages show, as frozen dataclasses (no I/O).

:mod:`kape_itops.reports.current` reads the store and calls the assembly functions here; the
web pages only render these objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from markupsafe import Markup

from kape_itops.domain.backups import ConfigEntry
from kape_itops.domain.discovery import HostState, StoredSweep
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Change, Device, School
from kape_itops.domain.problems import SEVERITY_RANK, Observation, Problem, ProblemKind, Severity
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.status import DeviceLine, LinkState, PingState, ProbeTotals, state_of
from kape_itops.reports.availability import NONE, Availability, availability
from kape_itops.reports.problems import discovery_problems

__all__ = [
    "PAGE_SIZE",
    "BackupDiff",
    "DeviceView",
    "Overview",
    "ProblemFilter",
    "ProblemPage",
    "RoomKind",
    "SchoolTile",
    "SchoolView",
    "Supply",
    "UnknownHost",
    "Warranty",
    "device_availability",
    "diff_lines",
    "disks",
    "filter_problems",
    "page_count",
    "room_matrix",
    "severity_counts",
    "tally",
    "toner",
    "unknown_hosts",
    "warranty_of",
]

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SchoolTile:
    """One school on the overview."""

    school: School
    states: Mapping[LinkState, int]
    problems: Mapping[Severity, int]
    has_collector: bool
    last_sync: dt.datetime | None

    @property
    def deployed(self) -> int:
        """Deployed devices (every one has a state)."""
        return sum(self.states.values())


@dataclass(frozen=True, slots=True)
class Overview:
    """One page of school tiles (by code), the totals of every school, and since when a
    ping counts as current."""

    tiles: list[SchoolTile]
    totals: Mapping[LinkState, int]
    problems: Mapping[Severity, int]
    fresh_from: dt.datetime
    at: dt.datetime
    page: int = 1
    pages: int = 1
    schools: int = 0


@dataclass(frozen=True, slots=True)
class ProblemFilter:
    """The problems list's filters (empty: all)."""

    school: str | None = None
    kind: ProblemKind | None = None
    severity: Severity | None = None
    since: dt.timedelta = dt.timedelta(days=1)
    page: int = 1


@dataclass(frozen=True, slots=True)
class ProblemPage:
    """One page of current problems, most severe first."""

    problems: list[Problem]
    total: int
    page: int
    pages: int
    filter: ProblemFilter
    schools: list[School]


@dataclass(frozen=True, slots=True)
class RoomKind:
    """Deployed devices of one kind in one room, by state."""

    room: str | None
    kind: DeviceKind
    states: Mapping[LinkState, int]


@dataclass(frozen=True, slots=True)
class Supply:
    """A printer's lowest supply level (``pct`` None: not readable)."""

    asset_tag: str
    name: str
    pct: float | None


@dataclass(frozen=True, slots=True)
class UnknownHost:
    """A host the newest discovery sweep saw that the inventory does not know."""

    mac: str | None
    ip: str
    vendor: str | None
    method: str
    seen: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SchoolView:
    """One school over a period, and its devices now."""

    school: School
    period: str
    start: dt.datetime
    end: dt.datetime
    states: Mapping[LinkState, int]
    rooms: list[RoomKind]
    room_names: list[str]
    devices: list[DeviceLine]
    availability: Mapping[str, Availability]
    """Asset tag → availability over the period (the page's devices)."""
    page: int
    pages: int
    total_devices: int
    pooled: Availability
    charts: list[Markup]
    cameras_recording: int
    cameras_reporting: int
    cameras_not_recording: list[str]
    toner: list[Supply]
    nvr_disk: list[tuple[str, float | None]]
    unknown: list[UnknownHost]
    problems: Mapping[Severity, int]
    counted_until: dt.datetime | None
    room: str | None = None
    kind: DeviceKind | None = None


@dataclass(frozen=True, slots=True)
class Warranty:
    """A device's warranty today: ``expired``, ``expiring`` (within the report's days) or ``ok``."""

    until: dt.date
    state: str
    days: int


@dataclass(frozen=True, slots=True)
class DeviceView:
    """Everything about one device."""

    device: Device
    school: School | None
    layers: list[ProbeResult]
    problems: list[Problem]
    results: list[ProbeResult]
    page: int
    has_next: bool
    backups: list[ConfigEntry]
    changes: list[Change]
    warranty: Warranty | None
    fields: list[tuple[str, object]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BackupDiff:
    """Two configuration versions of a device and the unified diff between them, by line."""

    asset_tag: str
    old: ConfigEntry
    new: ConfigEntry
    lines: list[tuple[str, str]]
    """(``add``, ``del``, ``hunk``, ``head`` or ``ctx``; the line)."""


def diff_lines(text: str) -> list[tuple[str, str]]:
    """A unified diff's lines, each with what it is."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def tally(states: Iterable[PingState], fresh_from: dt.datetime) -> dict[str, dict[LinkState, int]]:
    """School code → how many deployed devices are up, down, unknown, without data."""
    out: dict[str, dict[LinkState, int]] = {}
    for s in states:
        cell = out.setdefault(s.school, dict.fromkeys(LinkState, 0))
        cell[state_of(s.status, s.at, fresh_from)] += 1
    return out


def room_matrix(states: Iterable[PingState], fresh_from: dt.datetime) -> list[RoomKind]:
    """Deployed devices per room and kind, by state (rooms by name, no room last)."""
    cells: dict[tuple[str | None, DeviceKind], dict[LinkState, int]] = {}
    for s in states:
        cell = cells.setdefault((s.room, s.kind), dict.fromkeys(LinkState, 0))
        cell[state_of(s.status, s.at, fresh_from)] += 1
    keys = sorted(cells, key=lambda k: (k[0] is None, k[0] or "", k[1].value))
    return [RoomKind(room, kind, cells[(room, kind)]) for room, kind in keys]


def severity_counts(problems: Iterable[Problem]) -> dict[str, dict[Severity, int]]:
    """School code → problems by severity."""
    out: dict[str, dict[Severity, int]] = {}
    for p in problems:
        cell = out.setdefault(p.school, dict.fromkeys(Severity, 0))
        cell[p.severity] += 1
    return out


def filter_problems(problems: Iterable[Problem], flt: ProblemFilter) -> list[Problem]:
    """The problems the filter keeps (school, kind, severity; ``since`` is applied on read)."""
    return [
        p
        for p in problems
        if (flt.school is None or p.school == flt.school)
        and (flt.kind is None or p.kind == flt.kind)
        and (flt.severity is None or p.severity == flt.severity)
    ]


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Pages needed for ``total`` items (at least one)."""
    return max(1, -(-total // size))


def page_slice(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[list[T], int]:
    """Page ``page`` of ``items`` (clamped to the pages there are) and that page's number."""
    page = min(max(1, page), page_count(len(items), size))
    return list(items[(page - 1) * size : page * size]), page


def device_availability(
    totals: Iterable[ProbeTotals],
    order: Sequence[str],
    *,
    start: int,
    end: int,
    bucket_s: int,
    interval_s: int,
) -> dict[str, Availability]:
    """Asset tag → availability over ``[start, end)`` from its rolled-up counts of the first
    probe in ``order`` it has, counted from its first bucket in the period."""
    by_tag: dict[str, dict[str, ProbeTotals]] = {}
    for t in totals:
        by_tag.setdefault(t.asset_tag, {})[t.probe] = t
    out: dict[str, Availability] = {}
    for tag, probes in by_tag.items():
        pick = next((probes[p] for p in order if p in probes), None)
        if pick is None or not pick.counts.total:
            continue
        owed = min(end - 1, max(start, pick.first_bucket))
        out[tag] = availability(
            [pick.counts],
            period_s=end - owed,
            bucket_s=end - owed,
            interval_s=interval_s,
        )
    return out


def pooled(parts: Iterable[Availability]) -> Availability:
    """Every part's samples added together."""
    out = NONE
    for a in parts:
        out = out + a
    return out


def warranty_of(d: Device, today: dt.date, within_days: int) -> Warranty | None:
    """The device's warranty state (None without a date)."""
    if d.warranty_until is None:
        return None
    days = (d.warranty_until - today).days
    if days < 0:
        state = "expired"
    elif days <= within_days:
        state = "expiring"
    else:
        state = "ok"
    return Warranty(d.warranty_until, state, days)


def device_fields(d: Device) -> list[tuple[str, object]]:
    """The device's fields in the inventory's order, as (name, value)."""
    return [
        ("asset_tag", d.asset_tag),
        ("kind", d.kind.value),
        ("status", d.status.value if isinstance(d.status, DeviceStatus) else d.status),
        ("school", d.school),
        ("room", d.room),
        ("manufacturer", d.manufacturer),
        ("model", d.model),
        ("serial", d.serial),
        ("mac", d.mac),
        ("ip", d.ip),
        ("hostname", d.hostname),
        ("platform", d.platform),
        ("probes", ", ".join(d.probes) if d.probes else None),
        ("funding", d.funding),
        ("vendor", d.vendor),
        ("purchase_date", d.purchase_date),
        ("unit_price", d.unit_price),
        ("currency", d.currency.value if d.currency else None),
        ("warranty_until", d.warranty_until),
        ("credential", d.credential),
        ("notes", d.notes),
    ]


def sort_key(p: Problem) -> tuple[int, str, str]:
    """Most severe first, then school and device."""
    return (SEVERITY_RANK[p.severity], p.school, p.asset_tag or "")


def unknown_hosts(sweeps: list[StoredSweep], devices: list[Device]) -> list[UnknownHost]:
    """The hosts the sweeps saw that the inventory does not know (the report's own rule:
    :func:`~kape_itops.reports.problems.discovery_problems`), once each."""
    found = discovery_problems(sweeps, devices, {}, {})
    wanted = {p.part for p in found if p.kind == ProblemKind.UNKNOWN_DEVICE}
    out: list[UnknownHost] = []
    seen: set[str] = set()
    for w in sweeps:
        for h in w.hosts:
            if h.state != HostState.UNKNOWN:
                continue
            key = next((k for k in (h.mac and h.mac.lower(), h.mac, h.ip) if k in wanted), None)
            if key is None or key in seen:
                continue
            seen.add(key)
            out.append(UnknownHost(h.mac, h.ip, h.vendor, w.method, w.started_at))
    return out


def toner(printers: Iterable[Observation]) -> list[Supply]:
    """Each printer's lowest supply, lowest first (unreadable levels last)."""
    out: list[Supply] = []
    for o in printers:
        metrics = o.metrics
        levels = [
            (str(x.get("name") or "supply"), x.get("pct"))
            for x in metrics.get("supplies") or []
            if isinstance(x, dict)
        ]
        nums = [
            (n, float(v))
            for n, v in levels
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if nums:
            name, pct = min(nums, key=lambda nv: nv[1])
            out.append(Supply(o.asset_tag, name, pct))
        elif levels:
            out.append(Supply(o.asset_tag, levels[0][0], None))
    return sorted(out, key=lambda x: (x.pct is None, x.pct or 0.0, x.asset_tag))


def disks(nvrs: Iterable[Observation]) -> list[tuple[str, float | None]]:
    """Each NVR's disk use (any probe that read it), fullest first."""
    best: dict[str, float | None] = {}
    for o in nvrs:
        v = o.metrics.get("disk_used_pct")
        tag = o.asset_tag
        if isinstance(v, int | float) and not isinstance(v, bool):
            best[tag] = float(v)
        else:
            best.setdefault(tag, None)
    return sorted(best.items(), key=lambda kv: (-(kv[1] or 0.0), kv[0]))
