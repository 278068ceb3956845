"""The real server application in-process (Starlette's TestClient) with a logged-in user.

    with web_client(db_url) as web:
        web.login_as("dara", "it_staff")          # makes the account, logs in
        page = web.get("/inventory")
        web.post("/inventory/KEP-0001/edit", {"name": "x"})   # the CSRF token is added

``web.post(..., csrf=False)`` sends no token (to test the refusal).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kape_itops.accounts.service import Accounts
from kape_itops.server.app import create_app
from kape_itops.store.db import Store

PASSWORD = "correct horse battery staple"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Cheap argon2 parameters for test accounts (the server rehashes on first log-in)."""
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def add_user(app: FastAPI, name: str, role: str, password: str = PASSWORD) -> None:
    """Create the account ``name`` with ``role`` in the app's database."""
    Accounts(app.state.database.store, "test", hasher=FAST_HASHER).add(name, role, password)


class WebClient:
    """A browser-like client: cookies kept, redirects not followed, CSRF token tracked."""

    def __init__(self, client: TestClient, app: FastAPI) -> None:
        self.client = client
        self.app = app
        self.csrf = ""

    @property
    def store(self) -> Any:
        return self.app.state.database.store

    def _track(self, response: Any) -> Any:
        if found := _CSRF.search(response.text or ""):
            self.csrf = found.group(1)
        return response

    def get(self, url: str, **kw: Any) -> Any:
        return self._track(self.client.get(url, **kw))

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any
    ) -> Any:
        if not self.csrf:
            self.get("/login")
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        return self._track(self.client.post(url, data=form, **kw))

    def login(self, name: str, password: str = PASSWORD) -> Any:
        self.get("/login")
        return self.post("/login", {"name": name, "password": password, "next": "/"})

    def login_as(self, name: str, role: str, password: str = PASSWORD) -> WebClient:
        """Create ``name`` with ``role`` and log in (asserts it worked)."""
        add_user(self.app, name, role, password)
        answer = self.login(name, password)
        assert answer.status_code == 303, answer.text[:500]
        self.csrf = self.session()["csrf"]  # the new session's token
        return self

    def session(self) -> dict[str, Any]:
        """The signed session cookie's content (Starlette: base64 JSON, then the signature)."""
        cookie = self.client.cookies.get("itops_session") or ""
        payload = cookie.split(".")[0]
        return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))

    def logout(self) -> Any:
        return self.post("/logout")


def migrate(db_url: str) -> None:
    """Create or upgrade the schema (``itops init``), as the server's operator does first."""
    store = Store(db_url)
    try:
        store.upgrade()
    finally:
        store.dispose()


@contextmanager
def web_client(db_url: str, **app_kw: Any) -> Iterator[WebClient]:
    """The application over ``db_url`` (migrated; lifespan run) and a client without a session."""
    migrate(db_url)
    app = create_app(db_url, **app_kw)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield WebClient(client, app)


@contextmanager
def two_clients(db_url: str) -> Iterator[tuple[WebClient, WebClient]]:
    """Two separate browsers on one application (e.g. an admin and a viewer)."""
    migrate(db_url)
    app = create_app(db_url)
    with (
        TestClient(app, base_url="http://testserver", follow_redirects=False) as one,
        TestClient(app, base_url="http://testserver", follow_redirects=False) as two,
    ):
        yield WebClient(one, app), WebClient(two, app)
