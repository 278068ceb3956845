"""The accounts API: add, list, disable, enable, set passwords, authenticate.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher`` defaults) and rehashed at
the next log-in when those parameters change. A failed log-in gives one message whatever the
reason (unknown user, wrong password, disabled, locked), and an unknown name costs one
verification too, so neither words nor timing tell which names exist. After
:data:`~kape_itops.domain.users.MAX_FAILURES` failures in a row an account is locked for
:data:`~kape_itops.domain.users.LOCKOUT`. Hashing runs outside the store's write lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kape_itops.domain.users import (
    LOCKOUT,
    MAX_FAILURES,
    Role,
    User,
    name_problem,
    password_problem,
)
from kape_itops.errors import AuthError, UsageError
from kape_itops.store.db import Store
from kape_itops.store.user_repo import Stamp, UserRepo, to_user

__all__ = ["REFUSED", "Accounts"]

log = logging.getLogger(__name__)

REFUSED = "unknown user or wrong password"
"""The one message of every refused log-in."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UsageError(f"unknown role '{role}' (one of {choices})") from None


class Accounts:
    """User accounts of the server database; changes are attributed to ``actor``."""

    def __init__(
        self,
        store: Store,
        actor: str,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        """``hasher``: argon2 parameters (tests pass cheaper ones); ``clock``: the time of
        account changes (log-ins take theirs as an argument)."""
        self.store = store
        self.actor = actor
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self._dummy: str | None = None

    def _stamp(self, source: str, at: dt.datetime | None = None) -> Stamp:
        return Stamp(actor=self.actor, at=at or self.clock(), source=source)

    def _check(self, name: str, password: str) -> None:
        if why := name_problem(name):
            raise UsageError(why)
        if why := password_problem(name, password):
            raise UsageError(why)

    # -- queries -----------------------------------------------------------------------------
    def list(self) -> list[User]:
        """Every account, by name."""
        with self.store.session() as s:
            return UserRepo(s).users()

    def get(self, name: str) -> User:
        """The account ``name`` (ignoring case); NotFoundError when there is none."""
        with self.store.session() as s:
            return to_user(UserRepo(s).need(name))

    # -- changes -----------------------------------------------------------------------------
    def add(
        self, name: str, role: Role | str, password: str, source: str = "cli: server user add"
    ) -> User:
        """A new account; UsageError for a taken name, an unknown role or a weak password."""
        role = _role(role)
        self._check(name, password)
        hashed = self.hasher.hash(password)
        with self.store.write() as s:
            return UserRepo(s).add(name, role, hashed, self._stamp(source))

    def disable(self, name: str, source: str = "cli: server user disable") -> tuple[User, bool]:
        """Refuse ``name``'s log-ins from now on; (the account, whether it changed). The last
        admin who can log in cannot be disabled."""
        with self.store.write() as s:
            repo = UserRepo(s)
            row = repo.need(name)
            if row.disabled_at is None and row.role == Role.ADMIN and repo.active_admins() <= 1:
                raise UsageError(
                    f"'{row.name}' is the last admin who can log in: add or enable another "
                    "admin first"
                )
            changed = repo.set_disabled(row, True, self._stamp(source))
            return to_user(row), changed

    def set_role(
        self, name: str, role: Role | str, source: str = "cli: server user role"
    ) -> tuple[User, bool]:
        """Give ``name`` another role; (the account, whether it changed). The last admin who
        can log in cannot lose the admin role."""
        role = _role(role)
        with self.store.write() as s:
            repo = UserRepo(s)
            row = repo.need(name)
            if (
                row.disabled_at is None
                and row.role == Role.ADMIN
                and role != Role.ADMIN
                and repo.active_admins() <= 1
            ):
                raise UsageError(
                    f"'{row.name}' is the last admin who can log in: add or enable another "
                    "admin first"
                )
            changed = repo.set_role(row, role, self._stamp(source))
            return to_user(row), changed

    def enable(self, name: str, source: str = "cli: server user enable") -> tuple[User, bool]:
        """Let ``name`` log in again (a log-in lock is lifted too); (account, whether changed)."""
        with self.store.write() as s:
            repo = UserRepo(s)
            row = repo.need(name)
            changed = repo.set_disabled(row, False, self._stamp(source))
            return to_user(row), changed

    def set_password(
        self, name: str, password: str, source: str = "cli: server user password"
    ) -> User:
        """A new password for ``name`` (a log-in lock is lifted too)."""
        with self.store.session() as s:
            canonical = UserRepo(s).need(name).name
        self._check(canonical, password)
        hashed = self.hasher.hash(password)
        with self.store.write() as s:
            repo = UserRepo(s)
            row = repo.need(name)
            repo.set_hash(row, hashed, self._stamp(source), rehash=False)
            return to_user(row)

    # -- log-in ------------------------------------------------------------------------------
    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except InvalidHashError:
            log.error("a stored password hash is not an argon2 hash: refused")
            return False
        except VerificationError:
            return False

    def _refuse(self, password: str) -> AuthError:
        """The same cost as a real check, then the one message."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self._verify(self._dummy, password)
        return AuthError(REFUSED)

    def authenticate(self, name: str, password: str, now: dt.datetime) -> User:
        """The account when ``password`` is right and it may log in at ``now``; else AuthError
        with :data:`REFUSED` (a wrong password counts towards the lock)."""
        if name_problem(name) is not None:
            raise self._refuse(password)
        with self.store.session() as s:
            row = UserRepo(s).row(name)
            found = None if row is None else (row.password_hash, to_user(row))
        if found is None:
            raise self._refuse(password)
        hashed, user = found
        if user.disabled or user.locked(now):
            why = "disabled" if user.disabled else "locked"
            log.warning("log-in of %s refused: %s", user.name, why)
            raise self._refuse(password)
        if not self._verify(hashed, password):
            with self.store.write() as s:
                repo = UserRepo(s)
                if (row := repo.row(name)) is not None:
                    stamp = Stamp(actor=row.name, at=now, source="log-in")
                    if repo.failed(row, stamp, MAX_FAILURES, LOCKOUT):
                        log.warning("%s locked after %d failed log-ins", row.name, MAX_FAILURES)
            raise AuthError(REFUSED)
        fresh = self.hasher.hash(password) if self.hasher.check_needs_rehash(hashed) else None
        with self.store.write() as s:
            repo = UserRepo(s)
            row = repo.row(name)
            if row is None or row.disabled_at is not None:  # removed or disabled meanwhile
                raise AuthError(REFUSED)
            repo.succeeded(row)
            if fresh is not None and row.password_hash == hashed:
                repo.set_hash(row, fresh, Stamp(row.name, now, "log-in: rehash"), rehash=True)
            return to_user(row)
