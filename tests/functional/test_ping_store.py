"""Ping results in the compact table read back exactly as written, mixed with other results."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.icmp.evaluate import classify, summarize
from kape_itops.store import probe_repo
from kape_itops.store.db import Store
from kape_itops.store.models import PingResultRow, ProbeResultRow
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.raw_repo import RawRepo
from kape_itops.store.report_repo import ReportRepo
from tests.support.report_data import T0, seed


def _ping(tag: str, at: dt.datetime, rtts: list[float | None], **kw: object) -> ProbeResult:
    stats = summarize(rtts)
    status, reason = classify(stats, {})
    metrics: dict[str, object] = {**stats.metrics(), **kw}
    return ProbeResult(
        "ping", "127.0.0.2", status, reason, at, 3.14159265, metrics, "icmp-raw", tag
    )


def test_results_read_back_identical_from_both_tables(store: Store) -> None:
    ids = seed(store, {"A": DeviceKind.CAMERA, "B": DeviceKind.PRINTER})
    t = T0 + dt.timedelta(microseconds=654321)
    written = [
        _ping("A", t, [1.25, 2.5, None]),
        ProbeResult("snmp", "B", ProbeStatus.OK, "fine", t, 9.5, {"uptime_s": 5}, "snmp-v2c", "B"),
        _ping("B", t + dt.timedelta(seconds=1), [None, None, None]),
        _ping("A", t + dt.timedelta(seconds=2), [3.0], tcp_ports=[80]),  # kept as it is
        ProbeResult("ping", "x", ProbeStatus.UNKNOWN, "cannot ping: boom", t, 0.5, {}, None, "A"),
    ]
    with store.session() as s:
        repo = ProbeRepo(s)
        run = repo.start_run("tester", {}, t)
        repo.add_results(run, [(r, ids[r.asset_tag or ""]) for r in written])
    with store.session() as s:
        repo = ProbeRepo(s)
        assert s.scalar(select(func.count()).select_from(PingResultRow)) == 2
        assert s.scalar(select(func.count(ProbeResultRow.id))) == 3  # + a duplicate key
        back = repo.results(run)
        latest = repo.latest_results(["ping", "snmp"])
        stats = RawRepo(s).stats()
    assert sorted(back, key=repr) == sorted(written, key=repr)
    assert latest[("A", "ping")] == written[3]
    assert latest[("B", "ping")] == written[2]
    assert latest[("B", "snmp")] == written[1]
    assert stats["probe_results"] == 5
    assert stats["raw_oldest"] == t and stats["raw_newest"] == t + dt.timedelta(seconds=2)


def test_down_since_and_prune_see_compact_results(store: Store) -> None:
    ids = seed(store, {"A": DeviceKind.CAMERA})
    with store.session() as s:
        repo = ProbeRepo(s)
        for i, rtts in enumerate([[1.0], [2.0], [None], [None]]):
            at = T0 + dt.timedelta(minutes=5 * i)
            run = repo.start_run("tester", {}, at)
            repo.add_results(run, [(_ping("A", at, rtts), ids["A"])])
    with store.session() as s:
        since = ReportRepo(s).down_since(ids["A"], "ping", T0 + dt.timedelta(hours=1))
        assert since == T0 + dt.timedelta(minutes=10)
        assert RawRepo(s).prune(T0 + dt.timedelta(minutes=6)) == (2, 2)
        assert ProbeRepo(s).latest_results(["ping"])[("A", "ping")].status == ProbeStatus.CRIT


def test_latest_pings_in_several_look_up_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(store, {"A": DeviceKind.CAMERA, "B": DeviceKind.PRINTER, "C": DeviceKind.ROUTER})
    monkeypatch.setattr(probe_repo, "_SEEKS", 2)
    want = {}
    with store.session() as s:
        repo = ProbeRepo(s)
        for i in range(3):
            at = T0 + dt.timedelta(minutes=5 * i, microseconds=i)
            run = repo.start_run("tester", {}, at)
            batch = [_ping(tag, at, [1.0 + i]) for tag in ("A", "B", "C")]
            repo.add_results(run, [(r, ids[r.asset_tag or ""]) for r in batch])
            want = {(r.asset_tag, "ping"): r for r in batch}
    with store.session() as s:
        assert ProbeRepo(s).latest_results(["ping"]) == want
        assert ProbeRepo(s).latest_results(["ping"], ["C"]) == {("C", "ping"): want[("C", "ping")]}
