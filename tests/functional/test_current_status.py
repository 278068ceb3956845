"""The web pages' read service (reports/current.py over store/status_reads.py) on SQLite and
PostgreSQL: newest results from both ping tables, freshness, problems and their filters,
paged lists and results, and agreement with the health report's problems."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus, RunStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.problems import ProblemKind, Severity
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.status import LinkState
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.reports import current, retention, sample
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.current import CurrentStatus
from kape_itops.reports.model import Period
from kape_itops.reports.views import ProblemFilter
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PING_DOWN = {"sent": 3, "received": 0, "loss_pct": 100.0}
PING_UP = {"sent": 3, "received": 3, "loss_pct": 0.0, "rtt_avg_ms": 1.5}


def _ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def _seed(store: Store) -> None:
    ctx = ChangeContext("test", "test", NOW)
    devices = {
        "R1": ("S1", DeviceKind.ROUTER, DeviceStatus.DEPLOYED, "Office"),
        "P1": ("S1", DeviceKind.PRINTER, DeviceStatus.DEPLOYED, "Office"),
        "C1": ("S1", DeviceKind.CAMERA, DeviceStatus.DEPLOYED, "Gate"),
        "D1": ("S1", DeviceKind.DESKTOP, DeviceStatus.DEPLOYED, "Lab"),
        "D2": ("S1", DeviceKind.DESKTOP, DeviceStatus.IN_STOCK, None),
        "D3": ("S1", DeviceKind.DESKTOP, DeviceStatus.DEPLOYED, "Lab"),
        "X1": ("S2", DeviceKind.DESKTOP, DeviceStatus.DEPLOYED, None),
    }
    with store.write() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [
                SchoolUpsert("S1", {"name": "One School", "name_km": "សាលាមួយ"}),
                SchoolUpsert("S2", {"name": "Two School"}),
            ],
            ctx,
        )
        ups = []
        for tag, (school, kind, status, room) in devices.items():
            values: dict[str, Any] = {"school": school, "kind": kind, "status": status}
            if room:
                values["room"] = room
            if tag == "D1":
                values["warranty_until"] = (NOW - dt.timedelta(days=3)).date()
            ups.append(DeviceUpsert(tag, values))
        repo.apply_devices(ups, ctx)
    results = [
        ("R1", "ping", ProbeStatus.OK, "up", PING_UP, _ago(1)),
        ("P1", "ping", ProbeStatus.OK, "up", PING_UP, _ago(1)),
        (
            "P1",
            "snmp",
            ProbeStatus.WARN,
            "Black toner at 5 %",
            {"supplies": [{"name": "Black", "pct": 5}], "levels": {"supplies:Black": "warn"}},
            _ago(2),
        ),
        ("C1", "ping", ProbeStatus.OK, "up", PING_UP, _ago(20)),
        ("C1", "ping", ProbeStatus.CRIT, "no reply", PING_DOWN, _ago(10)),
        ("C1", "ping", ProbeStatus.CRIT, "no reply", PING_DOWN, _ago(1)),
        ("D3", "ping", ProbeStatus.OK, "up", PING_UP, _ago(120)),
        ("X1", "ping", ProbeStatus.OK, "up", PING_UP, _ago(10)),
        # newer, and not storable compactly (a TCP fallback's ports): the plain table wins
        ("X1", "ping", ProbeStatus.CRIT, "no port open", {**PING_DOWN, "tcp_ports": [22]}, _ago(2)),
    ]
    with store.write() as s:
        repo_p = ProbeRepo(s)
        ids = repo_p.device_ids(list(devices))
        for tag, probe, status, reason, metrics, at in results:
            run = repo_p.start_run("test", {}, at)
            res = ProbeResult(probe, tag, status, reason, at, 5.0, metrics, asset_tag=tag)
            repo_p.add_results(run, [(res, ids[tag])])
            repo_p.finish_run(run, RunStatus.COMPLETED, finished_at=at)


@pytest.fixture
def seeded(store: Store) -> CurrentStatus:
    _seed(store)
    return CurrentStatus(store, silent_after=6)


def test_overview_counts_newest_pings_of_deployed_devices(seeded: CurrentStatus) -> None:
    view = seeded.overview(NOW)
    tiles = {t.school.code: t for t in view.tiles}
    assert tiles["S1"].states == {
        LinkState.UP: 2,  # R1, P1
        LinkState.DOWN: 1,  # C1
        LinkState.UNKNOWN: 0,
        LinkState.NO_DATA: 2,  # D1 never pinged, D3 last 2 h ago; D2 is in stock
    }
    assert tiles["S2"].states[LinkState.DOWN] == 1  # the newer plain ping result
    assert tiles["S1"].school.name_km == "សាលាមួយ"
    assert tiles["S1"].problems == {Severity.CRIT: 1, Severity.WARN: 1, Severity.INFO: 1}
    assert not tiles["S1"].has_collector and tiles["S1"].last_sync is None
    assert view.totals[LinkState.DOWN] == 2


def test_problems_list_filters_and_down_since(seeded: CurrentStatus) -> None:
    page = seeded.problems(ProblemFilter(), NOW)
    got = {(p.kind, p.asset_tag) for p in page.problems}
    assert got == {
        (ProblemKind.DOWN, "C1"),
        (ProblemKind.DOWN, "X1"),
        (ProblemKind.TONER_LOW, "P1"),
        (ProblemKind.WARRANTY_EXPIRED, "D1"),
    }
    assert [p.severity for p in page.problems][:2] == [Severity.CRIT, Severity.CRIT]
    c1 = next(p for p in page.problems if p.asset_tag == "C1")
    assert c1.since is not None and abs((c1.since - _ago(10)).total_seconds()) < 1
    crit = seeded.problems(ProblemFilter(severity=Severity.CRIT), NOW)
    assert {p.asset_tag for p in crit.problems} == {"C1", "X1"}
    s2 = seeded.problems(ProblemFilter(school="S2"), NOW)
    assert [p.asset_tag for p in s2.problems] == ["X1"]
    toner = seeded.problems(ProblemFilter(kind=ProblemKind.TONER_LOW), NOW)
    assert [p.asset_tag for p in toner.problems] == ["P1"]
    # a window shorter than the newest results' age leaves them out
    recent = seeded.problems(ProblemFilter(since=dt.timedelta(seconds=90)), NOW)
    assert {p.asset_tag for p in recent.problems} == {"C1", "D1"}
    with pytest.raises(NotFoundError):
        seeded.problems(ProblemFilter(school="NOPE"), NOW)
    with pytest.raises(UsageError):
        seeded.problems(ProblemFilter(since=dt.timedelta(0)), NOW)


def test_school_page_devices_paged_and_filtered(seeded: CurrentStatus) -> None:
    view = seeded.school("S1", "1d", now=NOW)
    assert view.total_devices == 6 and view.pages == 1
    assert [d.asset_tag for d in view.devices] == ["C1", "D1", "D3", "P1", "R1", "D2"]
    c1 = next(d for d in view.devices if d.asset_tag == "C1")
    assert c1.ping_status == "crit"
    assert view.states[LinkState.DOWN] == 1 and view.states[LinkState.NO_DATA] == 2
    assert view.toner and view.toner[0].asset_tag == "P1" and view.toner[0].pct == 5.0
    lab = seeded.school("S1", "1d", room="Lab", now=NOW)
    assert [d.asset_tag for d in lab.devices] == ["D1", "D3"]
    printers = seeded.school("S1", "1d", kind=DeviceKind.PRINTER, now=NOW)
    assert [d.asset_tag for d in printers.devices] == ["P1"]
    with pytest.raises(NotFoundError):
        seeded.school("NOPE", now=NOW)
    with pytest.raises(UsageError):
        seeded.school("S1", "2y", now=NOW)


def test_device_view_layers_and_results_pages(seeded: CurrentStatus, store: Store) -> None:
    view = seeded.device("C1", now=NOW)
    assert [r.probe for r in view.layers] == ["ping"]
    assert view.layers[0].status == ProbeStatus.CRIT
    assert [p.kind for p in view.problems] == [ProblemKind.DOWN]
    assert [r.started_at for r in view.results] == [_ago(1), _ago(10), _ago(20)]
    assert not view.has_next
    x1 = seeded.device("X1", now=NOW)
    assert [r.status for r in x1.results] == [ProbeStatus.CRIT, ProbeStatus.OK]  # both tables
    d1 = seeded.device("D1", now=NOW)
    assert d1.warranty is not None and d1.warranty.state == "expired"
    assert d1.changes and d1.changes[0].action.value == "create"
    with pytest.raises(NotFoundError):
        seeded.device("NOPE", now=NOW)
    # 120 more results: pages of 50, newest first, the third page shorter, never more
    with store.write() as s:
        repo = ProbeRepo(s)
        dev = repo.device_ids(["R1"])["R1"]
        run = repo.start_run("test", {}, _ago(600))
        rows = [
            (ProbeResult("ping", "R1", ProbeStatus.OK, "", _ago(600 - k), 5.0, PING_UP), dev)
            for k in range(120)
        ]
        repo.add_results(run, rows)
    p1, p3 = seeded.device("R1", 1, NOW), seeded.device("R1", 3, NOW)
    assert len(p1.results) == 50 and p1.has_next and p1.results[0].started_at == _ago(1)
    assert len(p3.results) == 21 and not p3.has_next
    assert p3.results[-1].started_at == _ago(600)


def test_problems_agree_with_the_health_report(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same sample history and sweeps: the page's problems of devices are the report's
    (one day), in the report's order, page after page (warranties come from SQL, last)."""
    sample.seed_inventory(store, 3, 40)
    end = NOW.replace(minute=0, second=0)
    sample.generate_history(store, end - dt.timedelta(hours=6), end)
    sample.generate_discovery(store, end - dt.timedelta(hours=6), end)
    retention.rollup(store)
    report = build_report(
        store, Period(end - dt.timedelta(days=1), end), ReportOptions(rollup_first=False)
    )
    events = {ProblemKind.REBOOTED, ProblemKind.CONFIG_CHANGED}
    want = [(p.kind, p.asset_tag, p.part) for p in report.problems if p.kind not in events]
    assert {ProblemKind.UNKNOWN_DEVICE, ProblemKind.WARRANTY_EXPIRED} <= {k for k, _, _ in want}
    monkeypatch.setattr(current, "PAGE_SIZE", 7)
    service = CurrentStatus(store)
    got: list[tuple[ProblemKind, str | None, str]] = []
    first = service.problems(ProblemFilter(), end)
    assert first.pages == -(-first.total // 7) > 2
    for n in range(1, first.pages + 1):
        page = service.problems(ProblemFilter(page=n), end)
        assert len(page.problems) == (7 if n < page.pages else page.total - 7 * (n - 1))
        got += [(p.kind, p.asset_tag, p.part) for p in page.problems]
    assert [g for g in got if g[0] not in events] == want
    began = {p.asset_tag: p.since for p in report.problems if p.kind == ProblemKind.DOWN}
    down = service.problems(ProblemFilter(kind=ProblemKind.DOWN), end).problems
    assert began and {p.asset_tag: p.since for p in down} == began  # rollups, then raw
    info = service.problems(ProblemFilter(severity=Severity.INFO), end)
    assert info.total == sum(1 for k, _, _ in want if k.value in INFO_KINDS)
    expired = service.problems(ProblemFilter(kind=ProblemKind.WARRANTY_EXPIRED), end)
    assert expired.total == sum(1 for k, _, _ in want if k == ProblemKind.WARRANTY_EXPIRED)
    assert service.problems(ProblemFilter(page=10**4), end).page == first.pages
    for sc in report.schools:  # the school page's availability is the report's
        view = service.school(sc.code, "1d", now=end)
        assert view.pooled.pct_up == pytest.approx(sc.availability.pct_up, abs=0.01)
        assert view.pooled.pct_down == pytest.approx(sc.availability.pct_down, abs=0.01)
        assert len(view.charts) == 2 and "<polyline" in str(view.charts[0])


INFO_KINDS = {
    "missing_from_network",
    "warranty_expired",
    "warranty_expiring",
    "config_changed",
}


def test_overview_tiles_are_paged_totals_are_not(
    seeded: CurrentStatus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(current, "PAGE_SIZE", 1)
    one, two = seeded.overview(NOW, 1), seeded.overview(NOW, 2)
    assert [t.school.code for t in one.tiles] == ["S1"] and one.pages == 2 and one.schools == 2
    assert [t.school.code for t in two.tiles] == ["S2"]
    assert one.totals == two.totals and one.totals[LinkState.DOWN] == 2
    assert seeded.overview(NOW, 99).page == 2


def test_other_probes_are_looked_for_on_the_kinds_probed_with_them(store: Store) -> None:
    """A probe's newest result is read for the kinds whose profile names it, and for any
    device with its own probe list; ``kinds=None`` reads it everywhere."""
    _seed(store)
    ctx = ChangeContext("test", "test", NOW)
    with store.write() as s:
        InventoryRepo(s).apply_devices([DeviceUpsert("D3", {"probes": ("ping", "snmp")})], ctx)
        repo = ProbeRepo(s)
        ids = repo.device_ids(["D1", "D3"])
        run = repo.start_run("test", {}, _ago(3))
        warn = {"supplies": [{"name": "Black", "pct": 4}], "levels": {"supplies:Black": "warn"}}
        repo.add_results(
            run,
            [
                (ProbeResult("snmp", t, ProbeStatus.WARN, "low", _ago(3), 5.0, warn), ids[t])
                for t in ("D1", "D3")
            ],
        )
    toner = ProblemFilter(kind=ProblemKind.TONER_LOW)
    profiles = CurrentStatus(store)  # desktops are not SNMP-probed by their profile
    assert {p.asset_tag for p in profiles.problems(toner, NOW).problems} == {"P1", "D3"}
    everywhere = CurrentStatus(store, kinds=None)
    assert {p.asset_tag for p in everywhere.problems(toner, NOW).problems} == {"P1", "D1", "D3"}


def test_down_since_reaches_back_through_the_rollups(store: Store) -> None:
    """A device down six hours ago, up five hours ago and down since: the last up is older
    than the raw pings read (only the rollups hold it); the first crit after it is found."""
    _seed(store)
    with store.write() as s:
        repo = ProbeRepo(s)
        dev = repo.device_ids(["D1"])["D1"]
        for minutes, status, metrics in [
            (360, ProbeStatus.CRIT, PING_DOWN),
            (300, ProbeStatus.OK, PING_UP),
        ] + [(m, ProbeStatus.CRIT, PING_DOWN) for m in range(240, 0, -2)]:
            run = repo.start_run("test", {}, _ago(minutes))
            res = ProbeResult("ping", "D1", status, "", _ago(minutes), 5.0, metrics)
            repo.add_results(run, [(res, dev)])
    retention.rollup(store)
    page = CurrentStatus(store).problems(ProblemFilter(kind=ProblemKind.DOWN), NOW)
    since = {p.asset_tag: p.since for p in page.problems}
    assert since["D1"] == _ago(240) and since["C1"] == _ago(10)


def test_an_unknown_host_added_to_the_inventory_is_no_longer_unknown(store: Store) -> None:
    sample.seed_inventory(store, 1, 20)
    end = NOW.replace(minute=0, second=0)
    sample.generate_discovery(store, end - dt.timedelta(hours=6), end)
    service = CurrentStatus(store)
    unknown = ProblemFilter(kind=ProblemKind.UNKNOWN_DEVICE)
    before = {p.part for p in service.problems(unknown, end).problems}
    assert {"24:a4:3c:5e:01:77", "da:a1:19:00:42:01"} <= before
    ctx = ChangeContext("test", "test", NOW)
    with store.write() as s:  # one stored as the inventory writes it, one in capitals
        InventoryRepo(s).apply_devices(
            [
                DeviceUpsert(
                    "NEW-1", {"school": "KPT-PSP", "kind": "other", "mac": "24:a4:3c:5e:01:77"}
                ),
                DeviceUpsert(
                    "NEW-2", {"school": "KPT-PSP", "kind": "other", "mac": "DA:A1:19:00:42:01"}
                ),
            ],
            ctx,
        )
    after = {p.part for p in service.problems(unknown, end).problems}
    assert after == before - {"24:a4:3c:5e:01:77", "da:a1:19:00:42:01"}
    hosts = {h.mac for h in service.school("KPT-PSP", "1d", now=end).unknown}
    assert "24:a4:3c:5e:01:77" not in hosts and "da:a1:19:00:42:01" not in hosts


def test_the_pages_reuse_the_fleet_state_for_a_while(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``reuse_s`` a second view within that time reads no results again; without, or
    once it has passed, the new result shows."""
    _seed(store)
    clock = [1000.0]
    monkeypatch.setattr(current.time, "monotonic", lambda: clock[0])
    kept, fresh = CurrentStatus(store, reuse_s=30), CurrentStatus(store)
    down = ProblemFilter(kind=ProblemKind.DOWN)
    assert {p.asset_tag for p in kept.problems(down, NOW).problems} == {"C1", "X1"}
    with store.write() as s:
        repo = ProbeRepo(s)
        dev = repo.device_ids(["R1"])["R1"]
        run = repo.start_run("test", {}, _ago(0.5))
        res = ProbeResult("ping", "R1", ProbeStatus.CRIT, "no reply", _ago(0.5), 5.0, PING_DOWN)
        repo.add_results(run, [(res, dev)])
    clock[0] += 29
    assert {p.asset_tag for p in kept.problems(down, NOW).problems} == {"C1", "X1"}
    assert {p.asset_tag for p in fresh.problems(down, NOW).problems} == {"C1", "X1", "R1"}
    clock[0] += 2
    assert {p.asset_tag for p in kept.problems(down, NOW).problems} == {"C1", "X1", "R1"}
