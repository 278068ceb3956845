"""Nothing lost, nothing twice: real collector and server processes, a fault-injecting link.

Each test breaks one sync in a different way (the link resets mid-body, stalls or is cut after
the server committed, the collector or the server is SIGKILLed midway), checks the break
happened, then runs ``itops sync`` again: the server must then hold exactly the collector's
results (the same multiset of (tag, probe, status, time)), no fewer and no more.
"""

from __future__ import annotations

import gzip
import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kape_itops.domain.sync import FORMAT
from kape_itops.lab.linkproxy import LinkProxy
from kape_itops.reports import sample
from kape_itops.store.db import Store
from kape_itops.sync.outbox import Outbox, encode
from tests.support.collector import add_rounds, count, site_results
from tests.support.itops_server import ItopsServer, JoinedSite, join
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

BATCH = "40"
"""Results per batch: five rounds of the test collector, so a sync takes many batches."""
WAIT_S = 30.0


@pytest.fixture(scope="module")
def central(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ItopsServer]:
    url = postgres.create_database("itops_server_faults")
    store = Store(url)
    store.upgrade()
    sample.seed_inventory(store, schools=6, devices_per_school=4)
    store.dispose()
    server = ItopsServer(url, tmp_path_factory.mktemp("faults") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        postgres.drop_database("itops_server_faults")


@pytest.fixture
def link(central: ItopsServer) -> Iterator[LinkProxy]:
    with LinkProxy(central.port) as proxy:
        yield proxy


def _site(
    central: ItopsServer, link: LinkProxy, folder: Path, school: str, rounds: int
) -> JoinedSite:
    site = join(central, folder, school, url=f"http://127.0.0.1:{link.port}")
    assert site.itops("sync", "--quiet").returncode == 0  # pulls the school's devices
    add_rounds(site.db, site.tags(), rounds)
    return site


def _held(central: ItopsServer, site: JoinedSite) -> int:
    return count(
        central.db,
        "SELECT count(*) FROM probe_runs WHERE origin_site_id = "
        "(SELECT id FROM sync_sites WHERE uid = :u)",
        u=site.uid,
    )


def _cursor(site: JoinedSite) -> int:
    return int(json.loads(site.itops("sync", "status", "--json").stdout)["cursors"]["runs"])


def _rerun_matches(central: ItopsServer, site: JoinedSite) -> None:
    done = site.itops("sync", "--json", "--batch", BATCH)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["backlog"] == 0
    here = site_results(site.db)
    assert sum(here.values()) > 0
    assert site_results(central.db, site.uid) == here
    assert _held(central, site) == count(site.db, "SELECT count(*) FROM probe_runs")


def _hello_answer_bytes(central: ItopsServer, site: JoinedSite) -> int:
    """Bytes of the server's whole answer to a hello (status line and headers included)."""
    body = json.dumps(
        {
            "format": FORMAT,
            "site": site.uid,
            "school": site.school,
            "sent_at": "2026-01-01T00:00:00+00:00",
            "version": "0.1.0",
            "backlog": 0,
        }
    ).encode()
    head = (
        f"POST /api/sync/hello HTTP/1.1\r\nHost: 127.0.0.1:{central.port}\r\n"
        f"Authorization: Bearer {site.credential}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", central.port), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        length = int(
            next(
                v
                for k, _, v in (x.partition(b": ") for x in data.split(b"\r\n"))
                if k.lower() == b"content-length"
            )
        )
        while len(data.partition(b"\r\n\r\n")[2]) < length:
            data += sock.recv(4096)
    return len(data)


def test_a_reset_mid_body_loses_and_duplicates_nothing(
    central: ItopsServer, link: LinkProxy, tmp_path: Path
) -> None:
    site = _site(central, link, tmp_path, "KPT-PSP", 60)
    store = Store(site.db)
    try:
        doc, _ = Outbox(store, site.uid, site.school, int(BATCH)).batch("runs", 0)
    finally:
        store.dispose()
    one = len(gzip.compress(encode(doc)))
    link.set(reset_after=3 * one + one // 2)  # mid-way through the fourth batch's body
    done = site.itops("sync", "--quiet", "--batch", BATCH)
    assert done.returncode == 3, done.stderr
    assert 0 < _held(central, site) < count(site.db, "SELECT count(*) FROM probe_runs")
    link.restore()
    _rerun_matches(central, site)


@pytest.mark.parametrize("fault", ["stall_after", "truncate_after"])
def test_an_ack_lost_after_the_server_committed_is_not_sent_twice(
    central: ItopsServer, link: LinkProxy, tmp_path: Path, fault: str
) -> None:
    school = {"stall_after": "KPT-PSH", "truncate_after": "KPT-TKP"}[fault]
    site = _site(central, link, tmp_path, school, 20)
    hello = _hello_answer_bytes(central, site)
    link.set(**{fault: hello + 12})  # the answer to the first push: its status line, cut
    started = time.monotonic()
    done = site.itops("sync", "--quiet", "--batch", BATCH, "--timeout", "3")
    assert done.returncode == 3, done.stderr
    assert time.monotonic() - started < 30
    assert _held(central, site) > 0, "the server committed the batch whose ack was lost"
    assert _cursor(site) == 0, "the collector never saw the ack"
    link.restore()
    _rerun_matches(central, site)


def test_a_collector_killed_mid_sync_resumes_exactly(
    central: ItopsServer, link: LinkProxy, tmp_path: Path
) -> None:
    site = _site(central, link, tmp_path, "KPT-CHS", 120)
    link.set(delay_ms=120)
    proc = site.popen("sync", "--quiet", "--batch", BATCH, log=tmp_path / "sync.log")
    try:
        deadline = time.monotonic() + WAIT_S
        while _held(central, site) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the sync ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < _held(central, site) < 120
    link.restore()
    _rerun_matches(central, site)


def test_the_server_killed_and_restarted_mid_sync_loses_nothing(
    central: ItopsServer, link: LinkProxy, tmp_path: Path
) -> None:
    site = _site(central, link, tmp_path, "KPT-BKP", 120)
    link.set(delay_ms=120)
    proc = site.popen("sync", "--quiet", "--batch", BATCH, "--timeout", "5", log=tmp_path / "s.log")
    try:
        deadline = time.monotonic() + WAIT_S
        while _held(central, site) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the sync ended before the server could be killed"
        central.kill()
        assert proc.wait(WAIT_S) == 3, (tmp_path / "s.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if central.proc is not None and central.proc.poll() is not None:
            central.start()
    assert 0 < _held(central, site) < 120
    link.restore()
    _rerun_matches(central, site)
