"""Runs batches are built before the write lock: odd text survives COPY, and a device added or
moved to another school between the preparation and the lock is seen by the locked path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert
from kape_itops.domain.sync import Site
from kape_itops.errors import ForbiddenError
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.models import PingResultRow, ProbeResultRow, ProbeRunRow
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.sync import keys
from kape_itops.sync.server import SyncServer
from tests.support.sync_batches import PING_METRICS, T0, batch, encode, run, seed

ODD = "tab\there, new\nline, cr\rback\\slash \\N \\. «ខ្មែរ»"


def _joined(store: Store, server: SyncServer) -> Site:
    seed(store)
    _, public = keys.new_key_pair()
    grant = server.join(server.enroll("KEP-A").token, public, "collector-a", "0.1.0")
    return server.authenticate(grant.credential)


def _count(store: Store, table: Any) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _device(store: Store, tag: str, school: str) -> None:
    ctx = ChangeContext("test", "test", T0)
    with store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert(tag, {"kind": DeviceKind("switch"), "school": school, "ip": "10.9.0.1"})],
            ctx,
        )


def test_odd_text_comes_back_as_sent(store: Store) -> None:
    server = SyncServer(store, "admin")
    site = _joined(store, server)
    item = run(1, tags=("A-1", "A-2", None, "A-1"))
    item["note"] = ODD
    item["selection"] = {"why": ODD}
    r = item["results"]
    r["target"][1] = ODD  # a ping whose target is neither tag nor address: kept compactly
    r["reason"][0] = ODD
    r["probe"][3], r["method"][3] = "snmp", ODD
    r["metrics"][3] = {ODD: [ODD, None, 1.5, {"n": "\\N"}]}
    assert server.ingest(site, encode(batch(site.uid, "runs", [item]))).committed == 1
    assert _count(store, PingResultRow) == 2 and _count(store, ProbeResultRow) == 2
    with store.session() as s:
        rid = int(s.scalar(select(ProbeRunRow.id)) or 0)
        got = ProbeRepo(s).results(rid)
        stored = ProbeRepo(s).run(rid)
    assert stored is not None and stored.note == ODD and stored.selection == {"why": ODD}
    sent = sorted(zip(r["at"], r["target"], r["reason"], r["method"], r["metrics"], strict=True))
    back = sorted(
        (x.started_at.timestamp(), x.target, x.reason, x.method, dict(x.metrics)) for x in got
    )
    assert [(round(a, 6), *rest) for a, *rest in back] == sent
    assert [x.asset_tag for x in sorted(got, key=lambda x: x.started_at)] == [
        "A-1",
        "A-2",
        None,
        "A-1",
    ]


class _Meddling(SyncServer):
    """Changes the inventory right after a batch was prepared, before the write lock."""

    def __init__(self, store: Store, meddle: Any) -> None:
        super().__init__(store, "admin")
        self.meddle = meddle

    def _prepare(self, site: Site, items: list[dict[str, Any]]) -> Any:
        ready = super()._prepare(site, items)
        self.meddle()
        return ready


def test_a_device_added_meanwhile_gets_its_results(store: Store) -> None:
    server = _Meddling(store, lambda: _device(store, "A-9", "KEP-A"))
    site = _joined(store, server)
    server.ingest(site, encode(batch(site.uid, "runs", [run(1, tags=("A-1", "A-9"))])))
    assert _count(store, PingResultRow) == 2 and _count(store, ProbeResultRow) == 0
    with store.session() as s:
        got = ProbeRepo(s).results(int(s.scalar(select(ProbeRunRow.id)) or 0))
    assert sorted(x.asset_tag or "" for x in got) == ["A-1", "A-9"]
    assert all(dict(x.metrics) == PING_METRICS for x in got)


def test_a_device_moved_to_another_school_meanwhile_is_refused(store: Store) -> None:
    server = _Meddling(store, lambda: _device(store, "A-2", "KEP-B"))
    site = _joined(store, server)
    with pytest.raises(ForbiddenError, match="A-2"):
        server.ingest(site, encode(batch(site.uid, "runs", [run(1)])))
    assert _count(store, ProbeRunRow) == 0 and _count(store, PingResultRow) == 0
    assert server.events(kind="refused")


def test_prepared_and_late_times_are_exact(store: Store) -> None:
    server = SyncServer(store, "admin")
    site = _joined(store, server)
    item = run(1, at=T0 + dt.timedelta(microseconds=123457), tags=("A-1", None))
    server.ingest(site, encode(batch(site.uid, "runs", [item])))
    with store.session() as s:
        got = ProbeRepo(s).results(int(s.scalar(select(ProbeRunRow.id)) or 0))
    want = [round(a * 1_000_000) for a in item["results"]["at"]]
    assert sorted(round(x.started_at.timestamp() * 1_000_000) for x in got) == want
