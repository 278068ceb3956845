"""Discovery sweeps: record what ``itops discover`` saw, read the latest per school, prune."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kape_itops.domain.discovery import (
    NETWORK_SCOPE,
    ONVIF_SCOPE,
    HostState,
    StoredSweep,
    SweepHost,
    SweepRecord,
)
from kape_itops.errors import NotFoundError
from kape_itops.store.db import Store
from kape_itops.store.models import DiscoveryHostRow, DiscoverySweepRow, SchoolRow

_IN_CHUNK = 500


def _host(row: DiscoveryHostRow) -> SweepHost:
    return SweepHost(
        ip=row.ip,
        mac=row.mac,
        vendor=row.vendor,
        asset_tag=row.asset_tag,
        state=HostState(row.state),
        detail=row.detail,
    )


def _scope_filter(scope: str) -> Any:
    m = DiscoverySweepRow.method
    return m == "onvif" if scope == ONVIF_SCOPE else m != "onvif"


class DiscoveryRepo:
    """Discovery reads and writes on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def _school_id(self, code: str) -> int:
        found = self.s.scalar(select(SchoolRow.id).where(SchoolRow.code == code))
        if found is None:
            raise NotFoundError(f"school '{code}' does not exist")
        return int(found)

    def add_sweep(self, record: SweepRecord) -> int:
        """Store one sweep and its hosts; returns the sweep's id."""
        row = DiscoverySweepRow(
            school_id=self._school_id(record.school),
            started_at=record.started_at,
            duration_s=record.duration_s,
            method=record.method,
            interface=record.interface,
            subnets=list(record.subnets),
            actor=record.actor,
            counts=record.counts,
        )
        self.s.add(row)
        self.s.flush()
        self.s.add_all(
            DiscoveryHostRow(
                sweep_id=row.id,
                ip=h.ip,
                mac=h.mac,
                vendor=h.vendor,
                asset_tag=h.asset_tag,
                state=h.state.value,
                detail=h.detail,
            )
            for h in record.hosts
        )
        self.s.flush()
        return row.id

    def _stored(self, rows: Sequence[tuple[DiscoverySweepRow, str]]) -> list[StoredSweep]:
        ids = [r.id for r, _ in rows]
        hosts: dict[int, list[SweepHost]] = {i: [] for i in ids}
        for i in range(0, len(ids), _IN_CHUNK):
            q = (
                select(DiscoveryHostRow)
                .where(DiscoveryHostRow.sweep_id.in_(ids[i : i + _IN_CHUNK]))
                .order_by(DiscoveryHostRow.id)
            )
            for h in self.s.scalars(q):
                hosts[h.sweep_id].append(_host(h))
        return [
            StoredSweep(
                id=r.id,
                school=code,
                started_at=r.started_at,
                duration_s=r.duration_s,
                method=r.method,
                subnets=tuple(r.subnets or ()),
                actor=r.actor,
                interface=r.interface,
                counts={str(k): int(v) for k, v in (r.counts or {}).items()},
                hosts=tuple(hosts[r.id]),
            )
            for r, code in rows
        ]

    def sweeps(self, school: str | None = None, limit: int = 50) -> list[StoredSweep]:
        """The newest ``limit`` sweeps (of ``school``), newest first, with their hosts."""
        q = (
            select(DiscoverySweepRow, SchoolRow.code)
            .join(SchoolRow, DiscoverySweepRow.school_id == SchoolRow.id)
            .order_by(DiscoverySweepRow.started_at.desc(), DiscoverySweepRow.id.desc())
            .limit(limit)
        )
        if school is not None:
            q = q.where(SchoolRow.code == school)
        return self._stored([(r, c) for r, c in self.s.execute(q).tuples()])

    def latest_sweeps(
        self, schools: Iterable[str], start: dt.datetime, end: dt.datetime
    ) -> list[StoredSweep]:
        """Per school and scope (network, onvif): the newest sweep started in ``[start, end)``."""
        codes = list(schools)
        q = (
            select(DiscoverySweepRow, SchoolRow.code)
            .join(SchoolRow, DiscoverySweepRow.school_id == SchoolRow.id)
            .where(
                SchoolRow.code.in_(codes),
                DiscoverySweepRow.started_at >= start,
                DiscoverySweepRow.started_at < end,
            )
            .order_by(DiscoverySweepRow.started_at.desc(), DiscoverySweepRow.id.desc())
        )
        newest: dict[tuple[str, str], tuple[DiscoverySweepRow, str]] = {}
        for row, code in self.s.execute(q).tuples():
            scope = ONVIF_SCOPE if row.method == "onvif" else NETWORK_SCOPE
            newest.setdefault((code, scope), (row, code))
        return self._stored(sorted(newest.values(), key=lambda rc: (rc[1], rc[0].id)))

    def unknown_first_seen(
        self, school: str, scope: str, identities: Iterable[str], before: dt.datetime
    ) -> dict[str, dt.datetime]:
        """When each unknown host (by MAC, or IP for hosts without one) was first seen unknown."""
        wanted = set(identities)
        if not wanted:
            return {}
        sid = self._school_id(school)
        h, w = DiscoveryHostRow, DiscoverySweepRow
        base = (
            select(func.coalesce(h.mac, h.ip), func.min(w.started_at))
            .join(w, h.sweep_id == w.id)
            .where(
                w.school_id == sid,
                w.started_at <= before,
                h.state == HostState.UNKNOWN.value,
                _scope_filter(scope),
            )
            .group_by(func.coalesce(h.mac, h.ip))
        )
        out: dict[str, dt.datetime] = {}
        items = sorted(wanted)
        for i in range(0, len(items), _IN_CHUNK):
            chunk = items[i : i + _IN_CHUNK]
            q = base.where(func.coalesce(h.mac, h.ip).in_(chunk))
            for ident, first in self.s.execute(q).tuples():
                out[str(ident)] = first
        return out

    def missing_since(
        self, school: str, scope: str, tags: Iterable[str], before: dt.datetime
    ) -> dict[str, dt.datetime]:
        """For each asset tag: the first sweep that missed it after the last one that saw it."""
        sid = self._school_id(school)
        h, w = DiscoveryHostRow, DiscoverySweepRow
        out: dict[str, dt.datetime] = {}
        for tag in sorted(set(tags)):
            mine = (w.school_id == sid, w.started_at <= before, h.asset_tag == tag)
            seen = self.s.scalar(
                select(func.max(w.started_at))
                .join(h, h.sweep_id == w.id)
                .where(*mine, h.state != HostState.MISSING.value, _scope_filter(scope))
            )
            q = (
                select(func.min(w.started_at))
                .join(h, h.sweep_id == w.id)
                .where(*mine, h.state == HostState.MISSING.value, _scope_filter(scope))
            )
            if seen is not None:
                q = q.where(w.started_at > seen)
            first = self.s.scalar(q)
            if first is not None:
                out[tag] = first
        return out

    def prune(self, cutoff: dt.datetime) -> int:
        """Delete sweeps started before ``cutoff`` with their hosts; returns sweeps deleted."""
        old = select(DiscoverySweepRow.id).where(DiscoverySweepRow.started_at < cutoff)
        self.s.execute(delete(DiscoveryHostRow).where(DiscoveryHostRow.sweep_id.in_(old)))
        result = self.s.execute(
            delete(DiscoverySweepRow).where(DiscoverySweepRow.started_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def record_sweeps(store: Store, records: Iterable[SweepRecord]) -> list[int]:
    """Store sweeps in one transaction; returns their ids."""
    with store.write() as s:
        repo = DiscoveryRepo(s)
        return [repo.add_sweep(r) for r in records]
