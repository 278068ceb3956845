"""The database as the front ends see it: opened on first use, migrated, pruned, measured.

A front end holds one :class:`Database` per invocation and hands :attr:`Database.store` to the
other services (``Inventory``, ``ProbeService`` …); it never opens a session itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kape_itops.domain.reports import PruneStats
from kape_itops.reports import retention
from kape_itops.store.db import Store
from kape_itops.store.urls import has_password, safe_url

__all__ = ["Database"]


class Database:
    """One database URL; the connection pool is made only when something needs it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        """The store for the other services, as it is (see :meth:`prepare`)."""
        if self._store is None:
            self._store = Store(self.url)
        return self._store

    @property
    def where(self) -> str:
        """The URL for people: every password masked."""
        return safe_url(self.url)

    @property
    def has_password(self) -> bool:
        """Whether the URL holds a password (it must then stay out of units and cron lines)."""
        return has_password(self.url)

    def prepare(self) -> str | None:
        """Make the schema current before use (SQLite created or upgraded, PostgreSQL checked);
        a one-line note when this call changed it."""
        return self.store.prepare()

    def upgrade(self) -> tuple[str | None, str]:
        """Create or upgrade the schema (``itops init``): the revisions before and after."""
        return self.store.upgrade()

    def prune(self, keep: dt.timedelta | None = None) -> PruneStats:
        """Roll raw results up, then delete those older than ``keep`` (default: environment)."""
        return retention.prune(self.store, keep)

    def vacuum(self) -> None:
        """Give the space of deleted rows back to the disk."""
        retention.vacuum(self.store)

    def stats(self) -> dict[str, Any]:
        """Row counts, time ranges and size, and the database's masked URL."""
        got = retention.stats(self.store)
        got["database"] = self.where
        return got

    def close(self) -> None:
        """Release the pooled connections (a later use opens them again)."""
        if self._store is not None:
            self._store.dispose()
            self._store = None
