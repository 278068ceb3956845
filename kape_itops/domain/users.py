"""Server user accounts: roles, what each role may do, and the name and password rules.

Pure: no I/O. Hashing and storage live in :mod:`kape_itops.accounts.service`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kape_itops.domain.text import refusal, reveal

__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "NAME_MAX",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "PERMISSIONS",
    "Action",
    "Role",
    "User",
    "allowed",
    "name_problem",
    "password_problem",
]

NAME_MAX = 64
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
"""Longer passwords are refused (argon2 would hash them, but nobody types them)."""
MAX_FAILURES = 5
"""Failed log-ins in a row that lock an account for :data:`LOCKOUT`."""
LOCKOUT = dt.timedelta(minutes=15)

# ASCII only: lower() agrees on SQLite and PostgreSQL, so "Dara" and "dara" are one name
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")


class Role(StrEnum):
    """A user's role on the server."""

    ADMIN = "admin"
    IT_STAFF = "it_staff"
    REVIEWER = "reviewer"
    VIEWER = "viewer"


class Action(StrEnum):
    """What a logged-in user may try to do."""

    READ = "read"
    INVENTORY_WRITE = "inventory_write"
    PROBES_BACKUPS = "probes_backups"
    QUOTATIONS = "quotations"
    ADMIN_USERS = "admin_users"


PERMISSIONS: Mapping[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.IT_STAFF: frozenset({Action.READ, Action.INVENTORY_WRITE, Action.PROBES_BACKUPS}),
    Role.REVIEWER: frozenset({Action.READ, Action.QUOTATIONS}),
    Role.VIEWER: frozenset({Action.READ}),
}
"""admin: everything; it_staff: inventory, probes, backups; reviewer: quotations;
viewer: read-only (managers, donors). Every role reads."""


def allowed(role: Role, action: Action) -> bool:
    """Whether ``role`` may do ``action``."""
    return action in PERMISSIONS[role]


@dataclass(frozen=True, slots=True)
class User:
    """A user account as shown and checked (the password hash never leaves the store)."""

    name: str
    role: Role
    created_at: dt.datetime
    created_by: str
    password_changed_at: dt.datetime
    disabled_at: dt.datetime | None = None
    failed_count: int = 0
    locked_until: dt.datetime | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    def locked(self, now: dt.datetime) -> bool:
        """Whether too many failed log-ins lock the account at ``now``."""
        return self.locked_until is not None and now < self.locked_until


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a user name, or None."""
    shown = reveal(name[:40], newlines=False)
    if why := refusal(name, newlines=False):
        return f"user name '{shown}' {why}"
    if not name:
        return "the user name is empty"
    if len(name) > NAME_MAX:
        return f"user name '{shown}...' is longer than {NAME_MAX} characters"
    if not _NAME.fullmatch(name):
        return (
            f"user name '{shown}' may hold only ASCII letters, digits and . _ @ - "
            "(starting with a letter or digit)"
        )
    return None


def password_problem(name: str, password: str) -> str | None:
    """Why ``password`` is not good enough for user ``name``, or None (never shows it)."""
    if len(password) < PASSWORD_MIN:
        return f"the password must be at least {PASSWORD_MIN} characters long"
    if len(password) > PASSWORD_MAX:
        return f"the password must be at most {PASSWORD_MAX} characters long"
    if password.strip().casefold() == name.strip().casefold():
        return "the password must not be the user name"
    return None
