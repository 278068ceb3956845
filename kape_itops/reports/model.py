"""The health report: what each school's devices did over a period, built from the store.

The store hands back rollup buckets (hourly for periods up to 8 days, daily beyond), the
inventory and the period's latest discovery sweeps; the numbers come from the pure functions in
:mod:`availability`, :mod:`problems`, :mod:`trends` and :mod:`sketch`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kape_itops.config import load_zone
from kape_itops.domain import sketch
from kape_itops.domain.discovery import HostState, StoredSweep
from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Change, Device, DeviceFilter, School
from kape_itops.domain.reports import DAY, HOUR, Bucket, epoch, from_epoch
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.probes import catalog
from kape_itops.reports import retention
from kape_itops.reports.availability import Availability, availability, pooled
from kape_itops.reports.problems import (
    Observation,
    Problem,
    Severity,
    Thresholds,
    config_change_problem,
    discovery_problems,
    from_observation,
    reboot_problem,
    sort_problems,
    warranty_problems,
)
from kape_itops.reports.trends import (
    Point,
    availability_series,
    counter_increase_series,
    last_value_series,
    mean_series,
    total,
)
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.report_repo import ReportRepo

HOURLY_UP_TO = dt.timedelta(days=8)
AVAILABILITY_PROBES = catalog.availability_kinds()
"""The first of these with data decides whether a device was up."""
NOT_DEPLOYED_SHOWN = (DeviceStatus.IN_STOCK, DeviceStatus.IN_REPAIR)
"""Statuses listed apart as "not deployed" (retired and lost ones only count in the inventory)."""


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

    @property
    def devices_deployed(self) -> int:
        """Deployed devices in the report's schools."""
        return sum(len(s.devices) for s in self.schools)

    @property
    def devices_monitored(self) -> int:
        """Deployed devices with results in the period: the headline availability is theirs."""
        return sum(s.monitored for s in self.schools)

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


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """How to build a report."""

    school: str | None = None
    title: str | None = None
    interval: dt.timedelta = dt.timedelta(minutes=5)
    thresholds: Thresholds = field(default_factory=Thresholds)
    today: dt.date | None = None
    rollup_first: bool = True
    tz: str = "UTC"
    """IANA zone for shown times and for "today" (the CLI passes ``ITOPS_TZ``)."""


def build_report(store: Store, period: Period, opts: ReportOptions | None = None) -> HealthReport:
    """Read the store and compute the health report for ``period``."""
    opts = opts or ReportOptions()
    zone = load_zone(opts.tz)
    interval_s = int(opts.interval.total_seconds())
    if interval_s <= 0:
        raise UsageError("--interval must be positive")
    if opts.rollup_first:
        retention.rollup(store)
    start, end = epoch(period.start), epoch(period.end)
    with store.session() as s:
        inv, repo = InventoryRepo(s), ReportRepo(s)
        schools = inv.schools()
        if opts.school:
            schools = [x for x in schools if x.code == opts.school]
            if not schools:
                raise NotFoundError(f"school '{opts.school}' does not exist")
        codes = tuple(x.code for x in schools)
        devices = list(inv.iter_devices(DeviceFilter(schools=codes)))
        ids = {r.asset_tag: r.id for r in repo.device_refs()}
        wanted = {ids[d.asset_tag] for d in devices}
        by_device: dict[int, list[Bucket]] = {}
        for b in repo.buckets(period.grain, start, end, wanted):
            by_device.setdefault(b.device_id, []).append(b)
        config = repo.config_changes(period.start, period.end)
        tags = {d.asset_tag for d in devices}
        changes = [
            c
            for c in inv.history(since=period.start)
            if c.at < period.end and (not opts.school or c.key in tags or c.key in codes)
        ]
        calc = _Calc(period, interval_s, opts.thresholds)
        probes = {
            ids[d.asset_tag]: calc.avail_probe(by_device.get(ids[d.asset_tag], []))
            for d in devices
            if d.status == DeviceStatus.DEPLOYED and ids[d.asset_tag] in by_device
        }
        calc.first = repo.first_results(probes.items())
        healths: dict[str, DeviceHealth] = {}
        problems: list[Problem] = []
        for d in devices:
            bs = by_device.get(ids[d.asset_tag], [])
            health, found = calc.device(d, bs, ids[d.asset_tag])
            healths[d.asset_tag] = health
            for p in found:
                if p.kind.value == "down":
                    since = repo.down_since(ids[d.asset_tag], "ping", period.end)
                    p = dataclasses.replace(p, since=since or p.since)
                problems.append(p)
            if d.status != DeviceStatus.DEPLOYED:
                continue  # probed on request only: never a problem, never an alert
            if ids[d.asset_tag] in config:
                n, last = config[ids[d.asset_tag]]
                got = config_change_problem(d.asset_tag, d.school, n, last)
            else:
                n = sum(int(b.last_metrics.get("config_changes", 0)) for b in bs)
                got = config_change_problem(
                    d.asset_tag, d.school, n, _last_event(bs, "config_changes")
                )
            if got:
                problems.append(got)
        sweeps = _discovery(DiscoveryRepo(s), codes, period)
    down = {p.asset_tag for p in problems if p.kind.value == "down" and p.asset_tag}
    problems += discovery_problems(sweeps.latest, devices, sweeps.first_seen, sweeps.since, down)
    today = opts.today or period.end.astimezone(zone).date()
    problems += warranty_problems(devices, today, opts.thresholds.warranty_days)
    school_rows = [
        calc.school(sc, [d for d in devices if d.school == sc.code], healths, by_device, ids)
        for sc in schools
    ]
    trends = calc.trends(schools, devices, healths, by_device, ids)
    title = opts.title or "Health report"
    return HealthReport(
        title=title,
        generated_at=dt.datetime.now(dt.UTC),
        period=period,
        interval_s=interval_s,
        school_filter=opts.school,
        schools=school_rows,
        availability=pooled(s.availability for s in school_rows),
        problems=sort_problems(problems),
        trends=trends,
        inventory=_inventory_view(devices, changes),
        discovery=[
            SweepSummary(w.school, w.scope, w.method, w.started_at, w.actor, w.counts)
            for w in sweeps.latest
        ],
        tz=opts.tz,
    )


@dataclass(frozen=True, slots=True)
class _Sweeps:
    latest: list[StoredSweep]
    first_seen: dict[tuple[str, str, str], dt.datetime]
    since: dict[tuple[str, str, str], dt.datetime]


def _discovery(repo: DiscoveryRepo, codes: tuple[str, ...], period: Period) -> _Sweeps:
    """The period's latest sweeps, when each unknown host was first seen, each device missed."""
    out = _Sweeps(repo.latest_sweeps(codes, period.start, period.end), {}, {})
    for w in out.latest:
        unknown = [h.identity for h in w.hosts if h.state == HostState.UNKNOWN]
        for ident, at in repo.unknown_first_seen(w.school, w.scope, unknown, w.started_at).items():
            out.first_seen[(w.school, w.scope, ident)] = at
        missing = [h.asset_tag for h in w.hosts if h.state == HostState.MISSING and h.asset_tag]
        for tag, at in repo.missing_since(w.school, w.scope, missing, w.started_at).items():
            out.since[(w.school, w.scope, tag)] = at
    return out


def _last_event(bs: Iterable[Bucket], name: str) -> dt.datetime | None:
    times = [b.last_at for b in bs if b.last_metrics.get(name)]
    return from_epoch(max(times)) if times else None


class _Calc:
    """The per-device, per-school and trend computations of one report."""

    def __init__(self, period: Period, interval_s: int, th: Thresholds) -> None:
        self.p = period
        self.interval_s = interval_s
        self.th = th
        self.sketches: dict[str, dict[int, int]] = {}
        self.first: dict[tuple[int, str], int] = {}
        """(device id, availability probe) → first stored result, from the store."""
        self.owed_from: dict[str, int] = {}
        """Asset tag → when (Unix seconds) the availability of the device starts counting."""

    def avail_probe(self, bs: list[Bucket]) -> str:
        have = {b.probe for b in bs}
        return next((p for p in AVAILABILITY_PROBES if p in have), "ping")

    def device(
        self, d: Device, bs: list[Bucket], device_id: int = 0
    ) -> tuple[DeviceHealth, list[Problem]]:
        deployed = d.status == DeviceStatus.DEPLOYED
        monitored = deployed and bool(bs)
        avail: Availability | None = None
        probe = self.avail_probe(bs)
        start, end = epoch(self.p.start), epoch(self.p.end)
        counted = [b.counts for b in bs if b.probe == probe]
        if monitored and counted:
            owed = min(end - 1, max(start, self.first.get((device_id, probe), start)))
            self.owed_from[d.asset_tag] = owed
            avail = availability(
                counted,
                period_s=end - owed,
                bucket_s=self.p.bucket_s,
                interval_s=self.interval_s,
            )
        ping = [b for b in bs if b.probe == "ping"]
        merged = self.sketches[d.asset_tag] = sketch.merge(b.sketch for b in ping)
        rtt_n = sum(b.rtt_count for b in ping)
        loss_n = sum(b.loss_count for b in ping)
        latest: dict[str, Bucket] = {}
        for b in bs:
            if b.probe not in latest or b.last_at >= latest[b.probe].last_at:
                latest[b.probe] = b
        found: list[Problem] = []
        metrics: dict[str, Any] = {}
        for name, b in sorted(latest.items()):
            metrics.update(b.last_metrics)
            if not deployed:
                continue
            obs = Observation(
                d.asset_tag,
                d.school,
                name,
                ProbeStatus(b.last_status),
                b.last_reason,
                from_epoch(b.last_at),
                b.last_metrics,
            )
            found += [
                p
                for p in from_observation(obs, self.th)
                if p.kind.value not in ("rebooted", "config_changed")
            ]
        reboots = sum(int(b.last_metrics.get("reboots", 0)) for b in bs)
        got = reboot_problem(d.asset_tag, d.school, reboots, _last_event(bs, "reboots"))
        if got and deployed:
            found.append(got)
        newest = max(latest.values(), key=lambda b: b.last_at) if latest else None
        pages = None
        if d.kind == DeviceKind.PRINTER:
            series = counter_increase_series(
                _counter_rows("all", d.asset_tag, bs),
                start=epoch(self.p.start),
                end=epoch(self.p.end),
                step_s=max(1, int(self.p.seconds)),
            )
            pages = total(series["all"]) if series else None
        health = DeviceHealth(
            asset_tag=d.asset_tag,
            kind=d.kind,
            status=d.status,
            model=d.model,
            ip=d.ip,
            monitored=avail is not None,
            availability=avail,
            rtt_avg_ms=sum(b.rtt_sum for b in ping) / rtt_n if rtt_n else None,
            rtt_p50_ms=sketch.quantile(merged, 0.5),
            rtt_p95_ms=sketch.quantile(merged, 0.95),
            loss_pct=sum(b.loss_sum for b in ping) / loss_n if loss_n else None,
            last_status=newest.last_status if newest else None,
            last_seen=from_epoch(newest.last_at) if newest else None,
            supplies=tuple(
                Supply(str(x.get("name") or "supply"), _num(x.get("pct")))
                for x in metrics.get("supplies") or []
                if isinstance(x, Mapping)
            ),
            pages_printed=pages,
            disk_used_pct=_num(metrics.get("disk_used_pct")),
            recording=metrics["recording"] if isinstance(metrics.get("recording"), bool) else None,
            clock_drift_s=_num(metrics.get("clock_drift_s")),
            monitored_from=from_epoch(self.owed_from[d.asset_tag]) if avail else None,
        )
        return health, found

    def school(
        self,
        sc: School,
        devices: list[Device],
        healths: dict[str, DeviceHealth],
        by_device: dict[int, list[Bucket]],
        ids: dict[str, int],
    ) -> SchoolHealth:
        kinds: dict[str, dict[str, int]] = {}
        for d in devices:
            cell = kinds.setdefault(d.kind.value, {})
            cell[d.status.value] = cell.get(d.status.value, 0) + 1
        deployed = [d for d in devices if d.status == DeviceStatus.DEPLOYED]
        rows = [healths[d.asset_tag] for d in deployed]
        ping = [
            b for d in deployed for b in by_device.get(ids[d.asset_tag], []) if b.probe == "ping"
        ]
        merged = sketch.merge(self.sketches.get(d.asset_tag, {}) for d in deployed)
        loss_n = sum(b.loss_count for b in ping)
        cams = [h for h in rows if h.kind == DeviceKind.CAMERA and h.recording is not None]
        return SchoolHealth(
            code=sc.code,
            name=sc.name,
            devices_by_kind_status=dict(sorted(kinds.items())),
            availability=pooled(h.availability for h in rows if h.availability is not None),
            rtt_p50_ms=sketch.quantile(merged, 0.5),
            rtt_p95_ms=sketch.quantile(merged, 0.95),
            loss_pct=sum(b.loss_sum for b in ping) / loss_n if loss_n else None,
            cameras_recording=sum(1 for h in cams if h.recording),
            cameras_reporting=len(cams),
            devices=rows,
            not_deployed=[healths[d.asset_tag] for d in devices if d.status in NOT_DEPLOYED_SHOWN],
        )

    def trends(
        self,
        schools: list[School],
        devices: list[Device],
        healths: dict[str, DeviceHealth],
        by_device: dict[int, list[Bucket]],
        ids: dict[str, int],
    ) -> Trends:
        start, end, step = epoch(self.p.start), epoch(self.p.end), self.p.step_s
        owed: dict[str, list[int]] = {sc.code: [] for sc in schools}
        avail_rows = []
        rtt_rows = []
        toner_rows = []
        page_rows = []
        for d in devices:
            bs = by_device.get(ids[d.asset_tag], [])
            page_rows += _counter_rows(d.school, d.asset_tag, bs)
            if healths[d.asset_tag].availability is not None:
                owed[d.school].append(self.owed_from[d.asset_tag])
                probe = self.avail_probe(bs)
                avail_rows += [(d.school, b.start, b.counts) for b in bs if b.probe == probe]
            for b in bs:
                if b.probe == "ping" and b.rtt_count and d.status == DeviceStatus.DEPLOYED:
                    rtt_rows.append((d.school, b.start, b.rtt_sum, float(b.rtt_count)))
                levels = [
                    v
                    for x in b.last_metrics.get("supplies") or []
                    if isinstance(x, Mapping) and (v := _num(x.get("pct"))) is not None
                ]
                if levels:
                    toner_rows.append((d.asset_tag, b.start, min(levels)))
        return Trends(
            step_s=step,
            availability=availability_series(
                avail_rows,
                owed,
                start=start,
                end=end,
                step_s=step,
                bucket_s=self.p.bucket_s,
                interval_s=self.interval_s,
            ),
            latency=mean_series(rtt_rows, start=start, end=end, step_s=step),
            toner=last_value_series(toner_rows, start=start, end=end, step_s=step),
            pages=counter_increase_series(page_rows, start=start, end=end, step_s=step),
        )


def _counter_rows(
    group: str, tag: str, bs: Iterable[Bucket]
) -> list[tuple[str, str, int, float, float, float]]:
    out = []
    for b in bs:
        m = b.last_metrics
        first, last = _num(m.get("page_count_first")), _num(m.get("page_count"))
        if first is not None and last is not None:
            out.append((group, tag, b.start, first, last, _num(m.get("pages")) or 0.0))
    return out


def _inventory_view(devices: list[Device], changes: list[Change]) -> InventoryView:
    by_sk: dict[str, dict[str, int]] = {}
    by_f: dict[str, int] = {}
    by_s: dict[str, int] = {}
    for d in devices:
        cell = by_sk.setdefault(d.school, {})
        cell[d.kind.value] = cell.get(d.kind.value, 0) + 1
        f = d.funding or "(none)"
        by_f[f] = by_f.get(f, 0) + 1
        by_s[d.status.value] = by_s.get(d.status.value, 0) + 1
    return InventoryView(by_sk, dict(sorted(by_f.items())), by_s, len(devices), changes)


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def to_dict(value: Any) -> Any:
    """The report as plain JSON values (availability with its percentages)."""
    if isinstance(value, Availability):
        return {
            "expected_samples": round(value.expected, 3),
            "up_pct": _round(value.pct_up),
            "down_pct": _round(value.pct_down),
            "unknown_pct": _round(value.pct_unknown),
        }
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
    "HealthReport",
    "Period",
    "ReportOptions",
    "SweepSummary",
    "build_report",
    "resolve_period",
    "to_dict",
]
