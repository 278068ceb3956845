"""``Accounts.set_role`` and ``itops server user role NAME ROLE``: change-logged, and the last
admin who can log in keeps the admin role."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from kape_itops.accounts.service import Accounts
from kape_itops.domain.users import Role
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.store.db import Store
from tests.support.itops_server import itops

T0 = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
PW = "Mekong river at dusk 2026"


def _accounts(store: Store) -> Accounts:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return Accounts(store, "boss", hasher=cheap, clock=lambda: T0)


def _role_changes(store: Store) -> list[tuple[str, ...]]:
    q = (
        "SELECT actor, key, old, new, source FROM changes "
        "WHERE entity = 'user' AND field = 'role' AND old IS NOT NULL ORDER BY id"
    )
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(q)).tuples().all()]


def test_set_role_is_logged_and_keeps_the_last_admin(store: Store) -> None:
    acc = _accounts(store)
    acc.add("dara", "admin", PW)
    acc.add("Vanna", "viewer", PW)
    user, changed = acc.set_role("VANNA", "it_staff")
    assert changed and user.name == "Vanna" and user.role == Role.IT_STAFF
    assert acc.get("vanna").role == Role.IT_STAFF
    assert acc.set_role("vanna", Role.IT_STAFF)[1] is False  # nothing to log
    with pytest.raises(UsageError, match="last admin"):
        acc.set_role("dara", "viewer")
    assert acc.get("dara").role == Role.ADMIN
    with pytest.raises(UsageError, match="unknown role 'root'"):
        acc.set_role("vanna", "root")
    with pytest.raises(NotFoundError):
        acc.set_role("nobody", "viewer")
    acc.set_role("vanna", "admin")
    assert acc.set_role("dara", "reviewer", source="web: admin users")[1]  # another admin now
    with pytest.raises(UsageError, match="last admin"):
        acc.set_role("vanna", "viewer")
    assert _role_changes(store) == [
        ("boss", "Vanna", "viewer", "it_staff", "cli: server user role"),
        ("boss", "Vanna", "it_staff", "admin", "cli: server user role"),
        ("boss", "dara", "admin", "reviewer", "web: admin users"),
    ]


def test_a_disabled_admin_may_lose_the_role(store: Store) -> None:
    acc = _accounts(store)
    acc.add("dara", "admin", PW)
    acc.add("vanna", "admin", PW)
    acc.disable("vanna")
    assert acc.set_role("vanna", "viewer")[1]  # dara still logs in as admin


def test_user_role_command(sqlite_url: str) -> None:
    assert itops("init", db=sqlite_url).returncode == 0
    for name, role in (("dara", "admin"), ("vanna", "viewer")):
        add = itops(
            "server", "user", "add", name, "--role", role, db=sqlite_url, ITOPS_USER_PASSWORD=PW
        )
        assert add.returncode == 0, add.stderr
    up = itops("server", "user", "role", "VANNA", "it_staff", db=sqlite_url)
    assert up.returncode == 0, up.stderr
    assert "user vanna is now it_staff" in up.stdout
    same = itops("server", "user", "role", "vanna", "it_staff", "--json", db=sqlite_url)
    assert same.returncode == 0 and json.loads(same.stdout)["changed"] is False
    assert json.loads(same.stdout)["role"] == "it_staff"
    last = itops("server", "user", "role", "dara", "viewer", db=sqlite_url)
    assert last.returncode == 2 and "last admin" in last.stderr
    bad = itops("server", "user", "role", "dara", "root", db=sqlite_url)
    assert bad.returncode == 2
    missing = itops("server", "user", "role", "nobody", "viewer", db=sqlite_url)
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr
    log = json.loads(itops("inventory", "history", "--json", db=sqlite_url).stdout)
    entry = [c for c in log if c["field"] == "role" and c["old"]]
    assert [(c["actor"], c["key"], c["old"], c["new"]) for c in entry] == [
        ("test", "vanna", "viewer", "it_staff")
    ]
