"""Data retention: roll raw results up into hourly/daily buckets, then prune old raw results.

Raw results are kept ``ITOPS_RETENTION_DAYS`` days (default 30); rollups are kept for years.
Pruning is idempotent and never deletes a raw result that a later rollup may still need
(those of the newest rolled-up hour and the hour before it). Discovery sweeps are raw data too:
they are kept for the same period (they have no rollup to wait for). On a site joined to a
server, runs and sweeps the server has not acknowledged are never pruned, however old.

Each function owns its transaction. The rollups keep the metrics the probe kinds declare
(:func:`kape_itops.probes.catalog.kept_metrics`); the store itself knows no probe kinds.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from kape_itops.domain.reports import HOUR, PruneStats, RollupStats, from_epoch
from kape_itops.errors import ConfigError, UsageError
from kape_itops.probes import catalog
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo
from kape_itops.store.outbox_repo import OutboxRepo
from kape_itops.store.raw_repo import RawRepo
from kape_itops.store.rollup_repo import RollupRepo

DEFAULT_RETENTION_DAYS = 30
MIN_RETENTION = dt.timedelta(days=1)
REDO_HOURS = 1
"""Hours before the newest rollup bucket that each rollup recomputes (and pruning keeps)."""


def retention_from_env() -> dt.timedelta:
    """``ITOPS_RETENTION_DAYS`` (whole days, at least 1), default 30."""
    raw = os.environ.get("ITOPS_RETENTION_DAYS", "").strip()
    if not raw:
        return dt.timedelta(days=DEFAULT_RETENTION_DAYS)
    try:
        days = int(raw)
    except ValueError as exc:
        raise ConfigError(f"ITOPS_RETENTION_DAYS={raw!r} is not a whole number of days") from exc
    if days < 1:
        raise ConfigError(f"ITOPS_RETENTION_DAYS={raw!r} must be at least 1")
    return dt.timedelta(days=days)


def rollup(store: Store) -> RollupStats:
    """Bring the hourly and daily rollups up to date with the raw results."""
    with store.write() as s:
        return RollupRepo(s, catalog.kept_metrics()).rollup()


def prune(
    store: Store, keep: dt.timedelta | None = None, now: dt.datetime | None = None
) -> PruneStats:
    """Roll up, then delete raw results older than ``keep`` (default from the environment)."""
    keep = retention_from_env() if keep is None else keep
    if keep < MIN_RETENTION:
        raise UsageError("raw results must be kept at least 1 day (--keep 1d or more)")
    now = now or dt.datetime.now(dt.UTC)
    with store.write() as s:
        rollups = RollupRepo(s, catalog.kept_metrics())
        stats = rollups.rollup(REDO_HOURS)
        runs_held, sweeps_held = OutboxRepo(s).unacked_since()  # a joined site's unsent data
        sweeps = DiscoveryRepo(s).prune(_held(now - keep, sweeps_held))
        mark = rollups.watermark()
        cutoff = now - keep
        if mark is None:
            return PruneStats(stats, cutoff, 0, 0, sweeps)
        cutoff = _held(min(cutoff, from_epoch(mark - REDO_HOURS * HOUR)), runs_held)
        results, runs = RawRepo(s).prune(cutoff)
    return PruneStats(stats, cutoff, results, runs, sweeps)


def _held(cutoff: dt.datetime, held: dt.datetime | None) -> dt.datetime:
    """``cutoff``, moved back to ``held`` (the oldest record the server has not acknowledged)."""
    return cutoff if held is None else min(cutoff, held)


def after_run(store: Store) -> PruneStats:
    """What the probe runner calls after each round: roll up and prune with the defaults."""
    return prune(store)


def vacuum(store: Store) -> None:
    """Give the space of deleted rows back (SQLite: VACUUM rewrites the file; PostgreSQL: VACUUM)."""
    store.vacuum()


def stats(store: Store) -> dict[str, Any]:
    """Row counts, the raw and rollup time ranges, and the database size in bytes."""
    with store.session() as s:
        return RawRepo(s).stats()
