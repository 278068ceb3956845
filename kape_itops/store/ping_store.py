"""Queries on the compact ping tables shared by the probe and report repositories.

``ping_results`` has its primary key (device, time, run) as only index, so every query names
the devices (all of them: ``device_id IN (SELECT id FROM devices)``, one seek each) and a time
range; reads by run take the run's time span from ``ping_runs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, select, update
from sqlalchemy.orm import Session

from kape_itops.store import bulk, ingest_rows
from kape_itops.store.ingest_rows import PreparedRun
from kape_itops.store.models import DeviceRow, PingResultRow, PingRunRow, ProbeRunRow

COLUMNS = tuple(PingResultRow.__table__.c)
_PINGS = cast(Table, PingResultRow.__table__)


def every_device() -> ColumnElement[bool]:
    """The device condition that lets the primary key serve a time range over all devices."""
    return PingResultRow.device_id.in_(select(DeviceRow.id).scalar_subquery())


def insert_rows(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert packed rows and widen their runs' time spans."""
    spans: dict[int, tuple[int, int]] = {}
    for row in rows:
        run, at = row["run_id"], row["started_us"]
        lo, hi = spans.get(run, (at, at))
        spans[run] = (min(lo, at), max(hi, at))
    bulk.insert_many(s, _PINGS, rows)  # COPY on PostgreSQL
    _widen(s, spans)


def insert_prepared(s: Session, run_ids: Sequence[int], runs: Sequence[PreparedRun]) -> None:
    """Insert the compact rows of prepared runs (``run_ids`` their ids): one COPY on
    PostgreSQL when they carry COPY text, and widen the runs' time spans."""
    spans = {i: r.span for i, r in zip(run_ids, runs, strict=True) if r.span is not None}
    if not spans:
        return
    pairs = list(zip(run_ids, runs, strict=True))
    if s.get_bind().dialect.name == "postgresql" and all(r.compact_text is not None for r in runs):
        text = "".join(ingest_rows.with_run(r.compact_text or "", i) for i, r in pairs)
        bulk.copy_text(s, _PINGS, ingest_rows.COMPACT_COLUMNS, text)
    else:
        cols = ingest_rows.COMPACT_COLUMNS
        rows = [dict(zip(cols, (i, *row), strict=True)) for i, r in pairs for row in r.compact]
        bulk.insert_many(s, _PINGS, rows)
    _widen(s, spans)


def _widen(s: Session, spans: dict[int, tuple[int, int]]) -> None:
    """Create or widen the ``ping_runs`` spans of these runs."""
    known: dict[int, PingRunRow] = {}
    runs = list(spans)
    for i in range(0, len(runs), 500):  # one query for the spans, not one per run
        q = select(PingRunRow).where(PingRunRow.run_id.in_(runs[i : i + 500]))
        known.update((r.run_id, r) for r in s.scalars(q))
    for run, (lo, hi) in spans.items():
        have = known.get(run)
        if have is None:
            s.add(PingRunRow(run_id=run, first_us=lo, last_us=hi))
        else:
            have.first_us, have.last_us = min(have.first_us, lo), max(have.last_us, hi)
    s.flush()


def of_run(s: Session, run_id: int) -> ColumnElement[bool] | None:
    """The condition selecting one run's ping results, or None when it has none."""
    span = s.get(PingRunRow, run_id)
    if span is None:
        return None
    p = PingResultRow
    return and_(
        every_device(),
        p.started_us >= span.first_us,
        p.started_us <= span.last_us,
        p.run_id == run_id,
    )


def since(start_us: int) -> ColumnElement[bool]:
    """Ping results started at or after ``start_us``."""
    return and_(every_device(), PingResultRow.started_us >= start_us)


def time_range(s: Session) -> tuple[int, int] | None:
    """The oldest and newest ping result times (Unix microseconds), or None."""
    p = PingResultRow
    lo = select(func.min(p.started_us)).where(p.device_id == DeviceRow.id).scalar_subquery()
    hi = select(func.max(p.started_us)).where(p.device_id == DeviceRow.id).scalar_subquery()
    first, last = s.execute(select(func.min(lo), func.max(hi)).select_from(DeviceRow)).one()
    return (int(first), int(last)) if first is not None else None


def count(s: Session) -> int:
    """How many ping results are stored."""
    return int(s.scalar(select(func.count()).select_from(PingResultRow)) or 0)


def prune(s: Session, cutoff_us: int) -> int:
    """Delete ping results started before ``cutoff_us``; returns how many."""
    p = PingResultRow
    result = s.execute(delete(p).where(every_device(), p.started_us < cutoff_us))
    s.execute(delete(PingRunRow).where(PingRunRow.last_us < cutoff_us))
    s.execute(update(PingRunRow).where(PingRunRow.first_us < cutoff_us).values(first_us=cutoff_us))
    return int(getattr(result, "rowcount", 0) or 0)


def run_has_pings() -> ColumnElement[bool]:
    """For a query on ``probe_runs``: the run still has ping results."""
    return select(PingRunRow.run_id).where(PingRunRow.run_id == ProbeRunRow.id).exists()
