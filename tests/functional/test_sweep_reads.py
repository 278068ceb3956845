"""The discovery reads behind the web pages (store/sweep_reads.py) on SQLite and PostgreSQL:
an unknown host without a MAC is known only by a device with its IP at the same school."""

from __future__ import annotations

import datetime as dt

from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.problems import ProblemKind
from kape_itops.reports.current import CurrentStatus
from kape_itops.reports.views import ProblemFilter
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import record_sweeps
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.sweep_reads import SweepReads

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _add(store: Store, tag: str, school: str, **values: str) -> None:
    with store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert(tag, {"school": school, "kind": DeviceKind.OTHER, **values})],
            ChangeContext("test", "test", NOW),
        )


def test_unknown_hosts_match_ips_at_their_own_school_only(store: Store) -> None:
    with store.write() as s:
        InventoryRepo(s).apply_schools(
            [SchoolUpsert("S1", {"name": "One"}), SchoolUpsert("S2", {"name": "Two"})],
            ChangeContext("test", "test", NOW),
        )
    hosts = (
        SweepHost("10.0.0.9", None, None, None, HostState.UNKNOWN),
        SweepHost("10.0.0.8", "aa:bb:cc:00:00:08", "Acme", None, HostState.UNKNOWN),
    )
    at = NOW - dt.timedelta(minutes=10)
    record_sweeps(store, [SweepRecord("S1", at, 1.0, "arp", ("10.0.0.0/24",), "t", hosts, None)])
    _add(store, "OTHER-9", "S2", ip="10.0.0.9", mac="aa:bb:cc:00:00:99")  # same IP elsewhere
    _add(store, "OTHER-8", "S2", ip="10.0.0.8")
    service = CurrentStatus(store)
    unknown = ProblemFilter(kind=ProblemKind.UNKNOWN_DEVICE)
    assert {p.part for p in service.problems(unknown, NOW).problems} == {
        "10.0.0.9",
        "aa:bb:cc:00:00:08",
    }
    with store.session() as s:
        reads = SweepReads(s)
        (sweep,) = reads.newest(NOW - dt.timedelta(days=1), NOW)
        assert sweep.school == "S1" and sweep.hosts == hosts
        found = reads.devices_for(["aa:bb:cc:00:00:08"], [("S1", "10.0.0.9")], ["OTHER-8"])
        assert [(d.asset_tag, d.school, d.ip, d.status) for d in found] == [
            ("OTHER-8", "S2", "10.0.0.8", DeviceStatus.IN_STOCK)
        ]
    _add(store, "HERE-9", "S1", ip="10.0.0.9", status=DeviceStatus.DEPLOYED)
    assert {p.part for p in service.problems(unknown, NOW).problems} == {"aa:bb:cc:00:00:08"}
    assert [h.ip for h in service.school("S1", "1d", now=NOW).unknown] == ["10.0.0.8"]
