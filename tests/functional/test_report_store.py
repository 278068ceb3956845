"""Rollups, retention, the report model and the alert hook on both database backends."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.problems import ProblemKind
from kape_itops.domain.reports import epoch
from kape_itops.errors import ConfigError, UsageError
from kape_itops.reports import alerts, retention, sample
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import Period
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.models import ProbeRollupRow
from kape_itops.store.raw_repo import RawRepo
from kape_itops.store.report_repo import ReportRepo
from tests.support.report_data import T0, ping, seed, write_run

M5 = dt.timedelta(minutes=5)
HOUR = dt.timedelta(hours=1)


def one_hour(store: Store) -> dict[str, int]:
    """Device A over [T0, T0+1h): 9 ok (rtt 1..9 ms), 1 crit, 1 unknown, 1 sample missing."""
    ids = seed(store, {"A": DeviceKind.SWITCH})
    a = ids["A"]
    for k in range(12):
        at = T0 + k * M5
        if k == 11:
            continue  # never stored: a gap
        if k == 9:
            write_run(store, at, [(a, "ping", "crit", ping(None))])
        elif k == 10:
            write_run(store, at, [(a, "ping", "unknown", {})])
        else:
            write_run(store, at, [(a, "ping", "ok", ping(float(k + 1)))])
    return ids


def test_rollup_counts_and_hourly_availability(store: Store) -> None:
    ids = one_hour(store)
    stats = retention.rollup(store)
    assert stats.results_read == 11 and stats.hourly_written == 1 and stats.daily_written == 1
    with store.session() as s:
        (b,) = ReportRepo(s).buckets("hour", epoch(T0), epoch(T0 + HOUR))
    assert (b.device_id, b.start) == (ids["A"], epoch(T0))
    assert (b.counts.ok, b.counts.crit, b.counts.unknown) == (9, 1, 0 + 1)
    assert (b.rtt_count, b.rtt_sum) == (9, 45.0)
    assert b.loss_sum == 100.0 and b.loss_count == 10
    assert b.last_status == "unknown" and b.last_up_at == epoch(T0 + 8 * M5)

    rep = build_report(store, Period(T0, T0 + HOUR), ReportOptions(today=T0.date()))
    (school,) = rep.schools
    (dev,) = school.devices
    assert dev.availability is not None
    assert dev.availability.expected == 12
    assert dev.availability.pct_up == pytest.approx(75.0)
    assert dev.availability.pct_down == pytest.approx(100 / 12)
    assert dev.availability.pct_unknown == pytest.approx(200 / 12)  # 1 unknown + 1 gap
    assert dev.rtt_p50_ms == pytest.approx(5.0, rel=0.01)
    assert dev.rtt_p95_ms == pytest.approx(9.0, rel=0.01)
    assert dev.rtt_avg_ms == pytest.approx(5.0)
    assert dev.loss_pct == pytest.approx(10.0)
    assert school.availability.pct_up == pytest.approx(75.0)
    assert rep.availability.pct_up == pytest.approx(75.0)


def test_rollup_is_idempotent_and_picks_up_new_results(store: Store) -> None:
    ids = one_hour(store)
    retention.rollup(store)
    retention.rollup(store)
    with store.session() as s:
        n = s.scalar(select(func.count(ProbeRollupRow.id)))
    assert n == 2  # one hourly and one daily bucket, not duplicated
    for k in range(12):  # the next hour, all ok
        write_run(store, T0 + HOUR + k * M5, [(ids["A"], "ping", "ok", ping(2.0))])
    retention.rollup(store)
    with store.session() as s:
        repo = ReportRepo(s)
        hours = list(repo.buckets("hour", epoch(T0), epoch(T0 + 2 * HOUR)))
        (day,) = repo.buckets("day", epoch(T0) // 86400 * 86400, epoch(T0) + 86400)
    assert [b.counts.ok for b in hours] == [9, 12]
    assert (day.counts.ok, day.counts.crit, day.counts.unknown, day.rtt_count) == (21, 1, 1, 21)
    rep = build_report(store, Period(T0, T0 + 2 * HOUR), ReportOptions(today=T0.date()))
    assert rep.availability.pct_up == pytest.approx(100 * 21 / 24)


def test_prune_keeps_rollups_and_the_report(store: Store) -> None:
    ids = one_hour(store)
    write_run(store, T0 + 2 * HOUR, [(ids["A"], "ping", "ok", ping(1.0))])
    before = build_report(store, Period(T0, T0 + HOUR), ReportOptions(today=T0.date()))
    now = T0 + dt.timedelta(days=3)
    got = retention.prune(store, dt.timedelta(days=1), now=now)
    assert (got.results_deleted, got.runs_deleted) == (11, 11)
    with store.session() as s:
        assert RawRepo(s).stats()["probe_results"] == 1  # the newest hour stays
        assert s.scalar(select(func.count(ProbeRollupRow.id))) == 3
    after = build_report(store, Period(T0, T0 + HOUR), ReportOptions(today=T0.date()))
    assert after.availability.pct_up == pytest.approx(before.availability.pct_up or -1)
    assert after.schools[0].devices[0].rtt_p95_ms == before.schools[0].devices[0].rtt_p95_ms
    again = retention.prune(store, dt.timedelta(days=1), now=now)
    assert (again.results_deleted, again.runs_deleted) == (0, 0)


def test_prune_never_deletes_what_is_not_rolled_up_and_refuses_bad_keep(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="at least 1 day"):
        retention.prune(store, dt.timedelta(hours=12))
    monkeypatch.setenv("ITOPS_RETENTION_DAYS", "thirty")
    with pytest.raises(ConfigError, match="not a whole number of days"):
        retention.prune(store)
    monkeypatch.setenv("ITOPS_RETENTION_DAYS", "0")
    with pytest.raises(ConfigError, match="must be at least 1"):
        retention.prune(store)
    monkeypatch.setenv("ITOPS_RETENTION_DAYS", "2")
    assert retention.retention_from_env() == dt.timedelta(days=2)
    one_hour(store)
    got = retention.prune(store, now=T0 + dt.timedelta(days=1))  # inside 2 days: nothing goes
    assert got.results_deleted == 0 and got.rollup.results_read == 11


def test_problems_down_since_toner_drift_config(store: Store) -> None:
    ids = seed(
        store,
        {"R": DeviceKind.ROUTER, "P": DeviceKind.PRINTER, "C": DeviceKind.CAMERA},
        extra={"P": {"warranty_until": T0.date() + dt.timedelta(days=10)}},
    )
    for k in range(6):
        at = T0 + k * M5
        down = k >= 3
        write_run(
            store,
            at,
            [
                (ids["R"], "ping", "crit" if down else "ok", ping(None if down else 1.0)),
                (
                    ids["P"],
                    "snmp",
                    "warn",
                    {"supplies": [{"name": "Black <K>", "pct": 7}], "page_count": 100 + 10 * k},
                ),
                (ids["C"], "onvif", "warn", {"clock_drift_s": -30.0, "recording": True}),
            ],
        )
    with store.session() as s:
        assert BackupRepo(s).record(ids["R"], T0 + 2 * M5, "ab" * 32, "/system identity")
    rep = build_report(store, Period(T0, T0 + HOUR), ReportOptions(today=T0.date()))
    got = {(p.kind, p.asset_tag): p for p in rep.problems}
    down = got[(ProblemKind.DOWN, "R")]
    assert down.since == T0 + 3 * M5
    assert got[(ProblemKind.TONER_LOW, "P")].detail == "Black <K> at 7 %"
    assert got[(ProblemKind.CLOCK_DRIFT, "C")].detail == "clock off by -30 s"
    assert got[(ProblemKind.CONFIG_CHANGED, "R")].since == T0 + 2 * M5
    assert got[(ProblemKind.WARRANTY_EXPIRING, "P")].detail.endswith("(in 10 days)")
    assert rep.problems[0].kind == ProblemKind.DOWN
    printer = next(d for d in rep.schools[0].devices if d.asset_tag == "P")
    assert printer.pages_printed == 50
    assert [(x.name, x.pct) for x in printer.supplies] == [("Black <K>", 7.0)]
    camera = next(d for d in rep.schools[0].devices if d.asset_tag == "C")
    assert (camera.recording, camera.clock_drift_s) == (True, -30.0)
    assert (rep.schools[0].cameras_recording, rep.schools[0].cameras_reporting) == (1, 1)
    assert rep.discovery == [] and rep.notes == []  # no sweep stored: no discovery findings


def test_alert_hook_state_lives_in_the_database(store: Store) -> None:
    ids = seed(store, {"A": DeviceKind.HOTSPOT})
    for k in range(3):
        write_run(store, T0 + k * M5, [(ids["A"], "ping", "ok", ping(1.0))])
    first = alerts.evaluate(store, consecutive=2)
    assert first.new == [] and first.runs_evaluated == 2
    write_run(store, T0 + 3 * M5, [(ids["A"], "ping", "crit", ping(None))])
    assert alerts.evaluate(store, consecutive=2).new == []
    write_run(store, T0 + 4 * M5, [(ids["A"], "ping", "crit", ping(None))])
    fresh = Store(store.url)  # a new process would see the same state
    got = alerts.evaluate(fresh, consecutive=2)
    assert [(p.key, p.since) for p in got.new] == [("down:A:", T0 + 3 * M5)]
    assert alerts.evaluate(fresh, consecutive=2).runs_evaluated == 0
    write_run(store, T0 + 5 * M5, [(ids["A"], "ping", "ok", ping(1.0))])
    cleared = alerts.evaluate(fresh, consecutive=2)
    assert cleared.cleared == ["down:A:"] and cleared.tracking == 0
    fresh.dispose()


def test_sample_history_shows_every_problem_kind(store: Store) -> None:
    today = dt.date.today()
    assert sample.seed_inventory(store, schools=2, devices_per_school=20, today=today) == 40
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    gen = sample.generate_history(store, end - dt.timedelta(days=1), end)
    assert gen.runs == 288 and gen.results > 288 * 40
    rep = build_report(store, Period(end - dt.timedelta(days=1), end), ReportOptions(today=today))
    kinds = {p.kind for p in rep.problems}
    assert kinds >= {
        ProblemKind.DOWN,
        ProblemKind.TONER_LOW,
        ProblemKind.DISK_FULL,
        ProblemKind.CLOCK_DRIFT,
        ProblemKind.NOT_RECORDING,
        ProblemKind.INTERFACE_DOWN,
        ProblemKind.REBOOTED,
        ProblemKind.CONFIG_CHANGED,
        ProblemKind.WARRANTY_EXPIRED,
        ProblemKind.WARRANTY_EXPIRING,
    }
    assert 90 < (rep.availability.pct_up or 0) < 100
    assert rep.inventory.total == 40 and rep.inventory.by_school_kind["KPT-PSP"]["camera"] == 4
    assert all(len(pts) == 24 for pts in rep.trends.availability.values())


def test_concurrent_rollups_do_not_conflict(store: Store) -> None:
    one_hour(store)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(3):
                retention.rollup(store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with store.session() as s:
        assert s.scalar(select(func.count(ProbeRollupRow.id))) == 2


def test_concurrent_alert_hooks_report_a_problem_once(store: Store) -> None:
    ids = seed(store, {"A": DeviceKind.HOTSPOT})
    for k in range(2):
        write_run(store, T0 + k * M5, [(ids["A"], "ping", "crit", ping(None))])
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            got.extend(p.key for p in alerts.evaluate(store, consecutive=2).new)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and got == ["down:A:"]
