"""The site side of sync against a real SyncServer (in process), on both backends: outbox order
and bounds, cursors that move only after an ack, pulled changes never sent back, join, pull,
export, status and retention."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kape_itops.domain.enums import RunStatus
from kape_itops.errors import AuthError, LinkError, SyncError, UsageError
from kape_itops.inventory.service import Inventory
from kape_itops.reports import retention
from kape_itops.secrets import read_sync_section
from kape_itops.store.db import Store
from kape_itops.store.outbox_repo import OutboxRepo
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.sync import bundle, keys
from kape_itops.sync.local import LocalTransport
from kape_itops.sync.outbox import Outbox
from kape_itops.sync.server import SyncServer
from kape_itops.sync.site import SyncSite
from tests.functional.sync_site_data import (
    SCHOOL,
    T0,
    Flaky,
    add_backup,
    add_runs,
    add_sweep,
    join,
    seed_inventory,
    server_counts,
    server_for,
    site_counts,
)
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[2]
_n = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """(site store, server store), migrated, on one backend."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / 'site.db'}", f"sqlite:///{tmp_path / 'server.db'}"]
        names: list[str] = []
    else:
        pg: PostgresServer = request.getfixturevalue("postgres")
        names = [f"itops_site_{os.getpid()}_{next(_n)}" for _ in range(2)]
        urls = [pg.create_database(n) for n in names]
    made = [Store(u) for u in urls]
    for s in made:
        s.upgrade()
    yield made[0], made[1]
    for s in made:
        s.dispose()
    if names:
        pg = request.getfixturevalue("postgres")
        for n in names:
            pg.drop_database(n)


@pytest.fixture
def linked(
    stores: tuple[Store, Store], tmp_path: Path
) -> tuple[SyncSite, LocalTransport, Store, Store]:
    site_store, server_store = stores
    server = server_for(server_store, 4)
    seed_inventory(site_store, 4)
    site, transport = join(site_store, server, tmp_path / "secrets.toml")
    return site, transport, site_store, server_store


def _cursors(store: Store) -> dict[str, int]:
    with store.session() as s:
        return OutboxRepo(s).cursors()


def test_outbox_reads_runs_in_order_in_bounded_batches(stores: tuple[Store, Store]) -> None:
    store = stores[0]
    names = seed_inventory(store, 5)  # 10 results a run
    runs = add_runs(store, names, 7)
    box = Outbox(store, "uid", SCHOOL, batch_results=25)
    seen: list[int] = []
    sizes = []
    for doc in box.batches("runs", 0):
        ids = [i["id"] for i in doc["items"]]
        assert ids == sorted(ids) and doc["last"] == ids[-1]
        sizes.append(sum(len(i["results"]["at"]) for i in doc["items"]))
        seen += ids
    assert seen == runs
    assert sizes == [20, 20, 20, 10]  # whole runs, at most 25 results
    big = Outbox(store, "uid", SCHOOL, batch_results=5)  # one run bigger than a batch: alone
    assert [len(d["items"]) for d in big.batches("runs", 0)] == [1] * 7
    item = next(box.batches("runs", 0))["items"][0]
    cols = item["results"]
    assert {len(v) for v in cols.values()} == {10}
    assert cols["probe"] == ["ping"] * 5 + ["snmp"] * 5 and cols["tag"][0] == names[0]
    assert cols["at"] == sorted(cols["at"])
    first = dt.datetime.fromtimestamp(cols["at"][0], dt.UTC)
    assert first == T0 + dt.timedelta(milliseconds=1, microseconds=7)
    assert item["started_at"] == T0.isoformat() and item["status"] == "completed"


def test_push_stops_at_the_first_running_run(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    done = add_runs(store, names, 2)
    running = add_runs(store, names, 1, start=T0 + dt.timedelta(hours=1), finish=False)[0]
    later = add_runs(store, names, 1, start=T0 + dt.timedelta(hours=2))
    report = site.push(transport)
    assert report.error is None
    assert _cursors(store)["runs"] == done[-1]
    assert server_counts(server_store)["runs"] == 2
    assert report.backlog == 1  # the finished run after the running one waits
    with store.write() as s:
        ProbeRepo(s).finish_run(running, RunStatus.COMPLETED, {})
    site.push(transport)
    assert _cursors(store)["runs"] == later[-1]
    assert server_counts(server_store)["runs"] == 4


def test_push_closes_runs_of_dead_processes_first(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    code = (
        "import sys, os\n"
        "from kape_itops.store.db import Store\n"
        "from kape_itops.store.probe_repo import ProbeRepo\n"
        "st = Store(sys.argv[1])\n"
        "with st.write() as s: ProbeRepo(s).start_run('collector', {})\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, store.url], check=True, cwd=REPO, timeout=60)
    report = site.push(transport)
    assert report.sent.get("runs") == 1 and report.backlog == 0
    with server_store.session() as s:
        assert s.execute(text("SELECT status FROM probe_runs")).scalar() == "interrupted"


def test_every_stream_arrives_once_and_a_second_push_sends_nothing(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    runs = add_runs(store, names, 3)
    add_sweep(store, T0, names)
    add_backup(store, names[0], T0, "hostname r1\n", runs[0])
    add_backup(store, names[0], T0 + dt.timedelta(days=1), "hostname r1\n")
    Inventory(store, "officer").set(names[1], {"notes": "moved to library"})
    report = site.sync(transport)
    assert report.error is None and report.push.backlog == 0
    with server_store.session() as s:  # the server's record of the backlog agrees
        assert s.execute(text("SELECT backlog FROM sync_sites")).scalar() == 0
    mine, theirs = site_counts(store), server_counts(server_store)
    seeded = mine["changes"] - 1  # the seed's changes exist on the server as its own seed
    assert theirs == {**mine, "changes": mine["changes"] - seeded}
    assert report.push.sent["changes"] == mine["changes"]  # the seed is pushed too, merged
    again = site.push(transport)
    assert again.batches == 0 and sum(again.sent.values()) == 0
    assert server_counts(server_store) == theirs


def test_a_lost_link_keeps_what_was_acked_and_a_rerun_resumes(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    site.sync(transport)  # the inventory's changes first
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    add_runs(store, names, 9)
    flaky = Flaky(transport, before={3})
    first = site.push(flaky, batch_results=16)  # two runs a batch
    assert first.error and "reset" in first.error
    acked = _cursors(store)["runs"]
    assert server_counts(server_store)["runs"] == 4 and first.backlog == 5
    assert site.status().last_error == first.error
    second = site.push(flaky, batch_results=16)
    assert second.error is None and second.backlog == 0
    assert _cursors(store)["runs"] > acked
    assert server_counts(server_store)["runs"] == 9
    assert sum(second.duplicates.values()) == 0


def test_a_lost_ack_moves_the_cursor_at_the_next_hello(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    site.sync(transport)
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    runs = add_runs(store, names, 4)
    flaky = Flaky(transport, after={2})
    report = site.push(flaky, batch_results=16)  # two runs a batch
    assert report.error is not None
    assert _cursors(store)["runs"] == runs[1]  # the second batch's ack was lost: not moved
    assert server_counts(server_store)["runs"] == 4  # but the server committed it
    report = site.push(flaky, batch_results=16)
    assert report.error is None and report.batches == 0  # hello: the server's mark
    assert _cursors(store)["runs"] == runs[-1]
    assert server_counts(server_store)["runs"] == 4


def test_a_resend_is_counted_as_duplicates(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    add_runs(store, names, 2)
    flaky = Flaky(transport)
    site.push(flaky)
    ack = transport.push(flaky.sent[-1])  # the very same batch again
    assert ack["committed"] == 0 and ack["duplicates"] >= 1
    assert server_counts(server_store)["runs"] == 2


def test_pulled_changes_are_never_pushed_and_local_edits_win_until_acked(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    site.sync(transport)
    server_inv = Inventory(server_store, "office")
    server_inv.set(f"{SCHOOL}-002", {"notes": "server note", "model": "CAM-9"})
    Inventory(store, "officer").set(f"{SCHOOL}-002", {"notes": "site note"})  # not pushed
    stats = site.pull(transport)
    assert stats.kept_local == 1 and stats.updated == 1
    local = Inventory(store, "x").device(f"{SCHOOL}-002")
    assert local.notes == "site note" and local.model == "CAM-9"
    with store.session() as s:
        sources = [r[0] for r in s.execute(text("SELECT source FROM changes WHERE field='model'"))]
    assert sources == ["sync:pull https://127.0.0.1:1"]
    report = site.push(transport)
    assert report.sent == {"changes": 1}  # the local edit only, never the pulled one
    assert _cursors(store)["changes"] == max_change_id(store)


def max_change_id(store: Store) -> int:
    with store.session() as s:
        return int(s.execute(text("SELECT max(id) FROM changes")).scalar() or 0)


def test_a_tail_of_pulled_changes_moves_the_cursor_without_a_push(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    site.sync(transport)
    Inventory(server_store, "office").set(f"{SCHOOL}-003", {"model": "X-1"})
    site.pull(transport)
    flaky = Flaky(transport)
    report = site.push(flaky)
    assert report.batches == 0 and flaky.pushes == 0
    assert _cursors(store)["changes"] == max_change_id(store)
    assert site.status().backlog == {"changes": 0, "runs": 0, "sweeps": 0, "backups": 0}


def test_join_writes_the_secrets_once(stores: tuple[Store, Store], tmp_path: Path) -> None:
    site_store, server_store = stores
    server = server_for(server_store, 2)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[school-default.snmp]\ncommunity = "c"\n')
    secrets.chmod(0o600)
    site, _ = join(site_store, server, secrets)
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    text_now = secrets.read_text()
    assert text_now.startswith('[school-default.snmp]\ncommunity = "c"\n')
    section = read_sync_section(secrets)
    assert section is not None
    ident = site.identity()
    assert ident["site"] == section.site and ident["school"] == SCHOOL
    assert section.credential.reveal() not in json.dumps(ident)
    assert site.status().joined and site.status().url == "https://127.0.0.1:1"
    with pytest.raises(UsageError, match="--force"):
        site.join("https://127.0.0.1:1", server.enroll(SCHOOL).token, LocalTransport(server))
    grant = site.join(
        "https://127.0.0.1:1", server.enroll(SCHOOL).token, LocalTransport(server), force=True
    )
    assert grant.site_uid != section.site
    assert read_sync_section(secrets).site == grant.site_uid  # type: ignore[union-attr]


def test_export_writes_a_signed_bundle_of_the_backlog(
    linked: tuple[SyncSite, LocalTransport, Store, Store], tmp_path: Path
) -> None:
    site, transport, store, server_store = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    add_runs(store, names, 3)
    site.push(transport)
    acked = _cursors(store)
    add_runs(store, names, 2, start=T0 + dt.timedelta(days=1))
    add_sweep(store, T0, names)
    out = tmp_path / "kep.bundle"
    report = site.export(out)
    assert report.records == {"runs": 2, "sweeps": 1} and report.bytes == out.stat().st_size
    assert _cursors(store) == acked  # exporting does not move the cursors
    section = read_sync_section(tmp_path / "secrets.toml")
    assert section is not None
    header = bundle.verify(out, keys.public_key_of(section.signing_key))
    assert header.site == section.site and header.school == SCHOOL
    batches = list(bundle.iter_batches(out))
    assert [b["stream"] for b in batches] == ["runs", "sweeps"]
    assert all(i["id"] > acked["runs"] for i in batches[0]["items"])
    server = transport.server
    imported = server.import_bundle(out)
    assert imported.committed == {"runs": 2, "sweeps": 1}
    assert server_counts(server_store)["runs"] == 5
    again = site.push(transport)  # the import moved the server's marks: nothing twice
    assert sum(again.committed.values()) == 0 and server_counts(server_store)["runs"] == 5


def test_retention_keeps_raw_results_not_yet_acknowledged(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, _ = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    now = T0 + dt.timedelta(days=60)
    add_runs(store, names, 2, start=T0)  # 60 days old
    add_sweep(store, T0, names)
    old = site_counts(store)
    add_runs(store, names, 1, start=now - dt.timedelta(days=1))
    add_sweep(store, now - dt.timedelta(days=1), names)
    before = site_counts(store)
    retention.prune(store, dt.timedelta(days=30), now=now)
    assert site_counts(store) == before  # unacknowledged: kept
    site.push(transport)
    stats = retention.prune(store, dt.timedelta(days=30), now=now)
    after = site_counts(store)
    assert after["results"] == before["results"] - old["results"]
    assert stats.results_deleted == old["results"]
    assert after["sweeps"] == 1  # the recent one


def test_retention_is_unchanged_on_a_site_that_never_joined(stores: tuple[Store, Store]) -> None:
    store = stores[0]
    names = seed_inventory(store, 2)
    now = T0 + dt.timedelta(days=60)
    add_runs(store, names, 2, start=T0)
    add_runs(store, names, 1, start=now - dt.timedelta(days=1))
    retention.prune(store, dt.timedelta(days=30), now=now)
    assert site_counts(store)["results"] == 4  # the recent run's only


def test_refusals_are_raised_and_link_errors_reported(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, _, _ = linked
    transport.server.revoke(SCHOOL)
    with pytest.raises(AuthError):
        site.push(transport)
    assert site.status().backlog["changes"] > 0  # nothing acknowledged

    class Down(Flaky):
        def hello(self, payload: dict[str, object]) -> dict[str, object]:
            raise LinkError("no route to host (test)")

    report = site.sync(Down(transport))
    assert report.error == "no route to host (test)" and report.pull is None


def test_a_site_that_has_not_joined_is_told_to_join(stores: tuple[Store, Store]) -> None:
    site = SyncSite(stores[0], "officer")
    assert not site.status().joined
    with pytest.raises(UsageError, match="sync join"):
        site.push(LocalTransport(SyncServer(stores[1])))


_CHILD = """
import sys, time
from pathlib import Path
from kape_itops.secrets import read_sync_section
from kape_itops.store.db import Store
from kape_itops.sync.local import LocalTransport
from kape_itops.sync.server import SyncServer
from kape_itops.sync.site import SyncSite

site_url, server_url, secrets, mode, size = sys.argv[1:6]
section = read_sync_section(Path(secrets))
inner = LocalTransport(SyncServer(Store(server_url)), section.credential.reveal())


class Slow:
    n = 0

    def hello(self, payload):
        return inner.hello(payload)

    def push(self, batch):
        ack = inner.push(batch)  # committed at the server
        Slow.n += 1
        print(f"committed {Slow.n}", flush=True)
        if mode == "after-commit" and Slow.n == 3:
            time.sleep(120)  # killed here: the site never sees this ack
        return ack

    def pull(self):
        return inner.pull()


SyncSite(Store(site_url), "collector", Path(secrets)).push(Slow(), batch_results=int(size))
print("done", flush=True)
"""


def _run_and_kill(args: list[str], after: str, timeout: float = 60) -> None:
    """Run the child push and SIGKILL it once it printed ``after``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=1):
                continue
            line = proc.stdout.readline()
            assert line, "the child ended before it was killed"
            if line.strip() == after:
                proc.send_signal(signal.SIGKILL)
                break
        else:
            raise AssertionError(f"the child never printed {after!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("mode", ["after-commit", "mid-push"])
def test_sigkill_mid_push_loses_nothing_and_stores_nothing_twice(
    linked: tuple[SyncSite, LocalTransport, Store, Store], tmp_path: Path, mode: str
) -> None:
    site, transport, store, server_store = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    add_runs(store, names, 40)  # 8 results a run: 20 batches of 2 runs
    for day in range(3):
        add_sweep(store, T0 + dt.timedelta(days=day), names)
    args = [store.url, server_store.url, str(tmp_path / "secrets.toml"), mode, "16"]
    _run_and_kill(args, "committed 3" if mode == "after-commit" else "committed 5")
    held = server_counts(server_store)
    assert 0 < held["runs"] < 40
    if mode == "after-commit":  # the third batch is on the server, its ack never arrived
        assert _cursors(store)["runs"] < server_marks(transport)["runs"]
    report = site.push(transport, batch_results=16)
    assert report.error is None and report.backlog == 0
    assert server_counts(server_store) == {**site_counts(store), "changes": 0}
    if mode == "after-commit":
        assert sum(report.duplicates.values()) == 0  # the hello's marks moved the cursors
    assert _cursors(store) == server_marks(transport)


def server_marks(transport: LocalTransport) -> dict[str, int]:
    answer = transport.hello(
        {
            "format": "kape-itops-sync/1",
            "site": transport.server.authenticate(transport.credential or "").uid,
            "school": SCHOOL,
            "sent_at": dt.datetime.now(dt.UTC).isoformat(),
            "version": "0.1.0",
            "backlog": 0,
        }
    )
    return {k: int(v) for k, v in answer["marks"].items()}


def test_an_edit_that_lost_the_merge_is_kept_as_a_conflict_at_the_site(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    site, transport, store, server_store = linked
    site.sync(transport)
    tag = f"{SCHOOL}-002"
    Inventory(store, "officer").set(tag, {"room": "Library"})  # offline, earlier
    Inventory(server_store, "office").set(tag, {"room": "Office"})  # later: wins
    report = site.sync(transport)
    assert report.error is None
    assert [(c.field, c.kept, c.other) for c in report.push.conflicts] == [
        ("room", "Office", "Library")
    ]
    listed = site.conflicts()
    assert [(c.key, c.kept_by, c.other_by) for c in listed] == [(tag, "office", "officer")]
    assert Inventory(store, "x").device(tag).room == "Office"  # the later edit, pulled
    assert site.status().conflicts == 1
    done = site.resolve(listed[0].id or 0)
    assert done.resolved_by == "officer" and site.conflicts() == []
    assert len(site.conflicts(include_resolved=True)) == 1
    again = site.sync(transport)  # a resend would not store the conflict twice
    assert again.push.conflicts == [] and len(site.conflicts(include_resolved=True)) == 1


def test_retention_keeps_the_last_acknowledged_sweep_so_its_id_is_never_reused(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    """SQLite gives a deleted highest id again: a new sweep must not get an acknowledged id."""
    site, transport, store, server_store = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    for day in range(2):
        add_sweep(store, T0 + dt.timedelta(days=day), names)
    site.push(transport)
    retention.prune(store, dt.timedelta(days=30), now=T0 + dt.timedelta(days=60))
    assert site_counts(store)["sweeps"] == 1  # the older one went, the last acked one stays
    new = add_sweep(store, T0 + dt.timedelta(days=61), names)
    assert new > _cursors(store)["sweeps"]
    report = site.push(transport)
    assert report.committed == {"sweeps": 1} and server_counts(server_store)["sweeps"] == 3


def test_a_database_older_than_what_the_server_holds_is_refused(
    linked: tuple[SyncSite, LocalTransport, Store, Store],
) -> None:
    """A restored or replaced database would reuse acknowledged ids: its records would pass
    as resends and be dropped, so the site must join again instead."""
    site, transport, store, _ = linked
    names = [f"{SCHOOL}-00{i}" for i in range(1, 5)]
    add_runs(store, names, 3)
    site.push(transport)
    with store.write() as s:  # what a backup taken before that push would hold
        s.execute(text("DELETE FROM ping_results"))
        s.execute(text("DELETE FROM probe_runs"))
        s.execute(text("DELETE FROM sync_cursors"))
    with pytest.raises(SyncError, match="restored or replaced"):
        site.push(transport)
    assert "join again" in (site.status().last_error or "")
