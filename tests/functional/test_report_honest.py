"""Honest report numbers (issue #11): availability counts from each device's first result, a
device without results is "not monitored", devices not deployed are listed apart and never
alert; on both database backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.reports import epoch
from kape_itops.probes.profiles import load_profiles
from kape_itops.probes.service import ProbeService, RunRequest
from kape_itops.reports import alerts, retention
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import Period
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.store.db import Store
from kape_itops.store.report_repo import ReportRepo
from tests.support.report_data import T0, ping, seed, write_run

REPO = Path(__file__).resolve().parents[2]
M5 = dt.timedelta(minutes=5)
HOUR = dt.timedelta(hours=1)


def test_availability_counts_from_each_devices_first_result(store: Store) -> None:
    ids = seed(store, {"A": DeviceKind.SWITCH, "B": DeviceKind.HOTSPOT, "C": DeviceKind.PRINTER})
    write_run(store, T0 - HOUR, [(ids["C"], "ping", "ok", ping(1.0))])  # before the period
    for k in range(48):  # [T0, T0 + 4 h) every 5 minutes
        at = T0 + k * M5
        rows = []
        if k >= 24:  # A is first probed two hours into the period
            rows.append((ids["A"], "ping", "ok", ping(2.0)))
        if not 12 <= k < 24:  # C has a one-hour gap
            rows.append((ids["C"], "ping", "ok", ping(3.0)))
        write_run(store, at, rows)
    rep = build_report(store, Period(T0, T0 + 4 * HOUR), ReportOptions(today=T0.date()))
    (school,) = rep.schools
    dev = {d.asset_tag: d for d in school.devices}
    a, b, c = dev["A"], dev["B"], dev["C"]
    assert a.availability is not None and a.monitored_from == T0 + 2 * HOUR
    assert (a.availability.expected, a.availability.pct_up) == (24, 100.0)
    assert c.availability is not None and c.monitored_from == T0
    assert c.availability.expected == 48
    assert c.availability.pct_up == pytest.approx(75.0)
    assert c.availability.pct_unknown == pytest.approx(25.0)
    assert b.availability is None and not b.monitored  # never probed: not monitored, not 0 %
    assert (school.monitored, rep.devices_monitored, rep.devices_deployed) == (2, 2, 3)
    assert school.availability.expected == 72
    assert rep.availability.pct_up == pytest.approx(100 * 60 / 72)
    trend = [p.v for p in rep.trends.availability["KPT-PSP"]]
    assert trend == [100.0, 0.0, 100.0, 100.0]  # hour 1 is C's gap; A owes nothing before
    md = render_md(rep)
    assert "of 2 monitored devices" in md and "1 deployed devices not monitored" in md
    assert "not monitored" in render_html(rep)


def test_first_result_is_exact_and_survives_pruning(store: Store) -> None:
    ids = seed(store, {"D": DeviceKind.SWITCH})
    d = ids["D"]
    write_run(store, T0 + dt.timedelta(minutes=10), [(d, "ping", "ok", ping(1.0))])
    write_run(store, T0 + 3 * HOUR, [(d, "ping", "ok", ping(1.0))])
    retention.rollup(store)
    with store.session() as s:
        got = ReportRepo(s).first_results([(d, "ping"), (d, "snmp")])
    assert got == {(d, "ping"): epoch(T0) + 600}
    pruned = retention.prune(store, keep=dt.timedelta(days=1), now=T0 + dt.timedelta(days=3))
    assert pruned.results_deleted == 1  # the first result is gone, its hourly bucket stays
    with store.session() as s:
        assert ReportRepo(s).first_results([(d, "ping")]) == {(d, "ping"): epoch(T0)}


def test_devices_not_deployed_are_apart_and_never_alert(store: Store) -> None:
    ids = seed(
        store,
        {"A": DeviceKind.SWITCH, "R": DeviceKind.PRINTER, "S": DeviceKind.LAPTOP},
        extra={"S": {"status": DeviceStatus.IN_STOCK}},
    )
    down = (ids["R"], "ping", "crit", ping(None))
    low = (ids["R"], "snmp", "crit", {"supplies": [{"name": "K", "pct": 1}]})
    for k in range(2):  # R is deployed and down: an alert
        write_run(store, T0 + k * M5, [(ids["A"], "ping", "ok", ping(1.0)), down, low])
    first = alerts.evaluate(store, consecutive=2, now=T0 + 2 * M5)
    assert {p.key for p in first.new} == {"down:R:", "toner_low:R:K"}
    seed(store, {"R": DeviceKind.PRINTER}, extra={"R": {"status": DeviceStatus.IN_REPAIR}})
    for k in range(2, 6):  # in repair, probed on request: still down, still no toner
        write_run(store, T0 + k * M5, [(ids["A"], "ping", "ok", ping(1.0)), down, low])
    later = alerts.evaluate(store, consecutive=1, now=T0 + 6 * M5)
    assert later.new == [] and set(later.cleared) == {"down:R:", "toner_low:R:K"}

    rep = build_report(store, Period(T0, T0 + HOUR), ReportOptions(today=T0.date()))
    assert [p for p in rep.problems if p.asset_tag == "R"] == []
    (school,) = rep.schools
    assert [d.asset_tag for d in school.devices] == ["A"]
    assert [(d.asset_tag, d.status) for d in school.not_deployed] == [
        ("R", DeviceStatus.IN_REPAIR),
        ("S", DeviceStatus.IN_STOCK),
    ]
    assert all(d.availability is None for d in school.not_deployed)
    assert school.not_deployed[0].last_status == "crit"  # its probe result is still shown
    assert rep.availability.expected == 12 and rep.availability.pct_up == pytest.approx(50.0)
    md = render_md(rep)
    assert "## Not deployed" in md and "in repair" in md
    assert 'id="not-deployed"' in render_html(rep)


def test_probe_runs_take_devices_not_deployed_only_on_request(store: Store) -> None:
    seed(
        store,
        {"A": DeviceKind.SWITCH, "R": DeviceKind.PRINTER},
        extra={"R": {"status": DeviceStatus.IN_REPAIR}},
    )
    service = ProbeService(store, "tester", load_profiles(REPO / "probes"))

    def probed(request: RunRequest) -> list[str]:
        plan, _devices, _ids = service.prepare(request)
        return [j.key for j in plan.jobs]

    assert probed(RunRequest()) == ["A"]
    assert probed(RunRequest(tags=("R",))) == ["R"]
    assert probed(RunRequest(include_undeployed=True)) == ["A", "R"]


def test_a_lossy_ping_read_from_rollups_is_not_down(store: Store) -> None:
    """A critical ping that still got replies is a probe finding, not "down", also when the
    report reads the newest result from hourly rollups (the ping kind keeps ``received``)."""
    ids = seed(store, {"A": DeviceKind.SWITCH, "B": DeviceKind.SWITCH})
    lossy = {"sent": 3, "received": 2, "loss_pct": 33.33, "rtt_avg_ms": 4.0}
    for k in range(24):
        write_run(
            store,
            T0 + k * M5,
            [(ids["A"], "ping", "crit", lossy), (ids["B"], "ping", "crit", ping(None))],
        )
    retention.rollup(store)
    rep = build_report(store, Period(T0, T0 + 2 * HOUR), ReportOptions(today=T0.date()))
    kinds = {(p.asset_tag, p.kind.value) for p in rep.problems}
    assert ("B", "down") in kinds
    assert ("A", "down") not in kinds and ("A", "probe_finding") in kinds
