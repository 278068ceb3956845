"""Named locks held until the end of a transaction (one writer of a kind at once)."""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from kape_itops.store.models import AlertCursorRow

ROLLUP_LOCK = 0x69746F7073
"""Lock key serialising concurrent rollups (report, prune, probe rounds)."""
ALERT_LOCK = 0x69746F7074
"""Lock key serialising concurrent calls of the alert hook."""


def serialise(session: Session, key: int) -> None:
    """Hold a lock named ``key`` until this transaction ends.

    PostgreSQL: an advisory transaction lock. SQLite: the database write lock, taken now by
    an empty delete instead of at the first real write.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    else:
        session.execute(delete(AlertCursorRow).where(AlertCursorRow.name == ""))
