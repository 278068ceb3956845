"""The current state behind the web pages: overview, problems, one school, one device.

Problems are the report's own rules (:mod:`kape_itops.reports.problems`: each kind's findings
on its newest result, discovery, warranty, silent collectors) applied to the newest result of
each device and probe in the window (``since``, one day by default as for ``itops report
problems``). A result the probe judged ok shows no problem (its status is its worst verdict),
so only warn and crit results are read in full. Every read is bounded: one index seek per
device, device lists paged, period figures from the rollups.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from markupsafe import Markup

from kape_itops.config import Settings
from kape_itops.datafiles import data_folder
from kape_itops.domain.discovery import HostState, StoredSweep
from kape_itops.domain.enums import DeviceKind, EntityType
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import Device
from kape_itops.domain.problems import Observation, Problem, ProblemKind, Severity
from kape_itops.domain.reports import DAY, HOUR, StatusCounts, epoch, from_epoch
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.status import Fleet, LinkState, state_of
from kape_itops.errors import ItopsError, NotFoundError, UsageError
from kape_itops.probes import catalog
from kape_itops.probes.profiles import load_profiles
from kape_itops.reports import views
from kape_itops.reports.calc import AVAILABILITY_PROBES
from kape_itops.reports.charts import line_chart
from kape_itops.reports.model import Period
from kape_itops.reports.problems import (
    Thresholds,
    discovery_problems,
    from_observation,
    sort_problems,
    warranty_problems,
)
from kape_itops.reports.silence import find_silence, silent_after_setting, silent_problem
from kape_itops.reports.trends import Point
from kape_itops.reports.views import PAGE_SIZE, ProblemFilter
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.fleet_reads import FleetReads
from kape_itops.store.period_reads import PeriodReads
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.site_reads import SiteReads
from kape_itops.store.status_reads import StatusReads
from kape_itops.store.sweep_reads import SweepReads

__all__ = ["PERIODS", "CurrentStatus"]

PERIODS = {"1d": dt.timedelta(days=1), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
"""The school page's periods."""
GRAINS = {"1d": ("hour", HOUR), "7d": ("day", DAY), "30d": ("day", DAY)}
"""The rollup grain each period reads: daily buckets beyond one day keep a school's page to
a few buckets per device (the health report reads hourly ones up to 8 days)."""
MAX_PAGE = 10_000
KEPT_MAX = 64
"""Fleet states kept for reuse (per school and window; the oldest go first)."""
_KEPT: dict[tuple[object, ...], tuple[float, Fleet, list[Problem]]] = {}
_KEPT_LOCK = threading.Lock()
OTHER_PROBES = tuple(n for n in catalog.names() if n != "ping")


class CurrentStatus:
    """Read-side page models over ``store`` (times shown in ``tz`` by the pages)."""

    def __init__(
        self,
        store: Store,
        *,
        interval: dt.timedelta = dt.timedelta(minutes=5),
        silent_after: int | None = None,
        thresholds: Thresholds | None = None,
        tz: dt.tzinfo = dt.UTC,
        kinds: Mapping[str, Sequence[str]] | bool | None = True,
        reuse_s: float = 0.0,
    ) -> None:
        """``kinds``: probe → the device kinds probed with it (a device with its own probe
        list always counts); True reads them from the probe profiles (``ITOPS_DATA`` over
        the shipped ones), None looks for every probe on every device. ``reuse_s``: the
        fleet's state and problems found by this process less than that many seconds ago
        (for the same store, school and window) are used again: the web pages and
        ``/api/v1/problems`` pass 10 s."""
        self.store = store
        self.reuse_s = reuse_s
        self.kinds: Mapping[str, Sequence[str]] | None = (
            probe_kinds(str(Settings().data_dir)) if kinds is True else None
        )
        if isinstance(kinds, Mapping):
            self.kinds = kinds
        self.interval = interval
        self.quiet = interval * (silent_after or silent_after_setting())
        self.th = thresholds or Thresholds()
        self.tz = tz

    # -- problems, shared --------------------------------------------------------------------
    def _problems(
        self, reads: StatusReads, school: str | None, since: dt.datetime, now: dt.datetime
    ) -> tuple[Fleet, list[Problem]]:
        """The fleet's state (of ``school``) and every current problem but the warranties
        (those are counted and paged in SQL: they sort last), most severe first; with
        ``reuse_s``, what this process found for the same question that recently."""
        if self.reuse_s <= 0:
            return self._find(reads, school, since, now)
        kinds = tuple(sorted((k, tuple(v)) for k, v in (self.kinds or {}).items()))
        key = (str(self.store.engine.url), school, now - since, self.quiet, self.th, kinds)
        with _KEPT_LOCK:
            kept = _KEPT.get(key)
        if kept is not None and time.monotonic() - kept[0] < self.reuse_s:
            return kept[1], kept[2]
        fleet, found = self._find(reads, school, since, now)
        with _KEPT_LOCK:
            _KEPT[key] = (time.monotonic(), fleet, found)
            while len(_KEPT) > KEPT_MAX:
                del _KEPT[next(iter(_KEPT))]
        return fleet, found

    def _find(
        self, reads: StatusReads, school: str | None, since: dt.datetime, now: dt.datetime
    ) -> tuple[Fleet, list[Problem]]:
        s = reads.s
        fleet = FleetReads(s).fleet(OTHER_PROBES, since, self._fresh_from(now), school, self.kinds)
        observed = reads.ping_observations(fleet.bad_pings) + fleet.bad_results
        found: dict[str, Problem] = {}
        for obs in observed:
            for p in from_observation(obs, self.th):
                found.setdefault(p.key, p)
        out = list(found.values())
        sweeps = SweepReads(s).newest(since, now, school)
        down = {p.asset_tag for p in out if p.kind == ProblemKind.DOWN and p.asset_tag}
        out += discovery_problems(sweeps, _sweep_devices(SweepReads(s), sweeps), {}, {}, down)
        codes = (school,) if school else None
        for sync in SiteReads(s).schools(codes, runs=False).values():
            silence = find_silence(sync, None, now, self.quiet)
            if silence is not None:
                out.append(silent_problem(silence, self.tz))
        return fleet, sort_problems(out)

    def _days(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """Today (in ``tz``) and the last day a warranty counts as expiring."""
        today = now.astimezone(self.tz).date()
        return today, today + dt.timedelta(days=self.th.warranty_days)

    def _severities(
        self, reads: StatusReads, found: list[Problem], now: dt.datetime, school: str | None
    ) -> dict[str, dict[Severity, int]]:
        sev = views.severity_counts(found)
        for code, (old, soon) in reads.warranty_counts(*self._days(now), school).items():
            sev.setdefault(code, dict.fromkeys(Severity, 0))[Severity.INFO] += old + soon
        return sev

    def _fresh_from(self, now: dt.datetime) -> dt.datetime:
        return now - self.quiet

    # -- pages -----------------------------------------------------------------------------
    def overview(self, now: dt.datetime | None = None, page: int = 1) -> views.Overview:
        """One tile per school (50 a page, by code): devices up/down/unknown/no data,
        problems by severity, the collector's last sync ("never" without an enrolled site)."""
        now = now or dt.datetime.now(dt.UTC)
        fresh = self._fresh_from(now)
        with self.store.session() as s:
            reads = StatusReads(s)
            schools = reads.schools()
            fleet, found = self._problems(reads, None, now - dt.timedelta(days=1), now)
            sev = self._severities(reads, found, now, None)
            syncs = SiteReads(s).schools(runs=False)
        counts = fleet.counts
        tiles = [
            views.SchoolTile(
                x,
                counts.get(x.code, dict.fromkeys(LinkState, 0)),
                sev.get(x.code, dict.fromkeys(Severity, 0)),
                x.code in syncs,
                syncs[x.code].last_sync_at if x.code in syncs else None,
            )
            for x in schools
        ]
        totals = {st: sum(t.states[st] for t in tiles) for st in LinkState}
        psum = {sv: sum(t.problems[sv] for t in tiles) for sv in Severity}
        shown, page = views.page_slice(tiles, page, PAGE_SIZE)
        pages = views.page_count(len(tiles), PAGE_SIZE)
        return views.Overview(shown, totals, psum, fresh, now, page, pages, len(tiles))

    def problems(self, flt: ProblemFilter, now: dt.datetime | None = None) -> views.ProblemPage:
        """Current problems with the filter's school, kind, severity and window, paged; a
        down problem on the page says since when (the first crit after the last ok)."""
        now = now or dt.datetime.now(dt.UTC)
        if flt.since <= dt.timedelta(0):
            raise UsageError("since must be a positive duration")
        today, until = self._days(now)
        expired = _warranty_part(flt)
        with self.store.session() as s:
            reads = StatusReads(s)
            schools = reads.schools()
            if flt.school is not None and flt.school not in {x.code for x in schools}:
                raise NotFoundError(f"school '{flt.school}' does not exist")
            fleet, found = self._problems(reads, flt.school, now - flt.since, now)
            kept = views.filter_problems(found, flt)
            counts = reads.warranty_counts(today, until, flt.school) if expired != () else {}
            n_warranty = sum(
                (old if expired in (None, True) else 0) + (soon if expired in (None, False) else 0)
                for old, soon in counts.values()
            )
            total = len(kept) + n_warranty
            page = min(max(1, flt.page), views.page_count(total, PAGE_SIZE))
            start = (page - 1) * PAGE_SIZE
            shown = kept[start : start + PAGE_SIZE]
            if len(shown) < PAGE_SIZE and n_warranty and isinstance(expired, bool | None):
                due = reads.warranty_slice(
                    today,
                    until,
                    school=flt.school,
                    expired=expired,
                    offset=max(0, start - len(kept)),
                    limit=PAGE_SIZE - len(shown),
                )
                shown += warranty_problems(due, today, self.th.warranty_days)
            ids = {st.asset_tag: st.device_id for st in fleet.bad_pings}
            down = [
                ids[p.asset_tag] for p in shown if p.kind == ProblemKind.DOWN and p.asset_tag in ids
            ]
            began = reads.down_since(down)
        shown = [
            dataclasses.replace(p, since=began.get(ids[p.asset_tag], p.since))
            if p.kind == ProblemKind.DOWN and p.asset_tag in ids
            else p
            for p in shown
        ]
        flt = dataclasses.replace(flt, page=page)
        return views.ProblemPage(
            shown, total, page, views.page_count(total, PAGE_SIZE), flt, schools
        )

    def school(
        self,
        code: str,
        period: str = "7d",
        *,
        page: int = 1,
        room: str | None = None,
        kind: DeviceKind | None = None,
        now: dt.datetime | None = None,
        titles: tuple[str, str] = ("Ping answered, per cent", "Round trip, ms"),
    ) -> views.SchoolView:
        """One school: devices by room and kind now, availability and trends over ``period``
        (1d, 7d, 30d), cameras recording, toner, NVR disks, unknown devices; devices paged."""
        now = now or dt.datetime.now(dt.UTC)
        if period not in PERIODS:
            raise UsageError(f"period must be one of {', '.join(PERIODS)}")
        grain, bucket_s = GRAINS[period]
        start, end = epoch(now - PERIODS[period]) // bucket_s * bucket_s, epoch(now)
        span = Period(from_epoch(start), now)
        fresh = self._fresh_from(now)
        page = min(max(1, page), MAX_PAGE)
        with self.store.session() as s:
            reads = StatusReads(s)
            sc = reads.school(code)
            if sc is None:
                raise NotFoundError(f"school '{code}' does not exist")
            states = reads.ping_states(code)
            _fleet, found = self._problems(reads, code, now - dt.timedelta(days=1), now)
            sev = self._severities(reads, found, now, code)
            lines, total = reads.device_lines(
                code, room=room, kind=kind, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
            )
            totals = PeriodReads(s).probe_totals(code, grain, start, end, AVAILABILITY_PROBES)
            trend = PeriodReads(s).trend(code, grain, start, end)
            watermark = PeriodReads(s).rollup_watermark()
            cams = reads.newest_observations(["onvif"], school=code, kinds=[DeviceKind.CAMERA])
            printers = reads.newest_observations(["snmp"], school=code, kinds=[DeviceKind.PRINTER])
            nvrs = reads.newest_observations(["snmp", "onvif"], school=code, kinds=[DeviceKind.NVR])
            sweeps = SweepReads(s).newest(now - dt.timedelta(days=30), now, code)
            unknown = views.unknown_hosts(sweeps, _sweep_devices(SweepReads(s), sweeps))
            room_names = reads.rooms(code)
        avail = views.device_availability(
            totals,
            AVAILABILITY_PROBES,
            start=start,
            end=end,
            bucket_s=bucket_s,
            interval_s=int(self.interval.total_seconds()),
        )
        recording = {o.asset_tag: o.metrics.get("recording") for o in cams}
        return views.SchoolView(
            school=sc,
            period=period,
            start=span.start,
            end=span.end,
            states={
                st: sum(1 for x in states if state_of(x.status, x.at, fresh) == st)
                for st in LinkState
            },
            rooms=views.room_matrix(states, fresh),
            room_names=room_names,
            devices=lines,
            availability={t: a for t, a in avail.items() if t in {x.asset_tag for x in lines}},
            page=min(page, views.page_count(total, PAGE_SIZE)),
            pages=views.page_count(total, PAGE_SIZE),
            total_devices=total,
            pooled=views.pooled(avail.values()),
            charts=self._charts(trend, bucket_s, titles),
            cameras_recording=sum(1 for v in recording.values() if v is True),
            cameras_reporting=sum(1 for v in recording.values() if isinstance(v, bool)),
            cameras_not_recording=sorted(t for t, v in recording.items() if v is False)[:PAGE_SIZE],
            toner=views.toner(printers)[:PAGE_SIZE],
            nvr_disk=views.disks(nvrs),
            unknown=unknown[:PAGE_SIZE],
            problems=sev.get(code, dict.fromkeys(Severity, 0)),
            counted_until=min(watermark, now) if watermark else None,
            room=room,
            kind=kind,
        )

    def _charts(
        self,
        trend: list[tuple[int, StatusCounts, float, int]],
        step: int,
        titles: tuple[str, str],
    ) -> list[Markup]:
        avail: list[Point] = []
        rtt: list[Point] = []
        for t, c, rtt_sum, rtt_n in trend:
            avail.append(Point(t, 100.0 * (c.ok + c.warn) / c.total if c.total else None))
            rtt.append(Point(t, rtt_sum / rtt_n if rtt_n else None))
        return [
            line_chart(
                {"up": avail},
                title=titles[0],
                unit=" %",
                y_min=0,
                y_max=100,
                step_s=step,
                tz=self.tz,
            ),
            line_chart({"rtt": rtt}, title=titles[1], unit=" ms", y_min=0, step_s=step, tz=self.tz),
        ]

    def device(self, tag: str, page: int = 1, now: dt.datetime | None = None) -> views.DeviceView:
        """Every field, the newest result per probe, results (paged, newest first), backup
        versions, change history and warranty of device ``tag``."""
        now = now or dt.datetime.now(dt.UTC)
        page = min(max(1, page), MAX_PAGE)
        with self.store.session() as s:
            reads = StatusReads(s)
            d = reads.device(reads.stored_tag(tag) or tag)  # tags are case-insensitive
            if d is None:
                raise NotFoundError(f"no device with asset tag '{tag}'")
            sc = reads.school(d.school)
            latest = ProbeRepo(s).latest_results(catalog.names(), [d.asset_tag])
            got = reads.results_page(d.asset_tag, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1)
            backups = list(reversed(BackupRepo(s).history(d.asset_tag)))[:PAGE_SIZE]
            changes = reads.history(EntityType.DEVICE, d.asset_tag, limit=100)
        layers = sorted(
            latest.values(),
            key=lambda r: catalog.names().index(r.probe) if r.probe in catalog.names() else 99,
        )
        problems = sort_problems(
            p for r in layers for p in from_observation(_observation(d, r), self.th)
        )
        today = now.astimezone(self.tz).date()
        return views.DeviceView(
            device=d,
            school=sc,
            layers=layers,
            problems=problems,
            results=got[:PAGE_SIZE],
            page=page,
            has_next=len(got) > PAGE_SIZE,
            backups=backups,
            changes=list(reversed(changes)),
            warranty=views.warranty_of(d, today, self.th.warranty_days),
            fields=views.device_fields(d),
        )


@functools.lru_cache(maxsize=4)
def probe_kinds(data_dir: str) -> dict[str, tuple[str, ...]] | None:
    """Probe → the device kinds whose profile names it, from the probe profiles of
    ``data_dir`` over the shipped ones (read once); None when they cannot be read."""
    try:
        profiles = load_profiles(data_folder(Path(data_dir)).area("probes"))
    except ItopsError:
        return None
    out: dict[str, list[str]] = {}
    for kind, profile in profiles.kinds.items():
        for probe in profile.probes:
            out.setdefault(probe, []).append(kind.value)
    return {probe: tuple(sorted(k)) for probe, k in out.items()}


def _warranty_part(flt: ProblemFilter) -> bool | tuple[()] | None:
    """Which warranty problems the filter keeps: expired (True), expiring (False), both (None)
    or none (``()``)."""
    if flt.severity not in (None, Severity.INFO):
        return ()
    if flt.kind is None:
        return None
    if flt.kind == ProblemKind.WARRANTY_EXPIRED:
        return True
    return False if flt.kind == ProblemKind.WARRANTY_EXPIRING else ()


def _observation(d: Device, r: ProbeResult) -> Observation:
    return Observation(d.asset_tag, d.school, r.probe, r.status, r.reason, r.started_at, r.metrics)


def _sweep_devices(reads: SweepReads, sweeps: Iterable[StoredSweep]) -> list[Device]:
    """The devices a sweep's unknown and missing hosts may be (by MAC, IP at that school, or
    tag): the discovery rules match an IP only at the host's own school."""
    macs: set[str] = set()
    ips: set[tuple[str, str]] = set()
    tags: set[str] = set()
    for w in sweeps:
        for h in w.hosts:
            if h.state == HostState.UNKNOWN:
                if h.mac:
                    with contextlib.suppress(FieldError):
                        macs.add(parse_mac(h.mac))
                ips.add((w.school, h.ip))
            elif h.state == HostState.MISSING and h.asset_tag:
                tags.add(h.asset_tag)
    return reads.devices_for(sorted(macs), sorted(ips), sorted(tags))
