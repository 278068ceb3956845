"""Server user accounts on both backends: add, list, disable, enable, passwords, log-in."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kape_itops.accounts.service import REFUSED, Accounts
from kape_itops.domain.users import Role
from kape_itops.errors import AuthError, NotFoundError, UsageError
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store

T0 = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
PW = "correct horse battery"
PW2 = "staple-and-4-more-words"


class CountingHasher(PasswordHasher):
    """Cheap argon2 parameters (fast tests), counting verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


def accounts(store: Store, hasher: PasswordHasher | None = None) -> Accounts:
    return Accounts(store, "boss", hasher=hasher or CountingHasher(), clock=lambda: T0)


def _hashes(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, password_hash FROM users")).tuples().all())


def _user_changes(store: Store) -> list[tuple[str, ...]]:
    q = "SELECT actor, key, action, field, old, new, source FROM changes WHERE entity = 'user'"
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(q + " ORDER BY id")).tuples().all()]


def test_add_list_disable_enable(store: Store) -> None:
    acc = accounts(store)
    acc.add("dara", "admin", PW)
    acc.add("Sophea", Role.VIEWER, PW)
    users = acc.list()
    assert [(u.name, u.role, u.disabled) for u in users] == [
        ("dara", Role.ADMIN, False),
        ("Sophea", Role.VIEWER, False),
    ]
    assert users[0].created_by == "boss" and users[0].created_at == T0
    assert users[0].password_changed_at == T0
    user, changed = acc.disable("SOPHEA")
    assert changed and user.disabled and user.disabled_at == T0
    assert acc.disable("sophea")[1] is False
    user, changed = acc.enable("sophea")
    assert changed and not user.disabled
    assert acc.enable("sophea")[1] is False
    with pytest.raises(NotFoundError):
        acc.disable("nobody")


def test_the_last_admin_cannot_be_disabled(store: Store) -> None:
    acc = accounts(store)
    acc.add("dara", "admin", PW)
    with pytest.raises(UsageError, match="last admin"):
        acc.disable("dara")
    acc.add("vanna", "admin", PW)
    assert acc.disable("dara")[1]


@pytest.mark.parametrize(
    ("name", "role", "password", "why"),
    [
        ("dara", "admin", "short-pw", "at least 12"),
        ("administrator", "admin", "ADMINISTRATOR", "not be the user name"),
        ("dara\x1b[2J", "admin", PW, r"control character U\+001B"),
        ("dara\u202e", "admin", PW, r"bidi control U\+202E"),
        ("da ra", "admin", PW, "ASCII letters"),
        ("dara", "root", PW, "unknown role 'root'"),
    ],
)
def test_policy_refusals(store: Store, name: str, role: str, password: str, why: str) -> None:
    acc = accounts(store)
    with pytest.raises(UsageError, match=why) as info:
        acc.add(name, role, password)
    assert password not in str(info.value) or password == PW
    assert acc.list() == [] and _user_changes(store) == []


def test_hash_is_argon2_with_defaults_and_never_the_password(store: Store) -> None:
    acc = Accounts(store, "boss")  # the production hasher
    acc.add("dara", "it_staff", PW)
    stored = _hashes(store)["dara"]
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PW not in stored and PasswordHasher().verify(stored, PW)
    assert not PasswordHasher().check_needs_rehash(stored)


def test_names_are_unique_ignoring_case(store: Store) -> None:
    acc = accounts(store)
    acc.add("Dara", "viewer", PW)
    with pytest.raises(UsageError, match="exists already"):
        acc.add("dARA", "admin", PW)
    assert acc.get("DARA").name == "Dara"
    insert = (
        "INSERT INTO users (name, role, password_hash, created_at, created_by, "
        "password_changed_at, failed_count) VALUES ('DARA', 'admin', 'x', :t, 'x', :t, 0)"
    )
    with pytest.raises(IntegrityError), store.engine.begin() as conn:  # the index, not the code
        conn.execute(text(insert), {"t": T0.replace(tzinfo=None)})


def test_change_log_has_every_change_without_secrets(store: Store) -> None:
    acc = accounts(store)
    acc.add("dara", "admin", PW)
    acc.add("vanna", "viewer", PW)
    acc.set_password("vanna", PW2)
    acc.disable("vanna")
    acc.enable("vanna")
    for _ in range(5):
        with pytest.raises(AuthError):
            acc.authenticate("vanna", "wrong password!", T0)
    acc.enable("vanna")  # lifts the lock
    rows = _user_changes(store)
    t0 = T0.isoformat()
    locked = (T0 + dt.timedelta(minutes=15)).isoformat()
    assert [r[:6] for r in rows] == [
        ("boss", "dara", "create", None, None, None),
        ("boss", "dara", "update", "role", None, "admin"),
        ("boss", "vanna", "create", None, None, None),
        ("boss", "vanna", "update", "role", None, "viewer"),
        ("boss", "vanna", "update", "password", None, None),
        ("boss", "vanna", "update", "disabled_at", None, t0),
        ("boss", "vanna", "update", "disabled_at", t0, None),
        ("vanna", "vanna", "update", "locked_until", None, locked),
        ("boss", "vanna", "update", "locked_until", locked, None),
    ]
    secrets = [PW, PW2, "wrong password!", *_hashes(store).values(), "$argon2"]
    assert not [r for r in rows for s in secrets for v in r if v and s in v]
    # the inventory's change log reads user entries too (every entity, unfiltered)
    history = Inventory(store, "x").history()
    assert [c.entity for c in history] == ["user"] * len(rows)


def test_authenticate_one_message_for_every_refusal(store: Store) -> None:
    hasher = CountingHasher()
    acc = accounts(store, hasher)
    acc.add("dara", "reviewer", PW)
    acc.add("vanna", "admin", PW)
    user = acc.authenticate("DARA", PW, T0)
    assert user.name == "dara" and user.role == Role.REVIEWER
    messages = []
    for name, password in [("dara", PW2), ("nobody", PW), ("bad\x1bname", PW)]:
        before = hasher.verified
        with pytest.raises(AuthError) as info:
            acc.authenticate(name, password, T0)
        assert hasher.verified == before + 1  # unknown names cost a verification too
        messages.append(str(info.value))
    acc.disable("dara")
    with pytest.raises(AuthError) as info:
        acc.authenticate("dara", PW, T0)
    messages.append(str(info.value))
    assert set(messages) == {REFUSED}
    acc.enable("dara")
    assert acc.authenticate("dara", PW, T0).name == "dara"


def test_lockout_after_five_failures_and_unlock_after_fifteen_minutes(store: Store) -> None:
    acc = accounts(store)
    acc.add("dara", "it_staff", PW)
    acc.add("vanna", "admin", PW)
    for _ in range(4):
        with pytest.raises(AuthError):
            acc.authenticate("dara", "not the password", T0)
    assert acc.get("dara").failed_count == 4
    acc.authenticate("dara", PW, T0)  # a success starts the count again
    assert acc.get("dara").failed_count == 0
    for i in range(5):
        with pytest.raises(AuthError):
            acc.authenticate("dara", "not the password", T0 + dt.timedelta(seconds=i))
    until = acc.get("dara").locked_until
    assert until == T0 + dt.timedelta(seconds=4, minutes=15)
    for later in (dt.timedelta(seconds=5), dt.timedelta(minutes=15, seconds=3)):
        with pytest.raises(AuthError, match=REFUSED):
            acc.authenticate("dara", PW, T0 + later)  # even the right password
    assert acc.authenticate("vanna", PW, T0).name == "vanna"  # counted per user
    assert acc.authenticate("dara", PW, until).name == "dara"
    assert acc.get("dara").locked_until is None


def test_a_new_password_replaces_the_old_and_lifts_the_lock(store: Store) -> None:
    acc = accounts(store)
    acc.add("dara", "it_staff", PW)
    for _ in range(5):
        with pytest.raises(AuthError):
            acc.authenticate("dara", "not the password", T0)
    with pytest.raises(UsageError, match="at least 12"):
        acc.set_password("dara", "short")
    acc.set_password("DARA", PW2)
    with pytest.raises(AuthError):
        acc.authenticate("dara", PW, T0)
    assert acc.authenticate("dara", PW2, T0).password_changed_at == T0


def test_rehash_when_the_argon2_parameters_change(store: Store) -> None:
    accounts(store).add("dara", "viewer", PW)  # cheap parameters
    old = _hashes(store)["dara"]
    assert "m=8,t=1,p=1" in old
    strong = Accounts(store, "boss", clock=lambda: T0 + dt.timedelta(days=1))
    strong.authenticate("dara", PW, T0 + dt.timedelta(days=1))
    new = _hashes(store)["dara"]
    assert new != old and not PasswordHasher().check_needs_rehash(new)
    assert PasswordHasher().verify(new, PW)
    assert strong.get("dara").password_changed_at == T0  # the same password
    assert _user_changes(store)[-1][:4] == ("dara", "dara", "update", "password_params")
    strong.authenticate("dara", PW, T0 + dt.timedelta(days=1))
    assert _hashes(store)["dara"] == new  # once only
