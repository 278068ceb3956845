"""``itops server`` as a real process on PostgreSQL, and real ``itops`` collector processes.

One server (request bodies limited to 1 MiB) serves the module; each test joins its own
collector (own SQLite file and secrets file) to its own school.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kape_itops.reports import sample
from kape_itops.store.db import Store
from kape_itops.sync.outbox import Outbox, encode
from tests.support.collector import add_rounds, count, site_results, text_of
from tests.support.itops_server import ItopsServer, JoinedSite, join
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

LIMIT_MB = 1
TABLES = (
    "probe_runs",
    "probe_results",
    "ping_results",
    "changes",
    "devices",
    "discovery_sweeps",
    "config_backups",
    "sync_marks",
    "sync_conflicts",
)


@pytest.fixture(scope="module")
def central(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ItopsServer]:
    """The server over a PostgreSQL database with five sample schools of four devices."""
    url = postgres.create_database("itops_server_api")
    store = Store(url)
    store.upgrade()
    sample.seed_inventory(store, schools=5, devices_per_school=4)
    store.dispose()
    folder = tmp_path_factory.mktemp("central")
    server = ItopsServer(url, folder / "server.log", env={"ITOPS_MAX_SYNC_MB": str(LIMIT_MB)})
    server.start()
    try:
        yield server
    finally:
        server.stop()
        postgres.drop_database("itops_server_api")


@pytest.fixture(scope="module")
def shared(
    central: ItopsServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[JoinedSite, JoinedSite]:
    """Two collectors (KPT-TKP, KPT-CHS) that pulled their schools' devices."""
    folder = tmp_path_factory.mktemp("shared")
    return (
        _pulled(join(central, folder / "a", "KPT-TKP")),
        _pulled(join(central, folder / "b", "KPT-CHS")),
    )


def _snapshot(db: str) -> dict[str, int]:
    out = {t: count(db, f"SELECT count(*) FROM {t}") for t in TABLES}
    out["marks"] = count(db, "SELECT coalesce(sum(mark), 0) FROM sync_marks")
    return out


def _pulled(site: JoinedSite) -> JoinedSite:
    done = site.itops("sync", "--quiet")
    assert done.returncode == 0, done.stderr
    assert site.tags(), "the first sync pulls the school's devices"
    return site


def _runs_batch(site: JoinedSite, rounds: int = 2) -> dict[str, Any]:
    """A real runs batch of new runs of the site (as its outbox builds it), not sent."""
    before = count(site.db, "SELECT coalesce(max(id), 0) FROM probe_runs")
    add_rounds(site.db, site.tags(), rounds)
    store = Store(site.db)
    try:
        doc, _ = Outbox(store, site.uid, site.school).batch("runs", before)
    finally:
        store.dispose()
    assert doc["items"]
    return doc


def _post(
    server: ItopsServer, path: str, body: bytes, credential: str | None, **headers: str
) -> httpx.Response:
    if credential:
        headers["Authorization"] = f"Bearer {credential}"
    with server.client() as client:
        return client.post(path, content=body, headers=headers)


def _raw(server: ItopsServer, head: bytes, chunks: list[bytes] = ()) -> tuple[int, bytes]:  # type: ignore[assignment]
    """Send a request by hand (head, then body pieces, stopping when the server answers)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for piece in chunks:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and hung up before the whole body
        data = b""
        try:
            while b"\r\n\r\n" not in data or len(data) < 12:
                got = sock.recv(65536)
                if not got:
                    break
                data += got
            data += sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            pass
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def test_a_collector_joins_pushes_and_the_server_holds_exactly_its_results(
    central: ItopsServer, tmp_path: Path
) -> None:
    site = _pulled(join(central, tmp_path, "KPT-PSP"))
    sent = add_rounds(site.db, site.tags(), 40)
    done = site.itops("sync", "--json", "--batch", "100")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["pushed"]["runs"] == 40 and summary["batches"] >= 3
    assert summary["backlog"] == 0 and summary["error"] is None
    here = site_results(site.db)
    assert sum(here.values()) == sent
    assert site_results(central.db, site.uid) == here
    again = json.loads(site.itops("sync", "--json").stdout)
    assert again["pushed"]["runs"] == 0 and again["batches"] == 0
    assert site_results(central.db, site.uid) == here
    status = central_status(central, site.uid)
    assert status["records"]["runs"] == 40 and status["backlog"] == 0
    assert status["version"] and status["clock_off"] is False and status["last_sync_at"]
    mine = json.loads(site.itops("sync", "status", "--json").stdout)
    assert mine["joined"] and mine["site"] == site.uid and sum(mine["backlog"].values()) == 0
    with central.client() as client:
        own = client.get("/api/status", headers={"Authorization": f"Bearer {site.credential}"})
    assert own.status_code == 200 and own.json()["site"]["uid"] == site.uid
    assert own.json()["site"]["backlog"] == 0 and own.json()["site"]["clock_off"] is False
    assert "public_key" not in own.json()["site"]


def central_status(central: ItopsServer, uid: str) -> dict[str, Any]:
    from tests.support.itops_server import itops

    done = itops("server", "status", "--json", db=central.db)
    assert done.returncode == 0, done.stderr
    (line,) = [s for s in json.loads(done.stdout) if s["site"] == uid]
    return dict(line)


def test_openapi_and_docs_are_served(central: ItopsServer) -> None:
    with central.client() as client:
        spec = client.get("/api/openapi.json").json()
        docs = client.get("/api/docs")
    assert {
        "/api/sync/join",
        "/api/sync/hello",
        "/api/sync/push",
        "/api/sync/inventory",
        "/api/sync/conflicts",
        "/api/status",
    } <= set(spec["paths"])
    assert docs.status_code == 200 and "<code>/api/sync/push</code>" in docs.text
    assert "<script" not in docs.text and "cdn." not in docs.text  # works on a LAN, under the CSP


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-credential", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
)
def test_requests_without_a_valid_credential_get_401(
    central: ItopsServer, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with central.client() as client:
        for method, path in [
            ("GET", "/api/sync/inventory"),
            ("POST", "/api/sync/hello"),
            ("POST", "/api/sync/push"),
            ("GET", "/api/status"),
        ]:
            got = client.request(
                method, path, headers=headers, content=b"{}" if method == "POST" else None
            )
            assert got.status_code == 401, (path, got.text)
            assert got.json()["error"] and got.headers["www-authenticate"] == "Bearer"


def test_oversized_bodies_and_gzip_bombs_get_413_and_change_nothing(
    central: ItopsServer, shared: tuple[JoinedSite, JoinedSite]
) -> None:
    site = shared[0]
    before = _snapshot(central.db)
    auth = f"Authorization: Bearer {site.credential}\r\n".encode()
    big = LIMIT_MB * 1024 * 1024 + 1
    # declared too long: refused from the header, before a byte of the body
    status, body = _raw(
        central,
        b"POST /api/sync/push HTTP/1.1\r\nHost: x\r\n"
        + auth
        + f"Content-Length: {big}\r\n\r\n".encode(),
    )
    assert status == 413 and b"too large" in body
    # chunked, no length: counted while it streams
    piece = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    status, body = _raw(
        central,
        b"POST /api/sync/push HTTP/1.1\r\nHost: x\r\n"
        + auth
        + b"Transfer-Encoding: chunked\r\n\r\n",
        [piece] * (big // 0x4000 + 4),
    )
    assert status == 413 and b"too large" in body
    # a gzip bomb: 40 KiB on the wire, 40 MiB decoded
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = packer.compress(b" " * (40 * 1024 * 1024)) + packer.flush()
    assert len(bomb) < 1024 * 1024
    got = _post(central, "/api/sync/push", bomb, site.credential, **{"Content-Encoding": "gzip"})
    assert got.status_code == 413 and "decoded" in got.json()["error"]
    # a real batch just over the limit once decoded
    doc = _runs_batch(site)
    doc["items"][0]["note"] = "n" * big
    got = _post(
        central,
        "/api/sync/push",
        gzip.compress(encode(doc)),
        site.credential,
        **{"Content-Encoding": "gzip"},
    )
    assert got.status_code == 413
    assert _snapshot(central.db) == before
    assert site.itops("sync", "--quiet").returncode == 0  # the server still serves


def _hostile(doc: dict[str, Any], other_site: str) -> list[tuple[str, bytes]]:
    def variant(**changes: Any) -> bytes:
        return encode({**doc, **changes})

    item = doc["items"][0]
    results = item["results"]
    deep = b"[" * 100_000 + b"]" * 100_000
    return [
        ("not json", b"\xff\xfe not json"),
        ("a list", b"[1, 2, 3]"),
        ("deep nesting", deep),
        ("wrong format", variant(format="kape-itops-sync/99")),
        ("another site", variant(site=other_site)),
        ("another school", variant(school="KPT-PSP" if doc["school"] != "KPT-PSP" else "KPT-PSH")),
        ("unknown stream", variant(stream="passwords")),
        ("items not a list", variant(items={"a": 1})),
        ("negative id", variant(items=[{**item, "id": -5}])),
        ("last below the items", variant(last=0)),
        ("bad time", variant(items=[{**item, "started_at": "yesterday"}])),
        (
            "NaN metric",
            variant(
                items=[
                    {
                        **item,
                        "results": {**results, "duration_ms": [float("nan")] * len(results["at"])},
                    }
                ]
            ),
        ),
        (
            "ragged columns",
            variant(items=[{**item, "results": {**results, "tag": results["tag"][:-1]}}]),
        ),
        (
            "long tag",
            variant(
                items=[{**item, "results": {**results, "tag": ["T" * 5000] * len(results["at"])}}]
            ),
        ),
        ("bad status", variant(items=[{**item, "status": "running"}])),
        (
            "too many items",
            variant(items=[{**item, "id": i} for i in range(1, 10_002)], last=10_001),
        ),
        (
            "year 9999",
            variant(
                items=[
                    {**item, "results": {**results, "at": [253370764800.0] * len(results["at"])}}
                ]
            ),
        ),
    ]


def test_hostile_payloads_get_4xx_and_change_nothing(
    central: ItopsServer, shared: tuple[JoinedSite, JoinedSite]
) -> None:
    site, other = shared
    doc = _runs_batch(site)
    before = _snapshot(central.db)
    for name, body in _hostile(doc, other.uid):
        for encoded, headers in [(body, {}), (gzip.compress(body), {"Content-Encoding": "gzip"})]:
            got = _post(
                central,
                "/api/sync/push",
                encoded,
                site.credential,
                **{"Content-Type": "application/json", **headers},
            )
            assert 400 <= got.status_code < 500, (name, got.status_code, got.text)
            assert got.json()["error"], name
    for name, body in [
        ("hello list", b"[]"),
        (
            "hello other site",
            encode(
                {
                    "format": doc["format"],
                    "site": other.uid,
                    "school": site.school,
                    "sent_at": doc["sent_at"],
                    "version": "1",
                    "backlog": 0,
                }
            ),
        ),
    ]:
        got = _post(central, "/api/sync/hello", body, site.credential)
        assert 400 <= got.status_code < 500, (name, got.text)
    for body in [
        b"{}",
        b"[]",
        b'{"token": 5}',
        encode({"token": "x", "public_key": "zz", "name": "n", "version": "1"}),
    ]:
        got = _post(central, "/api/sync/join", body, None)
        assert got.status_code in (400, 401, 422), got.text
    assert _snapshot(central.db) == before
    # the genuine batch still goes through afterwards
    got = _post(central, "/api/sync/push", encode(doc), site.credential)
    assert got.status_code == 200 and got.json()["mark"] == doc["last"]


def test_another_schools_data_is_refused_403_and_logged(
    central: ItopsServer, shared: tuple[JoinedSite, JoinedSite]
) -> None:
    site, foreign = shared
    doc = _runs_batch(site)
    doc["items"][0]["results"]["tag"][0] = foreign.tags()[0]
    before = _snapshot(central.db)
    refused = count(central.db, "SELECT count(*) FROM sync_events WHERE kind = 'refused'")
    got = _post(
        central,
        "/api/sync/push",
        gzip.compress(encode(doc)),
        site.credential,
        **{"Content-Encoding": "gzip"},
    )
    assert got.status_code == 403 and foreign.tags()[0] in got.json()["error"]
    assert _snapshot(central.db) == before
    after = count(central.db, "SELECT count(*) FROM sync_events WHERE kind = 'refused'")
    assert after == refused + 1
    mine = (
        "SELECT detail FROM sync_events e JOIN sync_sites s ON s.id = e.site_id "
        "WHERE e.kind = 'refused' AND s.uid = :u ORDER BY e.id DESC LIMIT 1"
    )
    assert foreign.tags()[0] in text_of(central.db, mine, u=site.uid)
    assert "refused" in central.text()


def test_a_revoked_site_gets_401_and_sync_exits_1(central: ItopsServer, tmp_path: Path) -> None:
    from tests.support.itops_server import itops

    site = join(central, tmp_path, "KPT-CHS", name="revoked")
    assert site.itops("sync", "--quiet").returncode == 0
    done = itops("server", "revoke", "KPT-CHS", "--site", site.uid, db=central.db)
    assert done.returncode == 0 and site.uid in done.stdout
    runs = count(central.db, "SELECT count(*) FROM probe_runs")
    done = site.itops("sync", "--quiet")
    assert done.returncode == 1 and "revoked" in done.stderr
    with central.client() as client:
        got = client.get(
            "/api/sync/inventory", headers={"Authorization": f"Bearer {site.credential}"}
        )
    assert got.status_code == 401
    assert count(central.db, "SELECT count(*) FROM probe_runs") == runs
    line = central_status(central, site.uid)
    assert line["revoked_at"]


def test_the_access_log_never_holds_a_credential_or_token(
    central: ItopsServer, shared: tuple[JoinedSite, JoinedSite]
) -> None:
    site = shared[1]
    assert site.itops("sync", "--quiet").returncode == 0
    log = central.text()
    assert "/api/sync/hello 200" in log and site.uid in log
    assert site.credential not in log
    assert "Bearer" not in log


def test_sync_exits_3_when_the_server_cannot_be_reached(
    central: ItopsServer, tmp_path: Path
) -> None:
    from tests.support.itops_server import free_port

    site = join(central, tmp_path, "KPT-PSH", name="offline")
    text = site.secrets.read_text(encoding="utf-8")
    site.secrets.write_text(
        text.replace(central.url, f"http://127.0.0.1:{free_port()}"), encoding="utf-8"
    )
    done = site.itops("sync", "--quiet")
    assert done.returncode == 3, done.stderr
    assert "still to send" in done.stderr
    status = json.loads(site.itops("sync", "status", "--json").stdout)
    assert status["last_error"] and status["last_sync_at"] is None


def test_an_edit_made_in_two_places_is_a_conflict_listed_and_resolved_on_both_sides(
    central: ItopsServer, tmp_path: Path
) -> None:
    from tests.support.itops_server import itops

    site = _pulled(join(central, tmp_path, "KPT-BKP", name="editor"))
    tag = site.tags()[0]
    done = site.itops("inventory", "set", tag, "notes=edited at the school")
    assert done.returncode == 0, done.stderr
    done = itops("inventory", "set", tag, "notes=edited at the office", db=central.db)
    assert done.returncode == 0, done.stderr
    done = site.itops("sync", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["conflicts"] == 1
    (mine,) = json.loads(site.itops("sync", "conflicts", "--json").stdout)
    assert (mine["key"], mine["field"]) == (tag, "notes")
    assert (mine["kept"], mine["other"]) == ("edited at the office", "edited at the school")
    listed = json.loads(itops("sync", "conflicts", "--json", db=central.db).stdout)
    assert [c for c in listed if c["key"] == tag and c["site_uid"] == site.uid]
    with central.client() as client:
        got = client.get(
            "/api/sync/conflicts", headers={"Authorization": f"Bearer {site.credential}"}
        )
    assert got.status_code == 200 and [c["key"] for c in got.json()["conflicts"]] == [tag]
    done = site.itops("sync", "resolve", str(mine["id"]))
    assert done.returncode == 0 and "resolved" in done.stdout
    assert json.loads(site.itops("sync", "conflicts", "--json").stdout) == []
    assert len(json.loads(site.itops("sync", "conflicts", "--all", "--json").stdout)) == 1
    shown = site.itops("inventory", "show", tag, "--json")
    assert "edited at the office" in shown.stdout


def test_a_bundle_carried_by_hand_is_imported_once_and_a_tampered_one_refused(
    central: ItopsServer, tmp_path: Path
) -> None:
    from tests.support.itops_server import itops

    site = _pulled(join(central, tmp_path, "KPT-PSP", name="usb"))
    add_rounds(site.db, site.tags(), 6)
    bundle = tmp_path / "site.bundle"
    done = site.itops("sync", "export", "--out", str(bundle))
    assert done.returncode == 0, done.stderr
    tampered = tmp_path / "tampered.bundle"
    data = bytearray(bundle.read_bytes())
    data[-30] ^= 0xFF
    tampered.write_bytes(bytes(data))
    done = itops("sync", "import", str(tampered), db=central.db)
    assert done.returncode == 1 and "tampered.bundle" in done.stderr
    assert site_results(central.db, site.uid) == {}
    for _ in range(2):  # twice: the second import adds nothing
        done = itops("sync", "import", str(bundle), db=central.db)
        assert done.returncode == 0, done.stderr
        assert site_results(central.db, site.uid) == site_results(site.db)
    assert "already here" in done.stdout
    again = json.loads(site.itops("sync", "--json").stdout)  # the link is back
    assert again["pushed"]["runs"] == 0 and again["backlog"] == 0


def test_a_site_whose_clock_is_off_by_more_than_a_minute_is_flagged(
    central: ItopsServer, shared: tuple[JoinedSite, JoinedSite]
) -> None:
    import datetime as dt

    from tests.support.itops_server import itops

    site = shared[0]
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    hello = {
        "format": "kape-itops-sync/1",
        "site": site.uid,
        "school": site.school,
        "sent_at": ahead.isoformat(),
        "version": "0.1.0",
        "backlog": 7,
    }
    got = _post(central, "/api/sync/hello", encode(hello), site.credential)
    assert got.status_code == 200 and got.json()["clock_offset_s"] > 290
    line = central_status(central, site.uid)
    assert line["clock_off"] is True and line["backlog"] == 7
    table = itops("server", "status", db=central.db, COLUMNS="250").stdout
    (row,) = [x for x in table.splitlines() if site.uid[:8] in x]
    assert re.search(r"\+(299|300)\.\d s !", row), row
    narrow = itops("server", "status", db=central.db, COLUMNS="80").stdout
    assert "backlog" in narrow and "version" in narrow  # no header cut at 80 columns
    assert site.itops("sync", "--quiet").returncode == 0  # its real clock: no longer flagged
    assert central_status(central, site.uid)["clock_off"] is False
