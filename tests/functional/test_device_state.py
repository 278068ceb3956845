"""``device_state`` (each device's newest result per probe) kept by every write of results, on
SQLite and PostgreSQL: a local run, a synced batch, a late older result, pruning, and the
migration's backfill against the newest results read from the result tables themselves."""

from __future__ import annotations

import datetime as dt
import importlib

from sqlalchemy import delete, select

from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.store.db import Store
from kape_itops.store.models import DeviceRow, DeviceStateRow, ProbeRunRow
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.raw_repo import RawRepo
from kape_itops.sync import keys
from kape_itops.sync.server import SyncServer
from tests.support.sync_batches import T0, batch, encode, run, seed

MIGRATION = importlib.import_module("kape_itops.store.migrations.versions.0009_device_state")
UP = {"sent": 3, "received": 3, "loss_pct": 0.0, "rtt_avg_ms": 1.5}


def _state(store: Store) -> dict[tuple[str, str], tuple[dt.datetime, str, str | None]]:
    st = DeviceStateRow
    q = select(DeviceRow.asset_tag, st).join(DeviceRow, DeviceRow.id == st.device_id)
    with store.session() as s:
        return {
            (tag, row.probe): (
                dt.datetime.fromtimestamp(row.at_us / 1e6, dt.UTC),
                row.status,
                row.reason,
            )
            for tag, row in s.execute(q)
        }


def _local(store: Store, results: list[ProbeResult]) -> None:
    with store.write() as s:
        repo = ProbeRepo(s)
        ids = repo.device_ids([r.asset_tag or "" for r in results])
        rid = repo.start_run("test", {})
        repo.add_results(rid, [(r, ids.get(r.asset_tag or "")) for r in results])
        repo.finish_run(rid, RunStatus.COMPLETED)


def _res(
    probe: str, tag: str, status: ProbeStatus, at: dt.datetime, reason: str = ""
) -> ProbeResult:
    metrics = dict(UP) if probe == "ping" else {"uptime_s": 5}
    return ProbeResult(probe, tag, status, reason, at, 5.0, metrics, asset_tag=tag)


def test_a_local_run_updates_the_state_in_its_transaction(store: Store) -> None:
    seed(store)
    t1 = T0 + dt.timedelta(minutes=1)
    _local(
        store, [_res("ping", "A-1", ProbeStatus.OK, T0), _res("snmp", "A-1", ProbeStatus.OK, T0)]
    )
    odd = ProbeResult("ping", "A-1", ProbeStatus.CRIT, "odd", t1, 5.0, {"x": 1}, asset_tag="A-1")
    _local(store, [odd, _res("snmp", "A-1", ProbeStatus.WARN, t1, "low toner")])
    assert _state(store) == {
        ("A-1", "ping"): (t1, "crit", "odd"),  # a plain ping newer than the compact one
        ("A-1", "snmp"): (t1, "warn", "low toner"),
    }


def test_a_late_older_result_does_not_overwrite_a_newer_state(store: Store) -> None:
    seed(store)
    new, old = T0 + dt.timedelta(hours=1), T0
    _local(
        store, [_res("ping", "A-1", ProbeStatus.OK, new), _res("snmp", "A-1", ProbeStatus.OK, new)]
    )
    _local(
        store,
        [_res("ping", "A-1", ProbeStatus.CRIT, old), _res("snmp", "A-1", ProbeStatus.CRIT, old)],
    )
    assert _state(store) == {("A-1", "ping"): (new, "ok", None), ("A-1", "snmp"): (new, "ok", "")}
    server = SyncServer(store, "admin")
    _, public = keys.new_key_pair()
    site = server.authenticate(
        server.join(server.enroll("KEP-A").token, public, "c", "0.1.0").credential
    )
    late = run(1, at=old - dt.timedelta(days=1), tags=("A-1",))
    late["results"]["status"] = ["crit"]
    assert server.ingest(site, encode(batch(site.uid, "runs", [late]))).committed == 1
    assert _state(store)[("A-1", "ping")] == (new, "ok", None)


def test_a_synced_batch_updates_the_state(store: Store) -> None:
    seed(store)
    server = SyncServer(store, "admin")
    _, public = keys.new_key_pair()
    site = server.authenticate(
        server.join(server.enroll("KEP-A").token, public, "c", "0.1.0").credential
    )
    first, second = run(1, tags=("A-1", "A-2")), run(2, at=T0 + dt.timedelta(minutes=5))
    second["results"]["status"] = ["ok", "crit"]
    snmp = run(3, at=T0 + dt.timedelta(minutes=6), tags=("A-1",), probe="snmp")
    snmp["results"]["status"], snmp["results"]["reason"] = ["warn"], ["fan"]
    doc = batch(site.uid, "runs", [first, second, snmp])  # one batch: one upsert, newest wins
    assert server.ingest(site, encode(doc)).committed == 3
    t5 = dt.datetime.fromtimestamp(round((T0 + dt.timedelta(minutes=5)).timestamp(), 6), dt.UTC)
    got = _state(store)
    assert got[("A-1", "ping")] == (t5, "ok", None)
    assert got[("A-2", "ping")] == (t5 + dt.timedelta(milliseconds=1), "crit", None)
    assert got[("A-1", "snmp")] == (T0 + dt.timedelta(minutes=6), "warn", "fan")


def test_pruning_drops_the_states_of_pruned_results(store: Store) -> None:
    seed(store)
    _local(
        store, [_res("ping", "A-1", ProbeStatus.OK, T0), _res("snmp", "A-2", ProbeStatus.OK, T0)]
    )
    _local(store, [_res("ping", "A-2", ProbeStatus.OK, T0 + dt.timedelta(days=2))])
    with store.write() as s:
        RawRepo(s).prune(T0 + dt.timedelta(days=1))
    assert set(_state(store)) == {("A-2", "ping")}


def _newest_from_results(store: Store) -> dict[tuple[str, str], tuple[dt.datetime, str, str]]:
    """The newest result per device and probe, from every stored result (what the fleet
    read's seeks found before ``device_state``); a compact ping wins a tie."""
    out: dict[tuple[str, str], tuple[dt.datetime, str, str]] = {}
    with store.session() as s:
        repo = ProbeRepo(s)
        runs = list(s.scalars(select(ProbeRunRow.id)))
        results = [x for rid in runs for x in repo.results(rid)]
    for x in results:
        if x.asset_tag is None:
            continue
        key = (x.asset_tag, x.probe)
        have = out.get(key)
        if have is None or x.started_at > have[0]:
            out[key] = (x.started_at, x.status.value, x.reason)
    return out


def test_the_migration_backfill_equals_the_newest_results(store: Store) -> None:
    seed(store)
    base = T0
    for k in range(6):
        at = base + dt.timedelta(minutes=7 * k)
        status = (ProbeStatus.OK, ProbeStatus.CRIT, ProbeStatus.WARN)[k % 3]
        _local(
            store,
            [
                _res("ping", "A-1", status, at),
                _res("ping", "A-2", ProbeStatus.OK, at - dt.timedelta(hours=k)),
                _res("snmp", "B-1", status, at - dt.timedelta(minutes=30 * k), f"r{k}"),
                _res("snmp", "A-2", status, at, f"a{k}"),
                _res("onvif", "A-1", ProbeStatus.OK, at - dt.timedelta(days=k)),
                ProbeResult("ping", "B-1", status, "plain", at, 1.0, {"x": k}, asset_tag="B-1"),
            ],
        )
    kept = _state(store)
    with store.write() as s:
        s.execute(delete(DeviceStateRow))
    with store.write() as s:
        assert MIGRATION.backfill(s.connection()) == len(kept)
    filled = _state(store)
    assert filled == kept
    want = _newest_from_results(store)
    assert {k: (v[0], v[1]) for k, v in filled.items()} == {
        k: (v[0], v[1]) for k, v in want.items()
    }
