"""``itops server`` with its own self-signed certificate, pinned by the collector at join."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from kape_itops.reports import sample
from kape_itops.store.db import Store
from tests.support.collector import add_rounds, site_results
from tests.support.itops_server import ItopsServer, enroll, itops, join, self_signed
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def tls_server(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ItopsServer]:
    url = postgres.create_database("itops_server_tls")
    store = Store(url)
    store.upgrade()
    sample.seed_inventory(store, schools=2, devices_per_school=3)
    store.dispose()
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(folder)
    server = ItopsServer(url, folder / "server.log", cert=cert, key=key, command=("server",))
    server.start()
    try:
        yield server
    finally:
        code = server.stop()
        postgres.drop_database("itops_server_tls")
    # uvicorn shuts down gracefully, then dies of the signal it caught (as systemd expects)
    assert code in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.text()


def test_a_collector_pinning_the_self_signed_certificate_syncs(
    tls_server: ItopsServer, tmp_path: Path
) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    assert tls_server.cert is not None
    site = join(tls_server, tmp_path, "KPT-PSP", cafile=tls_server.cert)
    assert str(tls_server.cert.resolve()) in site.secrets.read_text(encoding="utf-8")
    assert site.itops("sync", "--quiet").returncode == 0
    add_rounds(site.db, site.tags(), 5)
    done = site.itops("sync", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pushed"]["runs"] == 5
    assert site_results(tls_server.db, site.uid) == site_results(site.db)


def test_a_wrong_or_missing_pin_is_refused_before_anything_is_sent(
    tls_server: ItopsServer, tmp_path: Path
) -> None:
    other_cert, _ = self_signed(tmp_path, name="impostor")
    token = enroll(tls_server.db, "KPT-PSH")
    for pin in (["--cafile", str(other_cert)], []):  # another certificate; the system CAs
        db = f"sqlite:///{tmp_path / 'c.db'}"
        done = itops(
            "sync", "join", tls_server.url, token, *pin, db=db, secrets=tmp_path / "c.toml"
        )
        assert done.returncode == 1, done.stderr
        assert "certificate is not trusted" in done.stderr
        assert not (tmp_path / "c.toml").exists()
    # the token was never presented, so it still works with the right pin
    done = itops(
        "sync",
        "join",
        tls_server.url,
        token,
        "--cafile",
        str(tls_server.cert),
        db=f"sqlite:///{tmp_path / 'c.db'}",
        secrets=tmp_path / "c.toml",
    )
    assert done.returncode == 0, done.stderr


def test_a_synced_site_whose_server_changes_certificate_stops_with_exit_1(
    tls_server: ItopsServer, tmp_path: Path
) -> None:
    site = join(tls_server, tmp_path, "KPT-PSP", cafile=tls_server.cert, name="moved")
    other_cert, _ = self_signed(tmp_path, name="impostor")
    text = site.secrets.read_text(encoding="utf-8")
    assert tls_server.cert is not None
    site.secrets.write_text(
        text.replace(str(tls_server.cert.resolve()), str(other_cert)), encoding="utf-8"
    )
    done = site.itops("sync", "--quiet")
    assert done.returncode == 1 and "certificate is not trusted" in done.stderr
