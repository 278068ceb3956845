"""Server user accounts on one session; every account change appends to the change log.

The change log never holds a password or a hash: password changes are logged as the field
``password`` with neither old nor new value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kape_itops.domain.enums import ChangeAction, EntityType
from kape_itops.domain.users import Role, User
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.store.models import ChangeRow, UserRow


def to_user(row: UserRow) -> User:
    """The domain view of a row (without its hash)."""
    return User(
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        created_by=row.created_by,
        password_changed_at=row.password_changed_at,
        disabled_at=row.disabled_at,
        failed_count=row.failed_count,
        locked_until=row.locked_until,
    )


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who changes an account, when, and through what (for the change log)."""

    actor: str
    at: dt.datetime
    source: str


class UserRepo:
    """Reads and writes of ``users``; writes belong in a ``Store.write()`` session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- reads -------------------------------------------------------------------------------
    def row(self, name: str) -> UserRow | None:
        """The account named ``name``, ignoring case."""
        return self.s.scalar(select(UserRow).where(func.lower(UserRow.name) == name.lower()))

    def need(self, name: str) -> UserRow:
        """:meth:`row`, NotFoundError when there is none."""
        row = self.row(name)
        if row is None:
            raise NotFoundError(f"no user '{name}'")
        return row

    def users(self) -> list[User]:
        """Every account, by name."""
        rows = self.s.scalars(select(UserRow).order_by(func.lower(UserRow.name)))
        return [to_user(r) for r in rows]

    def active_admins(self) -> int:
        """How many admin accounts are not disabled."""
        q = select(func.count()).where(UserRow.role == Role.ADMIN, UserRow.disabled_at.is_(None))
        return int(self.s.scalar(q) or 0)

    # -- writes ------------------------------------------------------------------------------
    def _log(
        self,
        stamp: Stamp,
        key: str,
        action: ChangeAction,
        field: str | None = None,
        old: str | None = None,
        new: str | None = None,
    ) -> None:
        self.s.add(
            ChangeRow(
                at=stamp.at,
                actor=stamp.actor,
                entity=EntityType.USER.value,
                key=key,
                action=action.value,
                field=field,
                old=old,
                new=new,
                source=stamp.source,
            )
        )

    def add(self, name: str, role: Role, password_hash: str, stamp: Stamp) -> User:
        """A new account; UsageError when the name is taken (ignoring case)."""
        if (old := self.row(name)) is not None:
            raise UsageError(f"user '{name}' exists already (as '{old.name}')")
        row = UserRow(
            name=name,
            role=role.value,
            password_hash=password_hash,
            created_at=stamp.at,
            created_by=stamp.actor,
            password_changed_at=stamp.at,
            failed_count=0,
        )
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError as exc:  # a writer outside the write lock took it meanwhile
            raise UsageError(f"user '{name}' exists already") from exc
        self._log(stamp, name, ChangeAction.CREATE)
        self._log(stamp, name, ChangeAction.UPDATE, "role", None, role.value)
        return to_user(row)

    def set_disabled(self, row: UserRow, disabled: bool, stamp: Stamp) -> bool:
        """Disable or enable (clearing a log-in lock too); whether anything changed."""
        changed = False
        if disabled != (row.disabled_at is not None):
            old = row.disabled_at.isoformat() if row.disabled_at else None
            row.disabled_at = stamp.at if disabled else None
            new = stamp.at.isoformat() if disabled else None
            self._log(stamp, row.name, ChangeAction.UPDATE, "disabled_at", old, new)
            changed = True
        if not disabled and (row.locked_until is not None or row.failed_count):
            self._clear_lock(row, stamp)
            changed = True
        self.s.flush()
        return changed

    def set_role(self, row: UserRow, role: Role, stamp: Stamp) -> bool:
        """Give the account ``role``; whether it changed (logged as the field ``role``)."""
        if row.role == role.value:
            return False
        self._log(stamp, row.name, ChangeAction.UPDATE, "role", row.role, role.value)
        row.role = role.value
        self.s.flush()
        return True

    def _clear_lock(self, row: UserRow, stamp: Stamp) -> None:
        if row.locked_until is not None:
            self._log(
                stamp, row.name, ChangeAction.UPDATE, "locked_until", row.locked_until.isoformat()
            )
        row.locked_until, row.failed_count = None, 0

    def set_hash(self, row: UserRow, password_hash: str, stamp: Stamp, *, rehash: bool) -> None:
        """A new hash: a new password (clears a lock), or the same one ``rehash``-ed with new
        argon2 parameters. Logged without old or new value."""
        row.password_hash = password_hash
        if rehash:
            self._log(stamp, row.name, ChangeAction.UPDATE, "password_params")
        else:
            row.password_changed_at = stamp.at
            self._log(stamp, row.name, ChangeAction.UPDATE, "password")
            self._clear_lock(row, stamp)
        self.s.flush()

    def failed(self, row: UserRow, stamp: Stamp, limit: int, lockout: dt.timedelta) -> bool:
        """Count a failed log-in; the ``limit``-th in a row locks the account for ``lockout``
        (and starts the count again; the lock is logged). Whether it locked now."""
        row.failed_count += 1
        locked = row.failed_count >= limit
        if locked:
            row.failed_count, row.locked_until = 0, stamp.at + lockout
            new = row.locked_until.isoformat()
            self._log(stamp, row.name, ChangeAction.UPDATE, "locked_until", None, new)
        self.s.flush()
        return locked

    def succeeded(self, row: UserRow) -> None:
        """A successful log-in: the failure count starts again."""
        if row.failed_count or row.locked_until is not None:
            row.failed_count, row.locked_until = 0, None
            self.s.flush()
