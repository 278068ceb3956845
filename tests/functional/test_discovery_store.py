"""Discovery sweeps in the store on both backends: write, latest per scope, first seen, pruning."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.problems import ProblemKind
from kape_itops.errors import NotFoundError
from kape_itops.reports import retention
from kape_itops.reports.build import build_report
from kape_itops.reports.model import Period
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo, record_sweeps
from tests.support.report_data import T0, seed

H = dt.timedelta(hours=1)
MAC_X = "aa:bb:cc:00:00:01"


def sweep(
    at: dt.datetime, *hosts: SweepHost, method: str = "arp", school: str = "KPT-PSP"
) -> SweepRecord:
    return SweepRecord(school, at, 1.5, method, ("10.30.1.0/24",), "tester", hosts, "veth0")


def unknown(ip: str, mac: str | None = None, detail: str | None = None) -> SweepHost:
    return SweepHost(ip, mac, "Acme" if mac else None, None, HostState.UNKNOWN, detail)


def missing(tag: str, ip: str) -> SweepHost:
    return SweepHost(ip, None, None, tag, HostState.MISSING, "camera")


def known(tag: str, ip: str) -> SweepHost:
    return SweepHost(ip, None, None, tag, HostState.KNOWN)


def test_sweep_round_trip_and_latest_per_scope(store: Store) -> None:
    seed(store, {"CAM": DeviceKind.CAMERA})
    ids = record_sweeps(
        store,
        [
            sweep(T0, unknown("10.30.1.50", MAC_X), missing("CAM", "10.30.1.1")),
            sweep(T0 + H, unknown("10.30.1.51"), known("CAM", "10.30.1.1")),
            sweep(T0 + 2 * H, unknown("10.30.1.60", detail="name <Cam>"), method="onvif"),
        ],
    )
    with store.session() as s:
        repo = DiscoveryRepo(s)
        got = repo.sweeps("KPT-PSP")
        assert [w.id for w in got] == ids[::-1]
        oldest = got[-1]
        assert oldest.started_at == T0 and oldest.started_at.tzinfo is not None
        assert (oldest.method, oldest.subnets, oldest.actor, oldest.interface) == (
            "arp",
            ("10.30.1.0/24",),
            "tester",
            "veth0",
        )
        assert oldest.counts == {
            "seen": 1,
            "known": 0,
            "unknown": 1,
            "ip_changed": 0,
            "mac_changed": 0,
            "missing": 1,
        }
        assert oldest.hosts == (
            SweepHost("10.30.1.50", MAC_X, "Acme", None, HostState.UNKNOWN),
            missing("CAM", "10.30.1.1"),
        )
        latest = repo.latest_sweeps(["KPT-PSP"], T0, T0 + 3 * H)
        assert [(w.id, w.scope) for w in latest] == [(ids[1], "network"), (ids[2], "onvif")]
        assert latest[1].hosts[0].detail == "name <Cam>"
        assert [w.id for w in repo.latest_sweeps(["KPT-PSP"], T0, T0 + H)] == [ids[0]]
        assert repo.latest_sweeps(["OTHER"], T0, T0 + 3 * H) == []


def test_first_seen_and_missing_since(store: Store) -> None:
    seed(store, {"CAM": DeviceKind.CAMERA})
    record_sweeps(
        store,
        [
            sweep(T0, unknown("10.30.1.50", MAC_X), known("CAM", "10.30.1.1")),
            sweep(T0 + H, unknown("10.30.1.77", MAC_X), missing("CAM", "10.30.1.1")),
            sweep(T0 + 2 * H, unknown("10.30.1.9"), missing("CAM", "10.30.1.1")),
            sweep(T0 + 3 * H, unknown("10.30.1.9"), missing("CAM", "10.30.1.1"), method="onvif"),
        ],
    )
    with store.session() as s:
        repo = DiscoveryRepo(s)
        end = T0 + 2 * H
        first = repo.unknown_first_seen("KPT-PSP", "network", [MAC_X, "10.30.1.9"], end)
        assert first == {MAC_X: T0, "10.30.1.9": T0 + 2 * H}  # by MAC across IP changes
        assert repo.unknown_first_seen("KPT-PSP", "onvif", ["10.30.1.9"], T0 + 3 * H) == {
            "10.30.1.9": T0 + 3 * H
        }
        assert repo.missing_since("KPT-PSP", "network", ["CAM"], end) == {"CAM": T0 + H}
        assert repo.unknown_first_seen("KPT-PSP", "network", [], end) == {}
        with pytest.raises(NotFoundError, match="school 'NOPE' does not exist"):
            repo.unknown_first_seen("NOPE", "network", [MAC_X], end)

    rep = build_report(store, Period(T0, T0 + 4 * H))
    got = {(p.kind, p.part or p.asset_tag): p for p in rep.problems}
    assert got[(ProblemKind.UNKNOWN_DEVICE, "10.30.1.9")].since == T0 + 2 * H
    assert MAC_X not in {p.part for p in rep.problems}  # not in the latest sweep
    assert got[(ProblemKind.MISSING_FROM_NETWORK, "CAM")].since == T0 + H


def test_unknown_school_is_refused(store: Store) -> None:
    with pytest.raises(NotFoundError, match="school 'NOPE' does not exist"):
        record_sweeps(store, [sweep(T0, school="NOPE")])


def test_retention_prunes_old_sweeps_with_their_hosts(store: Store) -> None:
    seed(store, {"CAM": DeviceKind.CAMERA})
    now = T0 + dt.timedelta(days=40)
    old, recent = record_sweeps(
        store,
        [
            sweep(T0, unknown("10.30.1.50", MAC_X)),
            sweep(now - dt.timedelta(days=2), unknown("10.30.1.51", MAC_X)),
        ],
    )
    stats = retention.prune(store, dt.timedelta(days=30), now=now)
    assert stats.sweeps_deleted == 1
    with store.session() as s:
        repo = DiscoveryRepo(s)
        assert [w.id for w in repo.sweeps()] == [recent]
        first = repo.unknown_first_seen("KPT-PSP", "network", [MAC_X], now)
        assert first == {MAC_X: now - dt.timedelta(days=2)}  # the pruned sighting is gone
    with store.engine.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM discovery_hosts WHERE sweep_id = :i"), {"i": old}
        ).scalar()
    assert n == 0
    assert retention.prune(store, dt.timedelta(days=30), now=now).sweeps_deleted == 0
