"""Read-only view of the enrolled sites per school, for the server's reports (silent collectors).

The sites themselves are written by the sync service (``store/sync_repo.py``); this module
only reads ``sync_sites`` and the newest run each site pushed.
"""

from __future__ import annotations

import datetime as dt

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

    def schools(self, codes: tuple[str, ...] | None = None) -> dict[str, SchoolSync]:
        """School code → its enrolled sites (revoked ones left out); schools without any are
        absent (a single-machine database has none).

        ``newest_run_at`` is the end of the run with the highest site id each site pushed (runs
        are pushed in id order): one index seek per site.
        """
        q = (
            select(SiteRow.id, SchoolRow.code, SiteRow.enrolled_at, SiteRow.last_sync_at)
            .join(SchoolRow, SiteRow.school_id == SchoolRow.id)
            .where(SiteRow.revoked_at.is_(None))
            .order_by(SiteRow.id)
        )
        if codes is not None:
            q = q.where(SchoolRow.code.in_(codes))
        out: dict[str, SchoolSync] = {}
        for site_id, code, enrolled, last in self.s.execute(q).all():
            newest = self._newest_run(int(site_id))
            old = out.get(code)
            enrolled, last = as_utc(enrolled), as_utc(last) if last is not None else None
            if old is None:
                out[code] = SchoolSync(code, 1, enrolled, last, newest)
                continue
            out[code] = SchoolSync(
                code,
                old.sites + 1,
                min(old.enrolled_at, enrolled),
                _max(old.last_sync_at, last),
                _max(old.newest_run_at, newest),
            )
        return out

    def _newest_run(self, site_id: int) -> dt.datetime | None:
        r = ProbeRunRow
        top = select(func.max(r.origin_id)).where(r.origin_site_id == site_id).scalar_subquery()
        row = self.s.execute(
            select(r.finished_at, r.started_at).where(
                r.origin_site_id == site_id, r.origin_id == top
            )
        ).first()
        if row is None:
            return None
        return as_utc(row[0] if row[0] is not None else row[1])


def _max(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
