"""The REST API as a script meets it: a real ``itops server`` process on PostgreSQL, users made
with ``itops server user add``, httpx with HTTP Basic, and a real collector's site credential."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kape_itops.accounts.service import REFUSED
from kape_itops.reports import sample
from kape_itops.store.db import Store
from tests.support.itops_server import ItopsServer, itops, join
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

PASSWORD = "a script's long password"
DB = "itops_rest_api_process"


def test_a_script_reads_and_edits_over_http(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database(DB)
    try:
        store = Store(url)
        store.upgrade()
        sample.seed_inventory(store, schools=2, devices_per_school=4)
        store.dispose()
        for name, role in (("vera", "viewer"), ("ian", "it_staff")):
            made = itops(
                "server", "user", "add", name, "--role", role, db=url, ITOPS_USER_PASSWORD=PASSWORD
            )
            assert made.returncode == 0, made.stderr
        server = ItopsServer(url, tmp_path / "server.log").start()
        try:
            _script(server, tmp_path)
        finally:
            server.stop()
        assert PASSWORD not in server.text()  # the access log never holds a header
    finally:
        postgres.drop_database(DB)


def _script(server: ItopsServer, tmp_path: Path) -> None:
    with server.client() as anonymous:
        refused = anonymous.get("/api/v1/devices")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith(
            "Basic"
        )
        wrong = anonymous.get("/api/v1/devices", auth=("vera", "not her password"))
        assert wrong.status_code == 401 and wrong.json() == {"error": REFUSED}
        paths = anonymous.get("/api/openapi.json").json()["paths"]
        assert {"/api/v1/devices", "/api/v1/devices/{tag}", "/api/v1/status"} <= set(paths)

    with server.client(auth=httpx.BasicAuth("vera", PASSWORD)) as viewer:
        found = viewer.get("/api/v1/devices", params={"q": "10.30.2.", "kind": "router"})
        assert found.status_code == 200, found.text
        tag = found.json()["devices"][0]["asset_tag"]
        assert found.json()["devices"][0]["school"] == "KPT-PSH"
        assert viewer.patch(f"/api/v1/devices/{tag}", json={"notes": "x"}).status_code == 403

    with server.client(auth=("ian", PASSWORD)) as staff:
        edited = staff.patch(f"/api/v1/devices/{tag}", json={"notes": "checked by script"})
        assert edited.status_code == 200, edited.text
        detail = staff.get(f"/api/v1/devices/{tag}").json()
        newest = detail["changes"][0]
        assert (newest["actor"], newest["source"], newest["new"]) == (
            "ian",
            "api: inventory edit",
            "checked by script",
        )

    site = join(server, tmp_path / "site", "KPT-PSH")
    with server.client() as client:
        bearer = {"Authorization": f"Bearer {site.credential}"}
        assert client.get("/api/status", headers=bearer).status_code == 200
        assert client.get("/api/v1/schools", headers=bearer).status_code == 401
        push = client.post("/api/sync/push", content=b"{}", auth=("ian", PASSWORD))
        assert push.status_code == 401 and push.headers["www-authenticate"] == "Bearer"
        status = client.get("/api/v1/status", auth=("vera", PASSWORD)).json()
        assert [(s["school"], s["site"]) for s in status["sites"]] == [("KPT-PSH", site.uid)]
        assert site.credential not in str(status)
