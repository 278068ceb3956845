"""Server-side sync bookkeeping: enrolled sites, one-time tokens, marks, the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kape_itops.domain.sync import STREAMS, Site, SyncEvent
from kape_itops.store.models import (
    ChangeRow,
    ConfigBackupRow,
    DiscoverySweepRow,
    EnrolmentRow,
    ProbeRunRow,
    RoomRow,
    SchoolRow,
    SiteRow,
    SyncEventRow,
    SyncMarkRow,
)

ORIGIN_TABLES: dict[str, Any] = {
    "changes": ChangeRow,
    "runs": ProbeRunRow,
    "sweeps": DiscoverySweepRow,
    "backups": ConfigBackupRow,
}
"""Per stream, the table whose rows carry ``origin_site_id``/``origin_id``."""


def _site(row: SiteRow, school: str) -> Site:
    return Site(
        id=row.id,
        uid=row.uid,
        school=school,
        name=row.name,
        public_key=row.public_key,
        enrolled_at=row.enrolled_at,
        revoked_at=row.revoked_at,
        last_sync_at=row.last_sync_at,
        clock_offset_s=row.clock_offset_s,
        version=row.version,
        backlog=row.backlog,
    )


class SyncRepo:
    """Sites, enrolments, marks and events on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- schools and enrolment ---------------------------------------------------------------
    def school_id(self, code: str) -> int | None:
        """The id of school ``code``, or None."""
        return self.s.scalar(select(SchoolRow.id).where(SchoolRow.code == code))

    def add_enrolment(
        self, school_id: int, token_sha256: str, at: dt.datetime, expires: dt.datetime, actor: str
    ) -> None:
        """Store a one-time token's hash."""
        self.s.add(
            EnrolmentRow(
                school_id=school_id,
                token_sha256=token_sha256,
                created_at=at,
                expires_at=expires,
                used_at=None,
                site_id=None,
                actor=actor[:100],
            )
        )
        self.s.flush()

    def enrolment(self, token_sha256: str) -> EnrolmentRow | None:
        """The enrolment of a token hash (locked for the join), or None."""
        return self.s.scalar(
            select(EnrolmentRow).where(EnrolmentRow.token_sha256 == token_sha256).with_for_update()
        )

    def add_site(
        self,
        enrolment: EnrolmentRow,
        uid: str,
        name: str,
        token_sha256: str,
        public_key: str,
        at: dt.datetime,
        version: str,
    ) -> Site:
        """Create the site of a valid enrolment and mark the token used."""
        row = SiteRow(
            uid=uid,
            school_id=enrolment.school_id,
            name=name[:100],
            token_sha256=token_sha256,
            public_key=public_key,
            enrolled_at=at,
            revoked_at=None,
            last_sync_at=at,
            clock_offset_s=None,
            version=version[:32],
            backlog=None,
        )
        self.s.add(row)
        self.s.flush()
        enrolment.used_at = at
        enrolment.site_id = row.id
        self.s.flush()
        return self.site(row.id) or _site(row, "")

    def rooms(self, school_id: int) -> list[str]:
        """The school's room names, sorted."""
        q = select(RoomRow.name).where(RoomRow.school_id == school_id).order_by(RoomRow.name)
        return list(self.s.scalars(q))

    # -- sites -------------------------------------------------------------------------------
    def _sites(self, *where: Any) -> list[Site]:
        q = (
            select(SiteRow, SchoolRow.code)
            .join(SchoolRow, SchoolRow.id == SiteRow.school_id)
            .where(*where)
            .order_by(SchoolRow.code, SiteRow.id)
        )
        return [_site(r, code) for r, code in self.s.execute(q).tuples()]

    def site(self, site_id: int) -> Site | None:
        """A site by its database id."""
        found = self._sites(SiteRow.id == site_id)
        return found[0] if found else None

    def by_token(self, token_sha256: str) -> Site | None:
        """The site whose credential hashes to ``token_sha256``."""
        found = self._sites(SiteRow.token_sha256 == token_sha256)
        return found[0] if found else None

    def by_uid(self, uid: str) -> Site | None:
        """A site by its uid."""
        found = self._sites(SiteRow.uid == uid)
        return found[0] if found else None

    def sites(self, school: str | None = None) -> list[Site]:
        """Every site (of ``school``), by school."""
        return self._sites(SchoolRow.code == school) if school else self._sites()

    def revoke(self, school_id: int, uid: str | None, at: dt.datetime) -> list[str]:
        """Revoke the school's sites (or one of them) not yet revoked; their uids."""
        q = select(SiteRow).where(SiteRow.school_id == school_id, SiteRow.revoked_at.is_(None))
        if uid is not None:
            q = q.where(SiteRow.uid == uid)
        rows = list(self.s.scalars(q.with_for_update()))
        for r in rows:
            r.revoked_at = at
        self.s.flush()
        return [r.uid for r in rows]

    def touch(
        self,
        site_id: int,
        at: dt.datetime,
        version: str,
        backlog: int,
        clock_offset_s: float | None = None,
    ) -> None:
        """Record a contact: last sync time, version, backlog (and the clock offset)."""
        values: dict[str, Any] = {"last_sync_at": at, "version": version[:32], "backlog": backlog}
        if clock_offset_s is not None:
            values["clock_offset_s"] = clock_offset_s
        self.s.execute(update(SiteRow).where(SiteRow.id == site_id).values(**values))

    # -- marks -------------------------------------------------------------------------------
    def marks(self, site_id: int) -> dict[str, int]:
        """The site's mark per stream (0 when none)."""
        q = select(SyncMarkRow.stream, SyncMarkRow.mark).where(SyncMarkRow.site_id == site_id)
        found = dict(self.s.execute(q).tuples().all())
        return {s: int(found.get(s, 0)) for s in STREAMS}

    def mark(self, site_id: int, stream: str) -> int:
        """The site's mark of one stream, read for update."""
        q = (
            select(SyncMarkRow.mark)
            .where(SyncMarkRow.site_id == site_id, SyncMarkRow.stream == stream)
            .with_for_update()
        )
        value = self.s.scalar(q)
        return int(value) if value is not None else 0

    def set_mark(self, site_id: int, stream: str, mark: int, at: dt.datetime) -> None:
        """Raise the site's mark of one stream (never lowers it)."""
        row = self.s.get(SyncMarkRow, (site_id, stream))
        if row is None:
            self.s.add(SyncMarkRow(site_id=site_id, stream=stream, mark=mark, updated_at=at))
        elif mark > row.mark:
            row.mark, row.updated_at = mark, at
        self.s.flush()

    def existing(self, stream: str, site_id: int, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` (the site's local ids) are already stored for ``stream``."""
        table = ORIGIN_TABLES[stream]
        out: set[int] = set()
        for i in range(0, len(ids), 500):
            q = select(table.origin_id).where(
                table.origin_site_id == site_id, table.origin_id.in_(ids[i : i + 500])
            )
            out.update(int(v) for v in self.s.scalars(q))
        return out

    def records_by_site(self) -> dict[int, dict[str, int]]:
        """How many records from each site are held, per stream (one grouped count a stream)."""
        out: dict[int, dict[str, int]] = {}
        for stream, table in ORIGIN_TABLES.items():
            q = (
                select(table.origin_site_id, func.count())
                .where(table.origin_site_id.is_not(None))
                .group_by(table.origin_site_id)
            )
            for site_id, n in self.s.execute(q):
                out.setdefault(int(site_id), {})[stream] = int(n)
        return {site: {k: got.get(k, 0) for k in ORIGIN_TABLES} for site, got in out.items()}

    # -- audit -------------------------------------------------------------------------------
    def event(
        self,
        kind: str,
        detail: str,
        at: dt.datetime,
        site_id: int | None = None,
        school_id: int | None = None,
    ) -> None:
        """Append one audit event."""
        self.s.add(
            SyncEventRow(
                at=at, site_id=site_id, school_id=school_id, kind=kind[:32], detail=detail[:2000]
            )
        )
        self.s.flush()

    def events(self, limit: int = 100, kind: str | None = None) -> list[SyncEvent]:
        """The newest events first."""
        q = (
            select(SyncEventRow, SiteRow.uid, SchoolRow.code)
            .outerjoin(SiteRow, SiteRow.id == SyncEventRow.site_id)
            .outerjoin(SchoolRow, SchoolRow.id == SyncEventRow.school_id)
            .order_by(SyncEventRow.id.desc())
            .limit(limit)
        )
        if kind is not None:
            q = q.where(SyncEventRow.kind == kind)
        return [
            SyncEvent(id=e.id, at=e.at, kind=e.kind, detail=e.detail, site_uid=uid, school=code)
            for e, uid, code in self.s.execute(q).tuples()
        ]
