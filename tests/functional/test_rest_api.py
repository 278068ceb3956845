"""The REST API for scripts (``/api/v1``) against the real application, SQLite and PostgreSQL:
HTTP Basic with server users, the web session with its CSRF header, roles, the account lock
and the per-address limit, the writes' change log, and no crossing with the site sync API."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from kape_itops.accounts.service import REFUSED, Accounts
from kape_itops.domain.enums import DeviceKind
from kape_itops.inventory.service import Inventory
from kape_itops.sync import keys
from tests.support.report_data import ping, seed, write_run
from tests.support.web import PASSWORD, WebClient, add_user, web_client

TAGS = {"KEP-R1": DeviceKind.ROUTER, "KEP-SW1": DeviceKind.SWITCH, "KEP-CAM1": DeviceKind.CAMERA}
EXTRA = {
    "KEP-R1": {"serial": "SN-ROUTER-77", "mac": "aa:bb:cc:00:11:22", "hostname": "gw-psp"},
    "KEP-SW1": {"serial": "SN-SWITCH-12"},
}
VIEWER = ("vera", PASSWORD)
STAFF = ("ian", PASSWORD)
REVIEWER = ("rita", PASSWORD)


@pytest.fixture
def api(db_url: str) -> Iterator[WebClient]:
    """The app with school KPT-PSP, three devices (the router down now), and users vera
    (viewer), ian (it_staff) and rita (reviewer)."""
    with web_client(db_url) as web:
        ids = seed(web.store, TAGS, extra=EXTRA)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        write_run(
            web.store,
            now - dt.timedelta(minutes=2),
            [(ids["KEP-R1"], "ping", "crit", ping(None)), (ids["KEP-SW1"], "ping", "ok", ping(2))],
        )
        for name, role in (("vera", "viewer"), ("ian", "it_staff"), ("rita", "reviewer")):
            add_user(web.app, name, role)
        yield web


def _basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _site_credential(web: WebClient, school: str = "KPT-PSP") -> str:
    sync = web.app.state.sync
    _private, public = keys.new_key_pair()
    return str(sync.join(sync.enroll(school).token, public, "pi", "0.1.0").credential)


@pytest.fixture
def bare(sqlite_url: str) -> Iterator[WebClient]:
    """The app over an empty SQLite database (for what needs no data)."""
    with web_client(sqlite_url) as web:
        yield web


def test_no_credentials_is_401_basic_on_every_route(bare: WebClient) -> None:
    api = bare
    paths = api.client.get("/api/openapi.json").json()["paths"]
    gets = [p for p, ops in paths.items() if p.startswith("/api/v1/") and "get" in ops]
    assert len(gets) >= 8
    for path in gets:
        url = path.replace("{tag}", "KEP-R1").replace("{evaluation_id}", "1")
        answer = api.client.get(url)
        assert answer.status_code == 401, url
        assert answer.headers["www-authenticate"].startswith("Basic"), url
        assert "name and password" in answer.json()["error"]
    assert api.client.patch("/api/v1/devices/KEP-R1", json={"notes": "x"}).status_code == 401


def test_wrong_password_and_unknown_user_one_message(api: WebClient) -> None:
    wrong = api.client.get("/api/v1/schools", auth=("vera", "not the password"))
    unknown = api.client.get("/api/v1/schools", auth=("nobody", "not the password"))
    garbled = api.client.get("/api/v1/schools", headers={"Authorization": "Basic !!!"})
    for answer in (wrong, unknown, garbled):
        assert answer.status_code == 401
        assert answer.json() == {"error": REFUSED}
        assert answer.headers["www-authenticate"].startswith("Basic")
    right = api.client.get("/api/v1/schools", auth=VIEWER)
    assert right.status_code == 200 and [s["code"] for s in right.json()] == ["KPT-PSP"]


def test_five_failures_lock_the_account(api: WebClient) -> None:
    assert api.client.get("/api/v1/schools", auth=STAFF).status_code == 200  # remembered now
    for _ in range(5):
        assert (
            api.client.get("/api/v1/schools", auth=("ian", "guess guess guess")).status_code == 401
        )
    assert Accounts(api.store, "test").get("ian").locked(dt.datetime.now(dt.UTC))
    locked = api.client.get("/api/v1/schools", auth=STAFF)  # the right password, remembered
    assert locked.status_code == 401 and locked.json() == {"error": REFUSED}
    assert api.login("ian").status_code == 401  # the web log-in shares the lock


def test_password_checks_are_limited_per_address(api: WebClient) -> None:
    assert api.client.get("/api/v1/schools", auth=VIEWER).status_code == 200
    codes = [
        api.client.get("/api/v1/schools", auth=(f"guess{i}", "wrong password!")).status_code
        for i in range(10)
    ]
    assert codes == [401] * 9 + [429]
    assert api.client.get("/api/v1/schools", auth=STAFF).status_code == 429  # a new check waits
    # a script that already proved its password is not throttled by a guesser next to it
    assert api.client.get("/api/v1/schools", auth=VIEWER).status_code == 200
    # the web log-in form counts the same tries
    assert api.login("rita").status_code == 429


def test_a_new_password_or_a_disabled_account_ends_remembered_credentials(api: WebClient) -> None:
    assert api.client.get("/api/v1/schools", auth=VIEWER).status_code == 200
    Accounts(api.store, "test").set_role("vera", "it_staff")  # roles are read on every request
    edit = api.client.patch("/api/v1/devices/KEP-R1", json={"notes": "now staff"}, auth=VIEWER)
    assert edit.status_code == 200, edit.text
    Accounts(api.store, "test").set_password("vera", "another long password")
    assert api.client.get("/api/v1/schools", auth=VIEWER).status_code == 401
    assert api.client.get("/api/v1/schools", auth=("vera", "another long password")).is_success
    Accounts(api.store, "test").disable("vera")
    assert (
        api.client.get("/api/v1/schools", auth=("vera", "another long password")).status_code == 401
    )


def test_viewer_cannot_write(api: WebClient) -> None:
    before = Inventory(api.store, "t").history("KEP-R1")
    for method, url, body in (
        ("PATCH", "/api/v1/devices/KEP-R1", {"notes": "mine"}),
        ("POST", "/api/v1/devices/KEP-R1/retire", {"reason": "old"}),
        ("POST", "/api/v1/devices/KEP-R1/move", {"room": "Lab 2", "reason": "x"}),
        ("POST", "/api/v1/devices/KEP-R1/repair", {"reason": "x"}),
    ):
        answer = api.client.request(method, url, json=body, auth=VIEWER)
        assert answer.status_code == 403, url
        assert answer.json() == {"error": "the role viewer does not allow this"}
    assert (
        api.client.patch("/api/v1/devices/KEP-R1", json={"x": 1}, auth=REVIEWER).status_code == 403
    )
    assert Inventory(api.store, "t").history("KEP-R1") == before


def test_it_staff_edit_logs_the_user_as_actor(api: WebClient) -> None:
    answer = api.client.patch(
        "/api/v1/devices/KEP-SW1",
        json={"notes": "port 14 to the lab", "ip": "10.30.1.40", "serial": "SN-SWITCH-12"},
        auth=STAFF,
    )
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["asset_tag"] == "KEP-SW1"
    assert {(c["field"], c["new"]) for c in got["changes"]} == {
        ("notes", "port 14 to the lab"),
        ("ip", "10.30.1.40"),
    }  # the unchanged serial is no change
    logged = [c for c in Inventory(api.store, "t").history("KEP-SW1") if c.actor == "ian"]
    assert {c.field for c in logged} == {"notes", "ip"}
    assert {c.source for c in logged} == {"api: inventory edit"}
    device = api.client.get("/api/v1/devices/KEP-SW1", auth=VIEWER).json()
    assert device["device"]["ip"] == "10.30.1.40"
    assert device["changes"][0]["actor"] == "ian"  # newest first


def test_edit_refuses_as_import_does_every_error_named(api: WebClient) -> None:
    answer = api.client.patch(
        "/api/v1/devices/KEP-SW1",
        json={"ip": "10.30.1.999", "mac": "aa:bb:cc:00:11:22", "colour": "red", "room": "Lab 9"},
        auth=STAFF,
    )
    assert answer.status_code == 422
    fields = {i["field"] for i in answer.json()["issues"] if i["severity"] == "error"}
    assert {"ip", "mac", "colour", "room"} <= fields  # the MAC belongs to KEP-R1
    assert Inventory(api.store, "t").device("KEP-SW1").ip == "10.30.1.2"
    missing = api.client.patch("/api/v1/devices/NOPE-1", json={"notes": "x"}, auth=STAFF)
    assert missing.status_code == 404 and "NOPE-1" in missing.json()["error"]
    body = api.client.patch(
        "/api/v1/devices/KEP-SW1",
        content=b"[1, 2]",
        auth=STAFF,
        headers={"Content-Type": "application/json"},
    )
    assert body.status_code == 422 and body.json()["error"].startswith("invalid request: body")


def test_move_retire_repair_need_a_reason(api: WebClient) -> None:
    no_reason = api.client.post("/api/v1/devices/KEP-CAM1/retire", json={}, auth=STAFF)
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]
    blank = api.client.post("/api/v1/devices/KEP-CAM1/retire", json={"reason": " "}, auth=STAFF)
    assert blank.status_code == 400 and "reason" in blank.json()["error"]
    nowhere = api.client.post(
        "/api/v1/devices/KEP-CAM1/move", json={"reason": "new pole"}, auth=STAFF
    )
    assert nowhere.status_code == 400 and nowhere.json() == {"error": "give school and/or room"}
    moved = api.client.post(
        "/api/v1/devices/KEP-CAM1/move", json={"room": "Gate", "reason": "new pole"}, auth=STAFF
    )
    assert moved.status_code == 200, moved.text
    assert {c["field"] for c in moved.json()["changes"]} >= {"room", "notes"}
    repair = api.client.post(
        "/api/v1/devices/KEP-CAM1/repair", json={"reason": "lens cracked"}, auth=STAFF
    )
    back = api.client.post(
        "/api/v1/devices/KEP-CAM1/repair", json={"reason": "fixed", "done": True}, auth=STAFF
    )
    retired = api.client.post(
        "/api/v1/devices/KEP-CAM1/retire", json={"reason": "end of life"}, auth=STAFF
    )
    assert [a.status_code for a in (repair, back, retired)] == [200, 200, 200]
    device = Inventory(api.store, "t").device("KEP-CAM1")
    assert device.status == "retired" and device.room == "Gate"
    assert "new pole" in (device.notes or "") and "end of life" in (device.notes or "")
    mine = [c for c in Inventory(api.store, "t").history("KEP-CAM1") if c.actor == "ian"]
    assert {c.source for c in mine} == {
        "api: inventory move",
        "api: inventory repair",
        "api: inventory retire",
    }
    again = api.client.post("/api/v1/devices/KEP-CAM1/retire", json={"reason": "x"}, auth=STAFF)
    assert again.status_code == 400 and "already retired" in again.json()["error"]


def test_search_as_the_inventory_page(api: WebClient) -> None:
    def tags(query: str) -> list[str]:
        answer = api.client.get(f"/api/v1/devices?{query}", auth=VIEWER)
        assert answer.status_code == 200, answer.text
        return [d["asset_tag"] for d in answer.json()["devices"]]

    assert tags("q=AA:BB:CC:00:11") == ["KEP-R1"]  # MAC, any case
    assert tags("q=sn-switch") == ["KEP-SW1"]  # serial
    assert tags("q=10.30.1.3") == ["KEP-CAM1"]  # IP
    assert tags("q=GW-PSP") == ["KEP-R1"]  # host name
    assert tags("q=kep-cam1") == ["KEP-CAM1"]  # tag
    assert sorted(tags("school=kpt-psp")) == sorted(TAGS)
    assert tags("kind=camera") == ["KEP-CAM1"]
    assert tags("status=retired") == []
    paged = api.client.get("/api/v1/devices?per_page=2&page=2", auth=VIEWER).json()
    assert (paged["total"], paged["pages"], paged["page"], len(paged["devices"])) == (3, 2, 2, 1)
    for query, name, status in (
        ("kind=toaster", "kind", 422),
        ("page=0", "page", 422),
        ("per_page=1000", "per_page", 422),
        ("school=NOWHERE", "school", 404),
    ):
        answer = api.client.get(f"/api/v1/devices?{query}", auth=VIEWER)
        assert answer.status_code == status, query
        assert name in answer.json()["error"], query


def test_device_detail_problems_health_and_status(api: WebClient) -> None:
    got = api.client.get("/api/v1/devices/KEP-R1", auth=VIEWER).json()
    assert got["device"]["serial"] == "SN-ROUTER-77"
    assert [(r["probe"], r["status"]) for r in got["latest"]] == [("ping", "crit")]
    assert [p["kind"] for p in got["problems"]] == ["down"]
    down = api.client.get("/api/v1/problems?kind=down&since=1h", auth=VIEWER).json()
    assert [(p["asset_tag"], p["severity"]) for p in down["problems"]] == [("KEP-R1", "crit")]
    assert (
        api.client.get("/api/v1/problems?severity=info&kind=down", auth=VIEWER).json()["problems"]
        == []
    )
    bad = api.client.get("/api/v1/problems?since=soon", auth=VIEWER)
    assert bad.status_code == 400 and bad.json()["error"].startswith("since:")
    month = dt.date.today().strftime("%Y-%m")
    report = api.client.get(f"/api/v1/reports/health?month={month}&school=KPT-PSP", auth=VIEWER)
    assert report.status_code == 200, report.text
    assert report.json()["school_filter"] == "KPT-PSP"
    assert "comparison" in report.json()
    for value in ("2026-13", "soon", "2999-01"):
        wrong = api.client.get(f"/api/v1/reports/health?month={value}", auth=VIEWER)
        assert wrong.status_code == 400 and wrong.json()["error"].startswith("month:"), value
    _site_credential(api)
    sites = api.client.get("/api/v1/status", auth=VIEWER).json()["sites"]
    assert [(s["school"], s["name"]) for s in sites] == [("KPT-PSP", "pi")]


def test_quotes_are_for_reviewers(api: WebClient) -> None:
    from kape_itops.quotes.evaluate import Options
    from kape_itops.quotes.service import Evaluations, resolve_inputs, score
    from tests.functional.quote_helpers import QUOTES, REPO

    scored = score(resolve_inputs([QUOTES / "printer"], None, None, REPO), Options(), "rita")
    kept = Evaluations(api.store).add(scored, "rita")
    for who in (VIEWER, STAFF):
        assert api.client.get("/api/v1/quotes", auth=who).status_code == 403
    listed = api.client.get("/api/v1/quotes", auth=REVIEWER).json()
    assert [(e["id"], e["spec_id"]) for e in listed] == [(kept, "printer")]
    one = api.client.get(f"/api/v1/quotes/evaluations/{kept}", auth=REVIEWER).json()
    assert one["result_sha256"] == scored.sha256 and one["result"]["rfq"] == scored.evaluation.rfq
    assert api.client.get("/api/v1/quotes/evaluations/999", auth=REVIEWER).status_code == 404
    assert api.client.get("/api/v1/quotes/rfqs", auth=REVIEWER).json()["rfqs"] == []


def test_web_session_reads_and_writes_with_the_csrf_header(db_url: str) -> None:
    with web_client(db_url) as web:
        seed(web.store, TAGS)
        web.login_as("dara", "it_staff")
        assert web.client.get("/api/v1/devices/KEP-R1").status_code == 200
        url, body = "/api/v1/devices/KEP-R1", {"notes": "from the page"}
        refused = web.client.patch(url, json=body)
        assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["error"]
        wrong = web.client.patch(url, json=body, headers={"X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403
        done = web.client.patch(url, json=body, headers={"X-CSRF-Token": web.csrf})
        assert done.status_code == 200 and done.json()["changes"][0]["actor"] == "dara"
        web.logout()
        assert web.client.get("/api/v1/devices/KEP-R1").status_code == 401


def test_site_credential_and_user_password_do_not_cross(api: WebClient) -> None:
    credential = _site_credential(api)
    bearer = {"Authorization": f"Bearer {credential}"}
    assert api.client.get("/api/status", headers=bearer).status_code == 200  # the site's own
    for url in ("/api/v1/schools", "/api/v1/status", "/api/v1/devices/KEP-R1"):
        answer = api.client.get(url, headers=bearer)
        assert answer.status_code == 401 and "/api/sync only" in answer.json()["error"], url
    push = api.client.post("/api/sync/push", content=b"{}", auth=STAFF)
    hello = api.client.post("/api/sync/hello", content=b"{}", auth=STAFF)
    inventory = api.client.get("/api/sync/inventory", auth=STAFF)
    for answer in (push, hello, inventory):
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/api/status", auth=STAFF).status_code == 401


def test_openapi_documents_the_v1_routes(bare: WebClient) -> None:
    doc = bare.client.get("/api/openapi.json").json()
    paths = doc["paths"]
    for path, method in (
        ("/api/v1/schools", "get"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{tag}", "get"),
        ("/api/v1/devices/{tag}", "patch"),
        ("/api/v1/devices/{tag}/move", "post"),
        ("/api/v1/devices/{tag}/retire", "post"),
        ("/api/v1/problems", "get"),
        ("/api/v1/reports/health", "get"),
        ("/api/v1/quotes", "get"),
        ("/api/v1/quotes/evaluations/{evaluation_id}", "get"),
        ("/api/v1/status", "get"),
    ):
        op = paths[path][method]
        assert op["tags"], path
        assert {"401", "403"} <= set(op["responses"]), path
        assert {"Basic", "Session"} <= {k for s in op["security"] for k in s}, path
    listing = paths["/api/v1/devices"]["get"]["responses"]["200"]["content"]
    assert listing["application/json"]["schema"]["$ref"].endswith("/DevicePageOut")
    assert "DeviceDetail" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["Basic"]["scheme"] == "basic"


def test_secrets_never_appear_in_answers(api: WebClient) -> None:
    credential = _site_credential(api)
    with api.store.session() as s:
        hashes = [str(h) for h in s.execute(text("SELECT password_hash FROM users")).scalars()]
    answers: list[Any] = []
    for who in (VIEWER, STAFF, REVIEWER, ("vera", "wrong password x"), ("x", PASSWORD)):
        for url in (
            "/api/v1/schools",
            "/api/v1/devices",
            "/api/v1/devices/KEP-R1",
            "/api/v1/problems",
            "/api/v1/status",
            "/api/v1/quotes",
            "/api/v1/reports/health",
            f"/api/v1/devices?q={PASSWORD}",
        ):
            answers.append(api.client.get(url, auth=who))
    answers.append(
        api.client.get("/api/v1/status", headers={"Authorization": f"Bearer {credential}"})
    )
    answers.append(api.client.get("/api/v1/schools", headers=_basic("vera", PASSWORD + "\x00")))
    answers.append(api.client.get("/api/openapi.json"))
    assert sum(a.status_code == 200 and "/v1/" in str(a.request.url) for a in answers) >= 20
    secrets = [PASSWORD, credential, *hashes, *(h.split("$")[-1] for h in hashes)]
    secrets.append(base64.b64encode(f"vera:{PASSWORD}".encode()).decode())
    for answer in answers:
        seen = answer.text + " ".join(f"{k}: {v}" for k, v in answer.headers.items())
        for secret in secrets:
            assert secret not in seen, answer.request.url


def test_every_v1_route_checks_a_role(bare: WebClient) -> None:
    from fastapi.routing import iter_route_contexts  # app.routes holds included routers

    routes = [
        r for r in iter_route_contexts(bare.app.routes) if (r.path or "").startswith("/api/v1/")
    ]
    assert len(routes) >= 12
    for route in routes:
        names = [getattr(d.call, "__name__", "") for d in route.dependant.dependencies]
        assert any(n.startswith("api_") for n in names), route.path
