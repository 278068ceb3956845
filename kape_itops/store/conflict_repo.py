"""Inventory conflicts (both sides): per-field edits that lost a merge, kept for a person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kape_itops.domain.sync import Conflict
from kape_itops.errors import NotFoundError
from kape_itops.store.models import ConflictRow


def _domain(row: ConflictRow) -> Conflict:
    return Conflict(
        entity=row.entity,
        key=row.key,
        field=row.field,
        kept=row.kept,
        kept_at=row.kept_at,
        kept_by=row.kept_by,
        other=row.other,
        other_at=row.other_at,
        other_by=row.other_by,
        site_uid=row.site_uid,
        found_at=row.found_at,
        id=row.id,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
    )


class ConflictRepo:
    """Conflict records on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(
        self,
        conflicts: Iterable[Conflict],
        site_uid: str | None = None,
        found_at: dt.datetime | None = None,
    ) -> list[Conflict]:
        """Store conflicts (``site_uid``: the site the other edit came from, when the conflict
        has none); returns them with their ids and found times."""
        now = found_at or dt.datetime.now(dt.UTC)
        rows = []
        for c in conflicts:
            row = ConflictRow(
                found_at=c.found_at or now,
                site_uid=(c.site_uid or site_uid or "")[:36] or None,
                entity=c.entity[:16],
                key=c.key[:100],
                field=c.field[:64],
                kept=c.kept,
                kept_at=c.kept_at,
                kept_by=c.kept_by[:100],
                other=c.other,
                other_at=c.other_at,
                other_by=c.other_by[:100],
                detail=None,
            )
            self.s.add(row)
            rows.append(row)
        self.s.flush()
        return [_domain(r) for r in rows]

    def list(
        self,
        keys: Iterable[str] | None = None,
        include_resolved: bool = False,
        limit: int = 1000,
        site_uids: Iterable[str] | None = None,
    ) -> list[Conflict]:
        """Conflicts, oldest first; ``keys``: only those of these inventory keys (a school's
        devices, say); ``site_uids``: only those found with edits of these sites."""
        q = select(ConflictRow).order_by(ConflictRow.id).limit(limit)
        if not include_resolved:
            q = q.where(ConflictRow.resolved_at.is_(None))
        if keys is not None:
            q = q.where(ConflictRow.key.in_(list(keys)))
        if site_uids is not None:
            q = q.where(ConflictRow.site_uid.in_(list(site_uids)))
        return [_domain(r) for r in self.s.scalars(q)]

    def get(self, conflict_id: int) -> Conflict:
        """One conflict by id."""
        row = self.s.get(ConflictRow, conflict_id)
        if row is None:
            raise NotFoundError(f"no sync conflict with id {conflict_id}")
        return _domain(row)

    def resolve(self, conflict_id: int, actor: str, at: dt.datetime | None = None) -> Conflict:
        """Mark a conflict resolved by ``actor`` (resolving twice keeps the first)."""
        row = self.s.get(ConflictRow, conflict_id)
        if row is None:
            raise NotFoundError(f"no sync conflict with id {conflict_id}")
        if row.resolved_at is None:
            row.resolved_at = at or dt.datetime.now(dt.UTC)
            row.resolved_by = actor[:100]
            self.s.flush()
        return _domain(row)

    def count(self, include_resolved: bool = False) -> int:
        """How many conflicts (unresolved only by default)."""
        q = select(func.count()).select_from(ConflictRow)
        if not include_resolved:
            q = q.where(ConflictRow.resolved_at.is_(None))
        return int(self.s.scalar(q) or 0)
