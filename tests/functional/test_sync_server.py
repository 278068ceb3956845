"""The sync server on both backends: enrolment, credentials, idempotent ingest, the school
guard, hostile payloads, conflicts, pull, late results in rollups, and signed bundles."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kape_itops.domain.reports import HOUR, epoch
from kape_itops.domain.sync import Site
from kape_itops.errors import AuthError, BundleError, ForbiddenError, NotFoundError, PayloadError
from kape_itops.secrets import Secret
from kape_itops.store.db import Store
from kape_itops.store.models import (
    ChangeRow,
    ConfigBackupRow,
    DiscoveryHostRow,
    DiscoverySweepRow,
    PingResultRow,
    ProbeResultRow,
    ProbeRollupRow,
    ProbeRunRow,
    SyncEventRow,
    SyncMarkRow,
)
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.rollup_repo import RollupRepo
from kape_itops.sync import bundle, keys
from kape_itops.sync.server import SyncServer
from tests.support.sync_batches import T0, backup, batch, change, encode, run, seed, sweep

TABLES = (
    ProbeRunRow,
    ProbeResultRow,
    PingResultRow,
    ChangeRow,
    DiscoverySweepRow,
    DiscoveryHostRow,
    ConfigBackupRow,
    SyncMarkRow,
)


def _count(store: Store, table: Any, *where: Any) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _counts(store: Store) -> dict[str, int]:
    return {t.__tablename__: _count(store, t) for t in TABLES}


def _events(store: Store, kind: str) -> int:
    return _count(store, SyncEventRow, SyncEventRow.kind == kind)


def _joined(store: Store, school: str = "KEP-A") -> tuple[SyncServer, Site, Secret]:
    seed(store)
    server = SyncServer(store, "admin")
    private, public = keys.new_key_pair()
    grant = server.join(server.enroll(school).token, public, "collector-a", "0.1.0")
    return server, server.authenticate(grant.credential), private


def test_an_enrolment_token_is_one_time_and_expires(store: Store) -> None:
    seed(store)
    server = SyncServer(store, "admin")
    token, expires = server.enroll("KEP-A", dt.timedelta(hours=1))
    grant = server.join(token, "ab" * 32, "pi", "0.1.0")
    assert grant.school == "KEP-A" and len(grant.credential) >= 40
    assert server.authenticate(grant.credential).uid == grant.site_uid
    with pytest.raises(AuthError, match="already used"):
        server.join(token, "ab" * 32, "pi2", "0.1.0")
    late = server.enroll("KEP-A", dt.timedelta(hours=1)).token
    with pytest.raises(AuthError, match="expired"):
        server.join(late, "ab" * 32, "pi", "0.1.0", now=expires + dt.timedelta(hours=2))
    with pytest.raises(AuthError, match="unknown"):
        server.join("not-a-token", "ab" * 32, "pi", "0.1.0")
    with pytest.raises(NotFoundError):
        server.enroll("KEP-ZZ")
    assert len(server.status()) == 1 and _events(store, "join") == 1
    server.revoke("KEP-A")
    with pytest.raises(AuthError, match="revoked"):
        server.authenticate(grant.credential)
    with store.session() as s:  # only hashes are stored
        stored = " ".join(str(v) for v in s.execute(select(SyncEventRow.detail)).scalars())
    assert token not in stored and grant.credential not in stored


def test_a_revoked_site_is_refused(store: Store) -> None:
    server, site, _ = _joined(store)
    with pytest.raises(AuthError):
        server.authenticate("wrong")
    assert [s.uid for s in server.revoke("KEP-A", actor="boss")] == [site.uid]
    assert server.revoke("KEP-A") == []
    with pytest.raises(AuthError, match="revoked"):  # a site authenticated before
        server.ingest(site, encode(batch(site.uid, "runs", [run(1)])))
    assert _counts(store)["probe_runs"] == 0 and _events(store, "revoke") == 1
    assert server.status()[0].site.revoked_at is not None


def test_ingest_is_idempotent_and_marks_move(store: Store) -> None:
    server, site, _ = _joined(store)
    body = encode(batch(site.uid, "runs", [run(1), run(2, tags=("A-1", None), probe="snmp")], 5))
    first = server.ingest(site, body)
    assert (first.mark, first.committed, first.duplicates) == (5, 2, 0)
    after = _counts(store)
    assert after["probe_runs"] == 2 and after["ping_results"] == 2 and after["probe_results"] == 2
    again = server.ingest(site, body)
    assert (again.mark, again.committed, again.duplicates) == (5, 0, 2)
    assert _counts(store) == after
    older = server.ingest(site, encode(batch(site.uid, "runs", [run(4)], 4)))
    assert (older.mark, older.committed, older.duplicates) == (5, 0, 1)
    hello = server.hello(
        site,
        {
            "format": "kape-itops-sync/1",
            "site": site.uid,
            "school": "KEP-A",
            "sent_at": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat(),
            "version": "0.2.0",
            "backlog": 7,
        },
    )
    assert hello.marks == {"changes": 0, "runs": 5, "sweeps": 0, "backups": 0}
    assert hello.clock_offset_s is not None and 290 < hello.clock_offset_s < 310
    line = server.status()[0]
    assert line.site.clock_off and line.site.backlog == 7 and line.site.version == "0.2.0"
    assert line.records == {"changes": 0, "runs": 2, "sweeps": 0, "backups": 0}
    with store.session() as s:
        repo = ProbeRepo(s)
        runs = sorted(repo.runs(), key=lambda r: r.id)
        results = repo.results(runs[0].id)
        stored = s.execute(select(ProbeRunRow.origin_id, ProbeRunRow.received_at)).all()
    assert [r.asset_tag for r in results] == ["A-1", "A-2"]
    assert results[0].metrics == run(1)["results"]["metrics"][0]
    assert results[0].started_at == T0
    assert sorted(o for o, _ in stored) == [1, 2] and all(r is not None for _, r in stored)
    # the stores' own sweeps and backups ride the same rules
    sw = server.ingest(site, encode(batch(site.uid, "sweeps", [sweep(3)])))
    bk = server.ingest(site, encode(batch(site.uid, "backups", [backup(1, run_id=2)])))
    assert (sw.committed, bk.committed) == (1, 1)
    server.ingest(site, encode(batch(site.uid, "backups", [backup(1, run_id=2)])))
    assert _count(store, ConfigBackupRow) == 1 and _count(store, DiscoveryHostRow) == 1
    with store.session() as s:
        run_of_backup = s.scalar(select(ConfigBackupRow.run_id))
        ours = s.scalar(select(ProbeRunRow.id).where(ProbeRunRow.origin_id == 2))
    assert run_of_backup == ours


@pytest.mark.parametrize(
    ("stream", "items"),
    [
        ("runs", [run(1, tags=("A-1", "B-1"))]),
        ("changes", [change(1, "B-1", "room", None, "Lab", T0)]),
        (
            "changes",
            [change(1, "A-9", None, None, '{"kind": "switch", "school": "KEP-B"}', T0, "create")],
        ),
        ("changes", [change(1, "A-1", "school", "KEP-A", "KEP-B", T0)]),
        ("changes", [change(1, "KEP-B", "name", None, "Mine", T0, entity="school")]),
        ("sweeps", [sweep(1, school="KEP-B")]),
        ("backups", [backup(1, tag="B-1")]),
    ],
)
def test_another_schools_data_is_forbidden_and_logged(
    store: Store, stream: str, items: list[dict[str, Any]]
) -> None:
    server, site, _ = _joined(store)
    before = _counts(store)
    # an allowed item first: the whole batch is refused, the allowed one too
    ok = {"runs": run(1), "changes": change(1, "A-1", "notes", None, "x", T0)}.get(stream)
    items = [{**i, "id": i["id"] + 1} for i in items]
    with pytest.raises(ForbiddenError, match="KEP-B"):
        server.ingest(site, encode(batch(site.uid, stream, ([ok] if ok else []) + items)))
    assert _counts(store) == before
    assert _events(store, "refused") == 1
    assert "KEP-B" in server.events(1)[0].detail


@pytest.mark.parametrize(
    "doc",
    [
        {"site": "someone-else"},
        {"school": "KEP-B"},
        {"stream": "secrets"},
        {"items": [{**run(1), "started_at": "2026-13-45T00:00:00+00:00"}]},
        {"items": [{**run(1), "actor": "a" * 5000}]},
        {"items": [{**run(1), "results": {**run(1)["results"], "at": ["x", 1.0]}}]},
        {"items": [run(2), run(1)]},
        {"format": None},
    ],
)
def test_hostile_payloads_change_nothing(store: Store, doc: dict[str, Any]) -> None:
    server, site, _ = _joined(store)
    before = _counts(store)
    events = _count(store, SyncEventRow)
    body = {**batch(site.uid, "runs", [run(1)], 9), **doc}
    with pytest.raises(PayloadError):
        server.ingest(site, encode(body))
    assert _counts(store) == before and _count(store, SyncEventRow) == events


def test_inventory_edits_merge_per_field_and_clashes_become_conflicts(store: Store) -> None:
    server, site, _ = _joined(store)
    from kape_itops.inventory.service import Inventory

    Inventory(store, "admin").set("A-1", {"room": "Server room"})
    with store.session() as s:
        server_at = s.scalar(select(ChangeRow.at).where(ChangeRow.field == "room"))
    assert server_at is not None
    create = '{"ip": "10.1.0.9", "kind": "printer", "room": "Office", "school": "KEP-A"}'
    items = [
        change(1, "A-2", "notes", None, "cabled", T0),  # plain edit: applied
        change(2, "A-1", "room", None, "Lab 1", server_at - HOUR_TD),  # older: server keeps
        change(3, "A-1", "ip", "10.1.0.1", "10.1.0.1", T0),  # nothing to do
        change(4, "A-9", None, None, create, T0, "create"),  # new device
        change(6, "A-2", "room", None, "Lab 2", T0),
    ]
    ack = server.ingest(site, encode(batch(site.uid, "changes", items, 7)))
    assert (ack.mark, ack.committed) == (7, 5)
    assert [(c.field, c.kept, c.other) for c in ack.conflicts] == [("room", "Server room", "Lab 1")]
    assert ack.conflicts[0].id is not None
    later = change(8, "A-1", "room", None, "Lab 3", server_at + HOUR_TD)
    ack2 = server.ingest(site, encode(batch(site.uid, "changes", [later])))
    assert [(c.kept, c.other, c.kept_by) for c in ack2.conflicts] == [
        ("Lab 3", "Server room", "officer")
    ]
    pulled = server.pull(site)
    devices = {d["asset_tag"]: d for d in pulled["devices"]}
    assert set(devices) == {"A-1", "A-2", "A-9"}  # never another school's
    assert devices["A-1"]["room"] == "Lab 3" and devices["A-2"]["notes"] == "cabled"
    assert devices["A-9"]["kind"] == "printer" and devices["A-9"]["ip"] == "10.1.0.9"
    assert pulled["school"]["code"] == "KEP-A" and "Office" in pulled["rooms"]
    with store.session() as s:
        synced = s.execute(
            select(ChangeRow.origin_id, ChangeRow.actor, ChangeRow.source, ChangeRow.at).where(
                ChangeRow.origin_site_id == site.id
            )
        ).all()
    assert sorted(o for o, *_ in synced) == [1, 4, 6, 8]
    assert all(
        a == "officer" and src == f"sync {site.uid}: cli: inventory set" for _, a, src, _ in synced
    )
    assert {at for o, _, _, at in synced if o == 1} == {T0}
    again = server.ingest(site, encode(batch(site.uid, "changes", items, 7)))
    assert (again.committed, again.duplicates, again.conflicts) == (0, 5, ())
    open_ = server.conflicts("KEP-A")
    assert len(open_) == 2 and server.conflicts("KEP-B") == []
    done = server.resolve(open_[0].id or 0, "boss")
    assert done.resolved_by == "boss" and len(server.conflicts()) == 1
    assert len(server.conflicts(include_resolved=True)) == 2


HOUR_TD = dt.timedelta(hours=1)


def test_late_results_older_than_the_rollup_watermark_are_rolled_up(store: Store) -> None:
    server, site, _ = _joined(store)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    server.ingest(site, encode(batch(site.uid, "runs", [run(1, at=now - HOUR_TD)])))
    with store.write() as s:
        RollupRepo(s, frozenset()).rollup()
    late = now - dt.timedelta(days=3)
    server.ingest(site, encode(batch(site.uid, "runs", [run(2, at=late)])))
    with store.write() as s:
        RollupRepo(s, frozenset()).rollup()
    hour = epoch(late) // HOUR * HOUR
    q = ProbeRollupRow.grain == "hour", ProbeRollupRow.bucket_start == hour
    assert _count(store, ProbeRollupRow, *q) == 2  # in that old hour


def _bundle(path: Path, site: Site, private: Secret, batches: list[dict[str, Any]]) -> Path:
    bundle.write_bundle(path, batches, site=site.uid, school=site.school, signing_key=private)
    return path


def test_a_signed_bundle_is_applied_once(store: Store, tmp_path: Path) -> None:
    server, site, private = _joined(store)
    batches = [
        batch(site.uid, "changes", [change(1, "A-2", "notes", None, "from usb", T0)]),
        batch(site.uid, "runs", [run(1), run(2)]),
    ]
    path = _bundle(tmp_path / "a.bundle", site, private, batches)
    report = server.import_bundle(path)
    assert report.committed == {"changes": 1, "runs": 2} and report.batches == 2
    counted = _counts(store)
    second = server.import_bundle(path)
    assert sum(second.committed.values()) == 0 and second.duplicates == {"changes": 1, "runs": 2}
    assert _counts(store) == counted
    assert _events(store, "import") == 2


def test_tampered_foreign_and_revoked_bundles_are_refused(store: Store, tmp_path: Path) -> None:
    server, site, private = _joined(store)
    batches = [batch(site.uid, "runs", [run(1)])]
    good = _bundle(tmp_path / "good.bundle", site, private, batches)
    raw = good.read_bytes()
    head, body = raw.split(b"\n", 1)
    plain = gzip.decompress(body).replace(b'"A-1"', b'"A-2"')
    tampered = tmp_path / "tampered.bundle"
    tampered.write_bytes(head + b"\n" + gzip.compress(plain))
    stranger, _ = keys.new_key_pair()
    forged = _bundle(tmp_path / "forged.bundle", site, stranger, batches)
    other = Site(**{**_fields(site), "uid": "00000000-0000-4000-8000-000000000000"})
    foreign = _bundle(tmp_path / "foreign.bundle", other, private, batches)
    before = _counts(store)
    for path, why in (
        (tampered, "checksum"),
        (forged, "signature"),
        (foreign, r"foreign bundle.*not enrolled"),
    ):
        with pytest.raises(BundleError, match=why) as err:
            server.import_bundle(path)
        assert str(path) in str(err.value)
    server.revoke("KEP-A")
    with pytest.raises(BundleError, match=r"foreign bundle.*revoked"):
        server.import_bundle(good)
    assert _counts(store) == before


def _fields(site: Site) -> dict[str, Any]:
    return {f: getattr(site, f) for f in Site.__slots__}


def test_renames_and_odd_creates(store: Store) -> None:
    server, site, _ = _joined(store)
    items = [
        change(1, "A-2b", "asset_tag", "A-2", "A-2b", T0, "rename"),
        change(2, "A-2b", "asset_tag", "A-2", "A-2b", T0, "rename"),  # done already
        change(3, "A-2b", "asset_tag", "A-1", "A-2b", T0, "rename"),  # tag taken: kept aside
        change(4, "a-1", "asset_tag", "A-1", "a-1", T0, "rename"),  # case only
        change(5, "A-7", None, None, '{"kind": "switch", "zzz": "1"}', T0, "create"),
    ]
    ack = server.ingest(site, encode(batch(site.uid, "changes", items)))
    assert [(c.field, c.other, c.kept) for c in ack.conflicts] == [("asset_tag", "A-2b", None)]
    tags = {d["asset_tag"] for d in server.pull(site)["devices"]}
    assert tags == {"a-1", "A-2b", "A-7"}
    before = _counts(store)
    bad = change(6, "A-8", None, None, '{"kind": "spaceship"}', T0, "create")
    with pytest.raises(PayloadError, match=r"batch item 0: .*kind"):
        server.ingest(site, encode(batch(site.uid, "changes", [bad])))
    assert _counts(store) == before
