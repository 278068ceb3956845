"""The newest discovery sweeps for the web pages, with only the hosts that can be problems.

A school's sweep lists every host it saw; the pages need the unknown and missing ones (and,
for a missing device, whether the school's other sweep saw it). So the newest sweep of each
school and scope is found with one window query, and only those hosts are read, as plain
column tuples (no ORM objects: a 25,000-device fleet's sweeps hold thousands of them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from kape_itops.domain.discovery import HostState, StoredSweep, SweepHost
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Device
from kape_itops.store.models import DeviceRow, DiscoveryHostRow, DiscoverySweepRow, SchoolRow

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
            select(
                w.id,
                SchoolRow.code,
                w.started_at,
                w.duration_s,
                w.method,
                w.subnets,
                w.actor,
                w.interface,
                w.counts,
            )
            .join(sub, sub.c.id == w.id)
            .join(SchoolRow, w.school_id == SchoolRow.id)
            .where(sub.c.rank == 1)
            .order_by(SchoolRow.code, w.id)
        )
        rows = list(self.s.execute(q))
        hosts = self._hosts([r.id for r in rows])
        return [
            StoredSweep(
                id=r.id,
                school=r.code,
                started_at=r.started_at,
                duration_s=r.duration_s,
                method=r.method,
                subnets=tuple(r.subnets or ()),
                actor=r.actor,
                interface=r.interface,
                counts={str(k): int(v) for k, v in (r.counts or {}).items()},
                hosts=tuple(hosts.get(r.id, ())),
            )
            for r in rows
        ]

    def devices_for(
        self, macs: Sequence[str], at: Sequence[tuple[str, str]], tags: Sequence[str]
    ) -> list[Device]:
        """The devices a sweep's hosts may be: with one of these MACs (``aa:bb:…``; stored
        so, or in capitals), one of these (school code, IP) pairs or asset tags. Only the
        fields the discovery rules read are filled (tag, kind, school, status, MAC, IP)."""
        d = DeviceRow
        cols = select(d.asset_tag, d.kind, SchoolRow.code, d.status, d.mac, d.ip).join(
            SchoolRow, d.school_id == SchoolRow.id
        )
        spellings = sorted({m for mac in macs for m in (mac.lower(), mac.upper())})
        pairs = set(at)
        out: dict[str, Device] = {}
        for column, values in (
            (d.mac, spellings),
            (d.ip, sorted({ip for _, ip in pairs})),  # then kept at the host's school only
            (d.asset_tag, tags),
        ):
            for i in range(0, len(values), _CHUNK):
                for row in self.s.execute(cols.where(column.in_(values[i : i + _CHUNK]))):
                    if column is not d.ip or (row.code, row.ip) in pairs:
                        out[row.asset_tag] = _device(row)
        return list(out.values())

    def _hosts(self, ids: Sequence[int]) -> dict[int, list[SweepHost]]:
        h = DiscoveryHostRow
        out: dict[int, list[SweepHost]] = {}
        missing: set[str] = set()
        for i in range(0, len(ids), _CHUNK):
            q = (
                select(*_HOST)
                .where(h.sweep_id.in_(ids[i : i + _CHUNK]), h.state.in_(_WANTED))
                .order_by(h.id)
            )
            for row in self.s.execute(q):
                out.setdefault(row.sweep_id, []).append(_host(row))
                if row.state == HostState.MISSING.value and row.asset_tag:
                    missing.add(row.asset_tag)
        tags = sorted(missing)
        for i in range(0, len(ids), _CHUNK):
            for k in range(0, len(tags), _CHUNK):
                q = (
                    select(*_HOST)
                    .where(
                        h.sweep_id.in_(ids[i : i + _CHUNK]),
                        h.asset_tag.in_(tags[k : k + _CHUNK]),
                        h.state.not_in(_WANTED),
                    )
                    .order_by(h.id)
                )
                for row in self.s.execute(q):
                    out.setdefault(row.sweep_id, []).append(_host(row))
        return out


_STATES = {s.value: s for s in HostState}
_KINDS = {k.value: k for k in DeviceKind}
_STATUSES = {s.value: s for s in DeviceStatus}
"""Enum members by value: a dict look-up per row (thousands of rows per view)."""
_HOST = (
    DiscoveryHostRow.sweep_id,
    DiscoveryHostRow.ip,
    DiscoveryHostRow.mac,
    DiscoveryHostRow.vendor,
    DiscoveryHostRow.asset_tag,
    DiscoveryHostRow.state,
    DiscoveryHostRow.detail,
)


def _device(row: Row[tuple[str, str, str, str, str | None, str | None]]) -> Device:
    return Device(
        asset_tag=row.asset_tag,
        kind=_KINDS.get(row.kind) or DeviceKind(row.kind),
        school=row.code,
        status=_STATUSES.get(row.status) or DeviceStatus(row.status),
        mac=row.mac,
        ip=row.ip,
    )


def _host(
    row: Row[tuple[int, str, str | None, str | None, str | None, str, str | None]],
) -> SweepHost:
    return SweepHost(
        ip=row.ip,
        mac=row.mac,
        vendor=row.vendor,
        asset_tag=row.asset_tag,
        state=_STATES.get(row.state) or HostState(row.state),
        detail=row.detail,
    )
