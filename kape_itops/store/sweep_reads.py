"""The newest discovery sweeps for the web pages, with only the hosts that can be problems.

A school's sweep lists every host it saw; the pages need the unknown and missing ones (and,
for a missing device, whether the school's other sweep saw it). So the newest sweep of each
school and scope is found with one window query, and only those hosts are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kape_itops.domain.discovery import HostState, StoredSweep, SweepHost
from kape_itops.store.models import DiscoveryHostRow, DiscoverySweepRow, SchoolRow

__all__ = ["SweepReads"]

_CHUNK = 500
_WANTED = (HostState.UNKNOWN.value, HostState.MISSING.value)


class SweepReads:
    """Discovery reads on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def newest(
        self, start: dt.datetime, end: dt.datetime, school: str | None = None
    ) -> list[StoredSweep]:
        """Per school (or ``school``) and scope: the newest sweep started in ``[start, end)``,
        with its unknown and missing hosts, and its other hosts that carry a missing tag."""
        w = DiscoverySweepRow
        onvif = case((w.method == "onvif", 1), else_=0)
        rank = (
            func.row_number()
            .over(partition_by=(w.school_id, onvif), order_by=(w.started_at.desc(), w.id.desc()))
            .label("rank")
        )
        inner = select(w.id, rank).where(w.started_at >= start, w.started_at < end)
        if school is not None:
            sid = select(SchoolRow.id).where(SchoolRow.code == school).scalar_subquery()
            inner = inner.where(w.school_id == sid)
        sub = inner.subquery()
        q = (
            select(w, SchoolRow.code)
            .join(sub, sub.c.id == w.id)
            .join(SchoolRow, w.school_id == SchoolRow.id)
            .where(sub.c.rank == 1)
            .order_by(SchoolRow.code, w.id)
        )
        rows = list(self.s.execute(q).tuples())
        hosts = self._hosts([r.id for r, _ in rows])
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
                hosts=tuple(hosts.get(r.id, ())),
            )
            for r, code in rows
        ]

    def _hosts(self, ids: Sequence[int]) -> dict[int, list[SweepHost]]:
        h = DiscoveryHostRow
        out: dict[int, list[SweepHost]] = {}
        missing: set[str] = set()
        for i in range(0, len(ids), _CHUNK):
            q = (
                select(h)
                .where(h.sweep_id.in_(ids[i : i + _CHUNK]), h.state.in_(_WANTED))
                .order_by(h.id)
            )
            for row in self.s.scalars(q):
                out.setdefault(row.sweep_id, []).append(_host(row))
                if row.state == HostState.MISSING.value and row.asset_tag:
                    missing.add(row.asset_tag)
        tags = sorted(missing)
        for i in range(0, len(ids), _CHUNK):
            for k in range(0, len(tags), _CHUNK):
                q = (
                    select(h)
                    .where(
                        h.sweep_id.in_(ids[i : i + _CHUNK]),
                        h.asset_tag.in_(tags[k : k + _CHUNK]),
                        h.state.not_in(_WANTED),
                    )
                    .order_by(h.id)
                )
                for row in self.s.scalars(q):
                    out.setdefault(row.sweep_id, []).append(_host(row))
        return out


def _host(row: DiscoveryHostRow) -> SweepHost:
    return SweepHost(
        ip=row.ip,
        mac=row.mac,
        vendor=row.vendor,
        asset_tag=row.asset_tag,
        state=HostState(row.state),
        detail=row.detail,
    )
