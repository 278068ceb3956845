"""The health report built from the store: rollup buckets, inventory, discovery sweeps.

The store hands back rollup buckets (hourly for periods up to 8 days, daily beyond), the
inventory and the period's latest discovery sweeps; :class:`~kape_itops.reports.calc.HealthCalc`
and the problem rules make the numbers, :mod:`~kape_itops.reports.model` holds them. On a
server, the enrolled sites say which schools went silent (:mod:`~kape_itops.reports.silence`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from kape_itops.config import load_zone
from kape_itops.domain.discovery import HostState, StoredSweep
from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.inventory import Change, Device, DeviceFilter
from kape_itops.domain.problems import Problem, duration
from kape_itops.domain.reports import Bucket, SchoolSync, epoch, from_epoch
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.reports import retention
from kape_itops.reports.availability import pooled
from kape_itops.reports.calc import HealthCalc, last_event
from kape_itops.reports.model import (
    DeviceHealth,
    HealthReport,
    InventoryView,
    Period,
    SweepSummary,
)
from kape_itops.reports.problems import (
    Thresholds,
    config_change_problem,
    discovery_problems,
    sort_problems,
    warranty_problems,
)
from kape_itops.reports.silence import (
    Silence,
    find_silence,
    fold_problems,
    silent_after_setting,
    silent_problem,
)
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.report_repo import ReportRepo
from kape_itops.store.site_reads import SiteReads

__all__ = ["ReportOptions", "build_report"]


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
    silent_after: int = field(default_factory=silent_after_setting)
    """Intervals without a sync after which a school's collector is silent
    (``ITOPS_SILENT_AFTER``, default 6)."""


def build_report(store: Store, period: Period, opts: ReportOptions | None = None) -> HealthReport:
    """Read the store and compute the health report for ``period``."""
    opts = opts or ReportOptions()
    zone = load_zone(opts.tz)
    interval_s = int(opts.interval.total_seconds())
    if interval_s <= 0:
        raise UsageError("--interval must be positive")
    if opts.silent_after < 1:
        raise UsageError("--silent-after must be at least 1")
    quiet = opts.interval * opts.silent_after
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
        calc = HealthCalc(period, interval_s, opts.thresholds)
        silences = _silences(SiteReads(s).schools(codes), devices, ids, by_device, period, quiet)
        calc.no_data_from = {
            code: min(end, max(start, epoch(x.no_data_since))) for code, x in silences.items()
        }
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
                    d.asset_tag, d.school, n, last_event(bs, "config_changes")
                )
            if got:
                problems.append(got)
        sweeps = _discovery(DiscoveryRepo(s), codes, period)
    down = {p.asset_tag for p in problems if p.kind.value == "down" and p.asset_tag}
    problems += discovery_problems(sweeps.latest, devices, sweeps.first_seen, sweeps.since, down)
    today = opts.today or period.end.astimezone(zone).date()
    problems += warranty_problems(devices, today, opts.thresholds.warranty_days)
    problems, folded = fold_problems(problems, silences, quiet)
    for code, x in silences.items():
        silences[code] = x = dataclasses.replace(x, folded=folded.get(code, 0))
        problems.append(silent_problem(x, zone))
    school_rows = [
        dataclasses.replace(
            calc.school(sc, [d for d in devices if d.school == sc.code], healths, by_device, ids),
            silence=silences.get(sc.code),
        )
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
        notes=[_silence_note(opts)] if silences else [],
    )


def _silence_note(opts: ReportOptions) -> str:
    quiet = opts.interval * opts.silent_after
    return (
        f"No data: a school whose collector has not synced for more than {opts.silent_after} "
        f"probe intervals ({duration(quiet.total_seconds())}) is a problem of its own; from the "
        "newest result held from it to the end of the period its devices count as no data, "
        "neither down nor unknown, and devices that stopped answering as it went silent are "
        "folded into that one problem."
    )


def _silences(
    syncs: dict[str, SchoolSync],
    devices: list[Device],
    ids: dict[str, int],
    by_device: dict[int, list[Bucket]],
    period: Period,
    quiet: dt.timedelta,
) -> dict[str, Silence]:
    """The schools whose enrolled sites have not synced within ``quiet`` of the period end."""
    newest: dict[str, int] = {}
    for d in devices:
        for b in by_device.get(ids[d.asset_tag], []):
            newest[d.school] = max(newest.get(d.school, b.last_at), b.last_at)
    out: dict[str, Silence] = {}
    for code, sync in syncs.items():
        t = newest.get(code)
        got = find_silence(sync, from_epoch(t) if t is not None else None, period.end, quiet)
        if got is not None:
            out[code] = got
    return out


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
