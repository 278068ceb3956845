"""The web core against the real application: log-in, sessions, CSRF, roles, headers, language."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from kape_itops.accounts.service import Accounts
from kape_itops.server.web import STATIC
from kape_itops.server.web.auth import LoginLimiter, csrf_guard, safe_next
from tests.support.web import PASSWORD, add_user, two_clients, web_client

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
"""dist/htmx.min.js of the npm package htmx.org 2.0.11, as published."""


def test_anonymous_page_goes_to_login_and_back(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        answer = web.get("/admin/users?x=1")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/admin/users%3Fx%3D1"
        add_user(web.app, "root", "admin")
        web.get("/login?next=/admin/users")
        done = web.post("/login", {"name": "root", "password": PASSWORD, "next": "/admin/users"})
        assert done.status_code == 303 and done.headers["location"] == "/admin/users"
        assert web.get("/admin/users").status_code == 200


def test_htmx_request_without_session_gets_hx_redirect(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        answer = web.get("/admin/users", headers={"HX-Request": "true"})
        assert answer.status_code == 401
        assert answer.headers["HX-Redirect"].startswith("/login?next=")


def test_wrong_password_one_message_and_no_session(db_url: str) -> None:
    with web_client(db_url) as web:
        add_user(web.app, "dara", "viewer")
        unknown = web.post("/login", {"name": "nobody", "password": "x" * 12})
        wrong = web.post("/login", {"name": "dara", "password": "y" * 12})
        assert unknown.status_code == wrong.status_code == 401
        assert "Wrong name or password" in unknown.text and "Wrong name or password" in wrong.text
        assert "user" not in web.session()
        assert web.get("/admin/users").status_code == 303


def test_login_is_rate_limited_per_address(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        add_user(web.app, "dara", "viewer")
        codes = [
            web.post("/login", {"name": f"n{i}", "password": "z" * 12}).status_code
            for i in range(11)
        ]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        # even the right password waits now
        assert web.post("/login", {"name": "dara", "password": PASSWORD}).status_code == 429


def test_limiter_window_and_memory_bound() -> None:
    limiter = LoginLimiter(attempts=2, window=10, max_clients=3)
    assert limiter.allow("a", 0) and limiter.allow("a", 1) and not limiter.allow("a", 2)
    assert limiter.allow("a", 12)  # the window moved on
    for n in range(10):
        limiter.allow(f"c{n}", 20)
    assert len(limiter._seen) == 3


def test_write_without_csrf_token_is_refused(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        web.login_as("root", "admin")
        form = {"name": "newbie", "role": "viewer", "password": PASSWORD}
        refused = web.post("/admin/users", form, csrf=False)
        assert refused.status_code == 403
        forged = web.post("/admin/users", {**form, "csrf": "x" * 43})
        assert forged.status_code == 403
        names = [u.name for u in Accounts(web.store, "t").list()]
        assert "newbie" not in names
        # the header works as well as the form field (htmx sends it)
        ok = web.client.post("/admin/users", data=form, headers={"X-CSRF-Token": web.csrf})
        assert ok.status_code == 303
        assert "newbie" in [u.name for u in Accounts(web.store, "t").list()]


def test_login_form_itself_needs_the_token(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        add_user(web.app, "dara", "viewer")
        answer = web.post("/login", {"name": "dara", "password": PASSWORD}, csrf=False)
        assert answer.status_code == 403


def test_session_is_signed_httponly_samesite(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        add_user(web.app, "dara", "viewer")
        web.get("/login")
        answer = web.post("/login", {"name": "dara", "password": PASSWORD})
        cookie = answer.headers["set-cookie"]
        assert "itops_session=" in cookie and "httponly" in cookie.lower()
        assert "samesite=lax" in cookie.lower()
        # a tampered cookie is no session
        value = web.client.cookies["itops_session"]
        assert web.get("/admin/users").status_code == 403  # the viewer's session
        web.client.cookies.clear()
        web.client.cookies.set("itops_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
        assert web.get("/admin/users").status_code == 303


def test_secure_cookie_when_served_over_tls(sqlite_url: str) -> None:
    with web_client(sqlite_url, secure_cookies=True) as web:
        answer = web.get("/login")
        assert "secure" in answer.headers["set-cookie"].lower()


def test_disabling_an_account_ends_its_sessions(db_url: str) -> None:
    with two_clients(db_url) as (admin, viewer):
        admin.login_as("root", "admin")
        viewer.login_as("dara", "viewer")
        assert viewer.get("/login").status_code == 303  # logged in: goes on
        assert admin.post("/admin/users/dara/disable").status_code == 303
        assert viewer.get("/admin/users").status_code == 303
        assert viewer.get("/login").status_code == 200


def test_new_password_ends_other_sessions(sqlite_url: str) -> None:
    with two_clients(sqlite_url) as (admin, other):
        admin.login_as("root", "admin")
        add_user(admin.app, "sok", "admin")
        other.login("sok")
        assert other.get("/admin/users").status_code == 200
        import time

        time.sleep(2.1)  # the session keeps whole seconds
        new = "another long passphrase"
        assert admin.post("/admin/users/sok/password", {"password": new}).status_code == 303
        assert other.get("/admin/users").status_code == 303
        assert other.login("sok", new).status_code == 303


def test_viewer_cannot_reach_admin_pages(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        web.login_as("dara", "viewer")
        assert web.get("/admin/users").status_code == 403
        answer = web.post("/admin/users", {"name": "x1", "role": "admin", "password": PASSWORD})
        assert answer.status_code == 403
        assert "x1" not in [u.name for u in Accounts(web.store, "t").list()]


def test_admin_page_changes_are_logged_with_the_admin(db_url: str) -> None:
    with web_client(db_url) as web:
        web.login_as("root", "admin")
        assert (
            web.post(
                "/admin/users", {"name": "vy", "role": "viewer", "password": PASSWORD}
            ).status_code
            == 303
        )
        assert web.post("/admin/users/vy/role", {"role": "reviewer"}).status_code == 303
        page = web.get("/admin/users").text
        assert "Role changed." in page and "vy" in page
        user = Accounts(web.store, "t").get("vy")
        assert user.role.value == "reviewer" and user.created_by == "root"
        # the last admin cannot be disabled from the page either
        web.post("/admin/users/root/disable")
        assert "last admin" in web.get("/admin/users").text
        assert not Accounts(web.store, "t").get("root").disabled


def test_logout_needs_token_and_ends_session(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        web.login_as("root", "admin")
        assert web.post("/logout", csrf=False).status_code == 403
        assert web.get("/admin/users").status_code == 200
        assert web.post("/logout").status_code == 303
        assert web.get("/admin/users").status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil", "", "x"]
)
def test_next_never_leaves_the_server(target: str) -> None:
    assert safe_next(target) == "/"


def test_security_headers_and_server_timing(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        answer = web.get("/login")
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert re.fullmatch(r"app;dur=\d+\.\d", answer.headers["server-timing"])


def test_error_pages_are_html_but_api_errors_stay_json(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        page = web.get("/no/such/page")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        api = web.get("/api/no/such")
        assert api.status_code == 404 and api.json() == {"error": "Not Found"}


def test_language_from_query_cookie_and_header(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        assert "Log in" in web.get("/login").text
        km = web.get("/login?lang=km")
        assert 'lang="km"' in km.text and "ចូល" in km.text
        assert "itops_lang=km" in km.headers["set-cookie"]
        assert 'html lang="km"' in web.get("/login").text  # the cookie remembers
        web.client.cookies.clear()
        assert (
            'html lang="km"'
            in web.get("/login", headers={"Accept-Language": "km-KH,en;q=0.5"}).text
        )


def test_static_files_are_vendored_and_unchanged() -> None:
    assert hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest() == HTMX_SHA256
    font = Path(STATIC).parent.parent.parent / "fonts" / "KhmerOS.ttf"
    assert font.read_bytes()[:4] == b"\x00\x01\x00\x00"


def test_static_and_font_are_served(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        assert web.get("/static/htmx.min.js").status_code == 200
        assert web.get("/static/app.css").status_code == 200
        assert web.get("/static/fonts/KhmerOS.ttf").status_code == 200
        assert web.get("/static/../auth.py").status_code == 404


def test_every_page_route_checks_csrf_and_a_role(sqlite_url: str) -> None:
    """Every web route carries the CSRF guard; every one but log-in/out needs a role."""
    with web_client(sqlite_url) as web:
        open_routes = {"/login", "/logout"}
        routes = [
            r
            for r in iter_route_contexts(web.app.routes)  # app.routes holds included routers
            if isinstance(r.route, APIRoute) and not (r.path or "").startswith("/api")
        ]
        assert len(routes) >= 30, [r.path for r in routes]
        writes = 0
        for route in routes:
            calls = [d.call for d in route.dependant.dependencies]
            assert csrf_guard in calls, route.path
            writes += bool(set(route.methods or ()) & {"POST", "PUT", "PATCH", "DELETE"})
            if route.path in open_routes:
                continue
            names = [getattr(call, "__name__", "") for call in calls]
            assert any(n.startswith("require_") for n in names), f"{route.path} has no role check"
        assert writes >= 10
