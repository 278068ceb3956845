"""Kept monthly reports and the cheap fingerprint of the data a month's report reads.

A monthly report (the month and the one before, both ending at ``end``) reads the inventory
and its change log, the rollups (and, through them, the raw probe results), configuration
backups, discovery sweeps and the sync sites. :meth:`ReportCacheRepo.mark` sums that up in
index lookups: the newest change-log id, the oldest and newest id of the runs, backups and
sweeps and the oldest rollup id (pruning raises them), the rollups' progress up to ``end``,
the runs still being written, and each site's enrolment and last sync (clamped to ``end``).
Writers hold the store's write lock, so ids are committed in order. Rows of the three
append-only streams added after a report was built are found by :meth:`ReportCacheRepo.news`:
a primary-key range from the highest id the report has seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kape_itops.domain.reports import HOUR, epoch
from kape_itops.store.models import (
    ChangeRow,
    ConfigBackupRow,
    DiscoverySweepRow,
    PingRunRow,
    ProbeResultRow,
    ProbeRollupRow,
    ProbeRunRow,
    ReportCacheRow,
    RollupRedoRow,
    SiteRow,
)

__all__ = ["CacheKey", "DataMark", "Kept", "ReportCacheRepo", "Seen"]

_REDO = "hour"


@dataclass(frozen=True, slots=True)
class CacheKey:
    """Which report: the month's first day, a school code (``""``: all), a language (``""``
    for JSON) and a format (``html``, ``pdf``, ``json``, ...)."""

    month: dt.date
    school: str
    lang: str
    fmt: str


@dataclass(frozen=True, slots=True)
class Seen:
    """The highest probe-run, configuration-backup and discovery-sweep ids (0: none)."""

    run: int
    backup: int
    sweep: int


@dataclass(frozen=True, slots=True)
class DataMark:
    """The fingerprint of the data up to ``end``: ``fixed`` (plain JSON values) must be equal,
    and no stream row newer than ``seen`` may start before ``end``."""

    fixed: dict[str, Any]
    seen: Seen


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept report, without its bytes."""

    id: int
    digest: str
    seen: Seen
    built_at: dt.datetime
    build_ms: float


class ReportCacheRepo:
    """The ``report_cache`` table and the data fingerprint, on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- the fingerprint -----------------------------------------------------------------------
    def mark(self, end: dt.datetime) -> DataMark:
        """The fingerprint of everything a report of the months before ``end`` reads."""
        s = self.s
        runs = s.execute(select(func.min(ProbeRunRow.id), func.max(ProbeRunRow.id))).one()
        backups = s.execute(
            select(func.min(ConfigBackupRow.id), func.max(ConfigBackupRow.id))
        ).one()
        sweeps = s.execute(
            select(func.min(DiscoverySweepRow.id), func.max(DiscoverySweepRow.id))
        ).one()
        end_s = epoch(end)
        hour = s.scalar(
            select(func.max(ProbeRollupRow.bucket_start)).where(ProbeRollupRow.grain == "hour")
        )
        redo = s.get(RollupRedoRow, _REDO)
        fixed: dict[str, Any] = {
            "changes": s.scalar(select(func.max(ChangeRow.id))),
            "oldest": [
                runs[0],
                backups[0],
                sweeps[0],
                s.scalar(select(func.min(ProbeRollupRow.id))),
            ],
            # the rollup recomputes from an hour before its newest bucket: done for ``end``
            # once that is past it
            "rollup": "done" if hour is not None and int(hour) - HOUR >= end_s else hour,
            "redo": redo.bucket_start if redo is not None and redo.bucket_start < end_s else None,
            "unfinished": self._unfinished(end),
            "sites": self._sites(end),
        }
        return DataMark(fixed, Seen(runs[1] or 0, backups[1] or 0, sweeps[1] or 0))

    def _unfinished(self, end: dt.datetime) -> list[list[Any]]:
        """Runs still being written that began before ``end``, with how far their results go."""
        r = ProbeRunRow
        ids = list(
            self.s.scalars(
                select(r.id).where(r.finished_at.is_(None), r.started_at < end).order_by(r.id)
            )
        )
        out: list[list[Any]] = []
        for run in ids[:100]:
            n = self.s.scalar(select(func.count()).where(ProbeResultRow.run_id == run))
            span = self.s.get(PingRunRow, run)
            out.append([run, n, None if span is None else [span.first_us, span.last_us]])
        return out + ([["more", len(ids)]] if len(ids) > 100 else [])

    def _sites(self, end: dt.datetime) -> list[list[Any]]:
        """Each site's school, enrolment, revocation and last sync before ``end``."""
        q = select(
            SiteRow.id,
            SiteRow.school_id,
            SiteRow.enrolled_at,
            SiteRow.revoked_at,
            SiteRow.last_sync_at,
        ).order_by(SiteRow.id)
        out: list[list[Any]] = []
        for sid, school, enrolled, revoked, last in self.s.execute(q):
            synced = None if last is None else last.isoformat() if last < end else "after"
            out.append([sid, school, enrolled.isoformat(), revoked is not None, synced])
        return out

    def news(self, seen: Seen, end: dt.datetime) -> bool:
        """Whether a run, backup or sweep stored after ``seen`` began before ``end``."""
        streams: list[tuple[Any, Any, int]] = [
            (ProbeRunRow.id, ProbeRunRow.started_at, seen.run),
            (ConfigBackupRow.id, ConfigBackupRow.taken_at, seen.backup),
            (DiscoverySweepRow.id, DiscoverySweepRow.started_at, seen.sweep),
        ]
        for key, at, after in streams:
            q = select(key).where(key > after, at < end).order_by(key).limit(1)
            if self.s.scalar(q) is not None:
                return True
        return False

    # -- kept reports --------------------------------------------------------------------------
    def kept(self, key: CacheKey) -> list[Kept]:
        """The reports kept for ``key``, newest first."""
        c = ReportCacheRow
        q = (
            select(c.id, c.digest, c.seen_run, c.seen_backup, c.seen_sweep, c.built_at, c.build_ms)
            .where(c.month == key.month, c.school == key.school, c.lang == key.lang)
            .where(c.fmt == key.fmt)
            .order_by(c.id.desc())
        )
        return [Kept(i, d, Seen(r, b, w), at, ms) for i, d, r, b, w, at, ms in self.s.execute(q)]

    def body(self, entry_id: int) -> bytes | None:
        """The bytes of a kept report (None: pruned meanwhile)."""
        return self.s.scalar(select(ReportCacheRow.body).where(ReportCacheRow.id == entry_id))

    def put(
        self,
        key: CacheKey,
        digest: str,
        seen: Seen,
        body: bytes,
        *,
        build_ms: float,
        keep: int,
        total: int | None = None,
        built_at: dt.datetime | None = None,
    ) -> int:
        """Keep a report; only the ``keep`` newest of its key stay, and the ``total`` newest of
        all keys. Returns its id."""
        row = ReportCacheRow(
            month=key.month,
            school=key.school,
            lang=key.lang,
            fmt=key.fmt,
            digest=digest,
            seen_run=seen.run,
            seen_backup=seen.backup,
            seen_sweep=seen.sweep,
            built_at=built_at or dt.datetime.now(dt.UTC),
            build_ms=build_ms,
            body=body,
        )
        self.s.add(row)
        self.s.flush()
        old = [k.id for k in self.kept(key)[max(1, keep) :]]
        if old:
            self.s.execute(delete(ReportCacheRow).where(ReportCacheRow.id.in_(old)))
        if total is not None and self.count() > total:
            c = ReportCacheRow
            last = select(c.id).order_by(c.id.desc()).offset(max(1, total)).limit(1)
            cut = self.s.scalar(last)
            if cut is not None:
                self.s.execute(delete(c).where(c.id <= cut))
        return row.id

    def bump(self, entry_id: int, seen: Seen) -> None:
        """Record that the streams up to ``seen`` hold nothing new for a kept report."""
        self.s.execute(
            update(ReportCacheRow)
            .where(ReportCacheRow.id == entry_id)
            .values(seen_run=seen.run, seen_backup=seen.backup, seen_sweep=seen.sweep)
        )

    def count(self) -> int:
        """How many reports are kept (all keys)."""
        return int(self.s.scalar(select(func.count()).select_from(ReportCacheRow)) or 0)

    def clear(self) -> int:
        """Forget every kept report; returns how many."""
        n = self.count()
        self.s.execute(delete(ReportCacheRow))
        return n
