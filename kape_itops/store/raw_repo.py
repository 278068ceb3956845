"""The raw result tables as a whole: their time range, pruning, and storage statistics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from kape_itops.domain.reports import from_epoch
from kape_itops.store import ping_codec, ping_store, state_repo
from kape_itops.store.models import AlertStateRow, ProbeResultRow, ProbeRollupRow, ProbeRunRow
from kape_itops.store.models.base import as_utc


class RawRepo:
    """Raw results (``probe_results`` and the compact ``ping_results``) on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def time_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The oldest and newest raw result times over both result tables."""
        r = ProbeResultRow
        lo, hi = self.s.execute(select(func.min(r.started_at), func.max(r.started_at))).one()
        span = ping_store.time_range(self.s)
        if span is not None:
            pl, ph = ping_codec.from_us(span[0]), ping_codec.from_us(span[1])
            lo = pl if lo is None or pl < as_utc(lo) else as_utc(lo)
            hi = ph if hi is None or ph > as_utc(hi) else as_utc(hi)
        return lo, hi

    def prune(self, cutoff: dt.datetime) -> tuple[int, int]:
        """Delete raw results started before ``cutoff`` and runs left empty; (results, runs)."""
        results = _rowcount(
            self.s.execute(delete(ProbeResultRow).where(ProbeResultRow.started_at < cutoff))
        )
        results += ping_store.prune(self.s, ping_codec.to_us(cutoff))
        state_repo.prune(self.s, ping_codec.to_us(cutoff))  # no state of a deleted result
        has_results = select(ProbeResultRow.id).where(ProbeResultRow.run_id == ProbeRunRow.id)
        runs = _rowcount(
            self.s.execute(
                delete(ProbeRunRow).where(
                    ProbeRunRow.started_at < cutoff,
                    ~has_results.exists(),
                    ~ping_store.run_has_pings(),
                )
            )
        )
        return results, runs

    def stats(self) -> dict[str, Any]:
        """Row counts, the raw and rollup time ranges, and the database size in bytes."""
        r, u = ProbeResultRow, ProbeRollupRow
        oldest, newest = self.time_range()
        pings = ping_store.count(self.s)
        out: dict[str, Any] = {
            "probe_runs": self.s.scalar(select(func.count(ProbeRunRow.id))) or 0,
            "probe_results": (self.s.scalar(select(func.count(r.id))) or 0) + pings,
            "raw_oldest": as_utc(oldest) if oldest else None,
            "raw_newest": as_utc(newest) if newest else None,
        }
        for grain in ("hour", "day"):
            n, lo, hi = self.s.execute(
                select(func.count(u.id), func.min(u.bucket_start), func.max(u.bucket_start)).where(
                    u.grain == grain
                )
            ).one()
            out[f"rollups_{grain}"] = n or 0
            out[f"rollups_{grain}_oldest"] = from_epoch(int(lo)) if lo is not None else None
            out[f"rollups_{grain}_newest"] = from_epoch(int(hi)) if hi is not None else None
        out["alert_states"] = self.s.scalar(select(func.count(AlertStateRow.key))) or 0
        out["size_bytes"] = self.size_bytes()
        return out

    def size_bytes(self) -> int:
        """The database's size on disk."""
        bind = self.s.get_bind()
        if bind.dialect.name == "sqlite":
            pages = self.s.execute(text("PRAGMA page_count")).scalar() or 0
            size = self.s.execute(text("PRAGMA page_size")).scalar() or 0
            return int(pages) * int(size)
        return int(
            self.s.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
        )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
