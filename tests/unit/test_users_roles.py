"""Which role may do what, and the user name and password rules (pure domain)."""

from __future__ import annotations

import pytest

from kape_itops.domain.users import (
    PASSWORD_MIN,
    Action,
    Role,
    allowed,
    name_problem,
    password_problem,
)

A = Action
EXPECTED = {
    Role.ADMIN: {A.READ, A.INVENTORY_WRITE, A.PROBES_BACKUPS, A.QUOTATIONS, A.ADMIN_USERS},
    Role.IT_STAFF: {A.READ, A.INVENTORY_WRITE, A.PROBES_BACKUPS},
    Role.REVIEWER: {A.READ, A.QUOTATIONS},
    Role.VIEWER: {A.READ},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_table(role: Role, action: Action) -> None:
    assert allowed(role, action) is (action in EXPECTED[role])


def test_only_admins_manage_users_and_viewers_only_read() -> None:
    assert [r for r in Role if allowed(r, Action.ADMIN_USERS)] == [Role.ADMIN]
    assert [a for a in Action if allowed(Role.VIEWER, a)] == [Action.READ]
    assert all(allowed(r, Action.READ) for r in Role)
    assert {r.value for r in Role} == {"admin", "it_staff", "reviewer", "viewer"}


@pytest.mark.parametrize(
    "name", ["", "a b", "dara\x1b[2J", "dara\u202eevil", "ដារា", "-dara", "x" * 65, "da\nra"]
)
def test_bad_user_names_are_refused(name: str) -> None:
    why = name_problem(name)
    assert why
    assert "\x1b" not in why and "\u202e" not in why


@pytest.mark.parametrize("name", ["dara", "Dara.Sok", "it-staff_2", "a@ngo.org", "x" * 64])
def test_good_user_names(name: str) -> None:
    assert name_problem(name) is None


def test_password_policy() -> None:
    assert password_problem("dara", "x" * (PASSWORD_MIN - 1))
    assert password_problem("dara", "y" * 1025)
    assert password_problem("administrator", "Administrator")
    assert password_problem("dara", "x" * PASSWORD_MIN) is None
    secret = "correct horse battery"
    assert secret not in (password_problem("dara", secret[:5]) or "")
