"""Read-only view of the enrolled sites per school, for the server's reports (silent collectors).

The sites themselves are written by the sync service (``store/sync_repo.py``); this module
only reads ``sync_sites`` and the newest run each site pushed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kape_itops.domain.reports import SchoolSync
from kape_itops.store.models import ProbeRunRow, SchoolRow, SiteRow
from kape_itops.store.models.base import as_utc

__all__ = ["SiteReads"]


class SiteReads:
    """Reads of ``sync_sites`` on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def schools(
        self, codes: tuple[str, ...] | None = None, *, runs: bool = True
    ) -> dict[str, SchoolSync]:
        """School code → its enrolled sites (revoked ones left out); schools without any are
        absent (a single-machine database has none).

        With ``runs``, ``newest_run_at`` is the end of the run with the highest site id each
        site pushed (runs are pushed in id order): one index seek per site, in one statement.
        """
        r = ProbeRunRow
        cols: list[Any] = [SiteRow.id, SchoolRow.code, SiteRow.enrolled_at, SiteRow.last_sync_at]
        if runs:
            newest = (
                select(func.coalesce(r.finished_at, r.started_at))
                .where(r.origin_site_id == SiteRow.id)
                .order_by(r.origin_id.desc())
                .limit(1)
                .correlate(SiteRow)
            )
            cols.append(newest.scalar_subquery())
        q = (
            select(*cols)
            .join(SchoolRow, SiteRow.school_id == SchoolRow.id)
            .where(SiteRow.revoked_at.is_(None))
            .order_by(SiteRow.id)
        )
        if codes is not None:
            q = q.where(SchoolRow.code.in_(codes))
        out: dict[str, SchoolSync] = {}
        for row in self.s.execute(q).all():
            code, enrolled = row[1], as_utc(row[2])
            last = as_utc(row[3]) if row[3] is not None else None
            run = as_utc(row[4]) if runs and row[4] is not None else None
            old = out.get(code)
            if old is None:
                out[code] = SchoolSync(code, 1, enrolled, last, run)
                continue
            out[code] = SchoolSync(
                code,
                old.sites + 1,
                min(old.enrolled_at, enrolled),
                _max(old.last_sync_at, last),
                _max(old.newest_run_at, run),
            )
        return out


def _max(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
