"""Bulk writes of what sites push (runs with results, sweeps, backups), with origin ids.

Runs, results and backups go through their one write path (:class:`ProbeRepo`,
:mod:`ping_store`, :class:`BackupRepo`) as column tuples or dicts: no ORM object per result.
A run's rows are built before the write transaction (:func:`ingest_rows.prepare`, pure CPU), so the
write lock is held only for the inserts. Every row
carries its global id (``origin_site_id``, ``origin_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.ingest_rows import PreparedRun
from kape_itops.store.models import (
    ChangeRow,
    DeviceRow,
    DiscoveryHostRow,
    DiscoverySweepRow,
    ProbeRunRow,
    SchoolRow,
)
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.rollup_repo import mark_redo

_CHUNK = 500
T = TypeVar("T")
_SWEEPS = cast(Table, DiscoverySweepRow.__table__)
_HOSTS = cast(Table, DiscoveryHostRow.__table__)


class IngestRepo:
    """Writes of pushed records on one session (the caller holds the write transaction)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def devices(self, tags: Sequence[str]) -> dict[str, tuple[int, str]]:
        """For the stored devices among ``tags``: (device id, school code)."""
        tags = sorted(set(tags))
        out: dict[str, tuple[int, str]] = {}
        for i in range(0, len(tags), _CHUNK):
            q = (
                select(DeviceRow.asset_tag, DeviceRow.id, SchoolRow.code)
                .join(SchoolRow, SchoolRow.id == DeviceRow.school_id)
                .where(DeviceRow.asset_tag.in_(tags[i : i + _CHUNK]))
            )
            out.update((t, (d, c)) for t, d, c in self.s.execute(q).tuples())
        return out

    def school_codes(self) -> set[str]:
        """Every school code."""
        return set(self.s.scalars(select(SchoolRow.code)))

    def add_runs(
        self,
        site_id: int,
        runs: Sequence[PreparedRun],
        origin_ids: Sequence[int],
        received_at: dt.datetime,
    ) -> int | None:
        """Store runs and their results, built before the transaction (:func:`ingest_rows.prepare`);
        returns the oldest result's Unix second (None without results) after lowering the
        rollup redo mark to it if needed."""
        ProbeRepo(self.s).add_prepared(
            [
                {**r.run, "origin_site_id": site_id, "origin_id": o, "received_at": received_at}
                for r, o in zip(runs, origin_ids, strict=True)
            ],
            runs,
        )
        times = [r.oldest for r in runs if r.oldest is not None]
        if not times:
            return None
        oldest = int(min(times))
        mark_redo(self.s, oldest)
        return oldest

    def run_ids(self, site_id: int, origin_ids: Sequence[int]) -> dict[int, int]:
        """Our ids of the site's runs among ``origin_ids``."""
        out: dict[int, int] = {}
        ids = sorted(set(origin_ids))
        for i in range(0, len(ids), _CHUNK):
            q = select(ProbeRunRow.origin_id, ProbeRunRow.id).where(
                ProbeRunRow.origin_site_id == site_id,
                ProbeRunRow.origin_id.in_(ids[i : i + _CHUNK]),
            )
            out.update((int(o or 0), int(r)) for o, r in self.s.execute(q).tuples())
        return out

    def add_sweeps(self, site_id: int, school_id: int, items: Sequence[Mapping[str, Any]]) -> int:
        """Store discovery sweeps and their hosts; returns how many sweeps."""
        for item in items:
            sweep_id = self.s.execute(
                insert(_SWEEPS).returning(_SWEEPS.c.id),
                {
                    "school_id": school_id,
                    "started_at": item["started_at"],
                    "duration_s": item["duration_s"],
                    "method": item["method"],
                    "interface": item["interface"],
                    "subnets": list(item["subnets"]),
                    "actor": item["actor"],
                    "counts": item["counts"],
                    "origin_site_id": site_id,
                    "origin_id": item["id"],
                },
            ).scalar_one()
            hosts = [{**h, "sweep_id": sweep_id} for h in item["hosts"]]
            for i in range(0, len(hosts), 5000):
                self.s.execute(insert(_HOSTS), hosts[i : i + 5000])
        return len(items)

    def add_backups(
        self,
        site_id: int,
        items: Sequence[Mapping[str, Any]],
        devices: Mapping[str, int],
    ) -> int:
        """Store configuration backups (their run mapped to ours when we hold it)."""
        runs = self.run_ids(site_id, [i["run"] for i in items if i["run"] is not None])
        return BackupRepo(self.s).add_synced(site_id, items, devices, runs)

    def attempt(self, fn: Callable[[], T]) -> tuple[T | None, str | None]:
        """Run ``fn`` in a savepoint: (its result, None), or (None, why) when the database
        refused it (a unique MAC or serial held by another device), leaving the rest intact."""
        try:
            with self.s.begin_nested():
                return fn(), None
        except IntegrityError as exc:
            return None, " ".join(str(exc.orig).split())[:200]

    def latest_change(self, entity: str, key: str, field: str) -> tuple[dt.datetime, str] | None:
        """(time, actor) of the newest change-log entry of a field, else of the entity's
        creation, else None."""
        c = ChangeRow
        base = select(c.at, c.actor).where(c.entity == entity, c.key == key)
        for q in (base.where(c.field == field), base.where(c.action == "create")):
            row = self.s.execute(q.order_by(c.id.desc()).limit(1)).tuples().first()
            if row is not None:
                return row[0], row[1]
        return None
