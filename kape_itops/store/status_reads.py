"""Reads behind the web pages' current state: the newest result per device, bounded and indexed.

Every "newest result" is one index seek per device (``ping_results`` by its primary key,
``probe_results`` by ``ix_probe_results_device_probe_at``), never a scan of the results;
device lists are paged in SQL; period figures come from the rollups (GROUP BY over the
school's devices). On PostgreSQL the read turns JIT off for its transaction: these are many
cheap seeks, which JIT compilation only slows down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import Session, aliased

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.problems import Observation
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.status import DeviceLine, PingState
from kape_itops.store import ping_codec, ping_store
from kape_itops.store.inventory_reads import InventoryReads, to_device
from kape_itops.store.models import (
    DeviceRow,
    PingResultRow,
    ProbeResultRow,
    ProbeRollupRow,
    RoomRow,
    SchoolRow,
)
from kape_itops.store.models.base import as_utc
from kape_itops.store.probe_repo import to_result

__all__ = ["StatusReads"]

_CHUNK = 500
_BAD = ("warn", "crit")
_DEPLOYED = DeviceStatus.DEPLOYED.value


def _compact_newest() -> Any:
    """Per device (correlated): started_us * 4 + status code of its newest compact ping."""
    p = PingResultRow
    return (
        select(p.started_us * 4 + p.status)
        .where(p.device_id == DeviceRow.id)
        .order_by(p.started_us.desc())
        .limit(1)
        .correlate(DeviceRow)
        .scalar_subquery()
    )


def _plain_newest(probe: str) -> Any:
    """Per device (correlated): the id of its newest ``probe_results`` row of ``probe``."""
    r = ProbeResultRow
    return (
        select(r.id)
        .where(r.device_id == DeviceRow.id, r.probe == probe)
        .order_by(r.started_at.desc())  # the index order: no sort per device
        .limit(1)
        .correlate(DeviceRow)
        .scalar_subquery()
    )


def _obs(row: ProbeResultRow, tag: str, school: str) -> Observation:
    return Observation(
        tag, school, row.probe, _status(row.status), row.reason, row.started_at, row.metrics
    )


def _status(value: str) -> ProbeStatus:
    try:
        return ProbeStatus(value)
    except ValueError:
        return ProbeStatus.UNKNOWN


class StatusReads(InventoryReads):
    """Current-state reads on one session (inventory reads included)."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL jit = off"))

    # -- the newest ping of every deployed device ----------------------------------------
    def ping_states(self, school: str | None = None) -> list[PingState]:
        """Every deployed device (of ``school``) with its newest ping result: one seek per
        device in each results table, the rare plain rows then read by id."""
        d = DeviceRow
        q = (
            select(
                d.id,
                d.asset_tag,
                SchoolRow.code,
                RoomRow.name,
                d.kind,
                _compact_newest(),
                _plain_newest("ping"),
            )
            .join(SchoolRow, d.school_id == SchoolRow.id)
            .outerjoin(RoomRow, d.room_id == RoomRow.id)
            .where(d.status == _DEPLOYED)
        )
        if school is not None:
            q = q.where(SchoolRow.code == school)
        rows = self.s.execute(q).all()
        plain = self._plain_heads([int(r[6]) for r in rows if r[6] is not None])
        out: list[PingState] = []
        for dev_id, tag, code, room, kind, packed, pid in rows:
            status: str | None = None
            at: dt.datetime | None = None
            if packed is not None:
                at = ping_codec.from_us(int(packed) // 4)
                status = ping_codec.STATUSES[int(packed) % 4]
            head = plain.get(int(pid)) if pid is not None else None
            if head is not None and (at is None or head[0] > at):
                at, status = head
            out.append(PingState(int(dev_id), tag, code, room, DeviceKind(kind), status, at))
        return out

    def _plain_heads(self, ids: Sequence[int]) -> dict[int, tuple[dt.datetime, str]]:
        r = ProbeResultRow
        out: dict[int, tuple[dt.datetime, str]] = {}
        for i in range(0, len(ids), _CHUNK):
            q = select(r.id, r.started_at, r.status).where(r.id.in_(ids[i : i + _CHUNK]))
            for rid, at, status in self.s.execute(q):
                out[int(rid)] = (as_utc(at), status)
        return out

    def ping_observations(self, states: Sequence[PingState]) -> list[Observation]:
        """The full newest ping results of ``states`` (their metrics, for problems)."""
        p, q = PingResultRow, aliased(PingResultRow)
        out: list[Observation] = []
        by_key = {(s.device_id, ping_codec.to_us(s.at)): s for s in states if s.at is not None}
        ids = sorted({d for d, _ in by_key})
        newest = (
            select(func.max(q.started_us))
            .where(q.device_id == DeviceRow.id)
            .correlate(DeviceRow)
            .scalar_subquery()
        )
        found: set[tuple[int, int]] = set()
        for i in range(0, len(ids), _CHUNK):
            rows = self.s.execute(  # per device: the newest time, then that row (two seeks)
                select(*ping_store.COLUMNS)
                .select_from(DeviceRow)
                .join(p, and_(p.device_id == DeviceRow.id, p.started_us == newest))
                .where(DeviceRow.id.in_(ids[i : i + _CHUNK]))
            ).mappings()
            for m in rows:
                key = (int(m["device_id"]), int(m["started_us"]))
                st = by_key.get(key)
                if st is None or key in found:
                    continue  # a plain result is that device's newest
                found.add(key)
                v = ping_codec.decode(m, st.asset_tag)
                out.append(
                    Observation(
                        st.asset_tag,
                        st.school,
                        "ping",
                        _status(v["status"]),
                        v["reason"],
                        v["started_at"],
                        v["metrics"],
                    )
                )
        rest = [s for k, s in by_key.items() if k not in found]
        if rest:
            out += self.newest_observations(["ping"], tags=[s.asset_tag for s in rest])
        return out

    # -- the newest result of other probes -----------------------------------------------
    def newest_observations(
        self,
        probes: Sequence[str],
        *,
        school: str | None = None,
        tags: Sequence[str] | None = None,
        kinds: Sequence[DeviceKind] = (),
        since: dt.datetime | None = None,
        bad_only: bool = False,
        deployed_only: bool = True,
    ) -> list[Observation]:
        """The newest ``probe_results`` row per device and probe (compact pings are not read
        here): of deployed devices (of ``school``, ``tags``, ``kinds``), only those started at
        or after ``since``, only warn and crit ones with ``bad_only``. One seek per device and
        probe, in one statement."""
        if not probes:
            return []
        d, r = DeviceRow, ProbeResultRow
        heads = [_plain_newest(p).label(f"h{i}") for i, p in enumerate(probes)]
        inner = select(d.id, *heads).join(SchoolRow, d.school_id == SchoolRow.id)
        if deployed_only:
            inner = inner.where(d.status == _DEPLOYED)
        if school is not None:
            inner = inner.where(SchoolRow.code == school)
        if kinds:
            inner = inner.where(d.kind.in_([k.value for k in kinds]))
        chunks: list[Sequence[str] | None] = [None]
        if tags is not None:
            chunks = [tags[i : i + _CHUNK] for i in range(0, len(tags), _CHUNK)]
        out: list[Observation] = []
        for chunk in chunks:
            sub = inner if chunk is None else inner.where(d.asset_tag.in_(chunk))
            x = sub.subquery()
            cols = [x.c[f"h{i}"] for i in range(len(probes))]
            q = (
                select(r, d.asset_tag, SchoolRow.code)
                .join(x, r.id.in_(cols) if len(cols) > 1 else r.id == cols[0])
                .join(d, r.device_id == d.id)
                .join(SchoolRow, d.school_id == SchoolRow.id)
            )
            if since is not None:
                q = q.where(r.started_at >= since)
            if bad_only:
                q = q.where(r.status.in_(_BAD))
            out += [_obs(row, tag, code) for row, tag, code in self.s.execute(q)]
        return out

    # -- lists -----------------------------------------------------------------------------
    def device_lines(
        self,
        school: str,
        *,
        room: str | None = None,
        kind: DeviceKind | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[DeviceLine], int]:
        """One page of a school's devices (by room, no room last, then kind and tag) with their
        newest ping, and how many match. The seeks run for the page's devices only."""
        d = DeviceRow
        base = (
            select(d.id)
            .join(SchoolRow, d.school_id == SchoolRow.id)
            .outerjoin(RoomRow, d.room_id == RoomRow.id)
            .where(SchoolRow.code == school)
        )
        if room is not None:
            base = base.where(RoomRow.name == room) if room else base.where(d.room_id.is_(None))
        if kind is not None:
            base = base.where(d.kind == kind.value)
        total = int(self.s.scalar(select(func.count()).select_from(base.subquery())) or 0)
        page = (
            base.order_by(RoomRow.name.is_(None), RoomRow.name, d.kind, d.asset_tag)
            .offset(offset)
            .limit(limit)
            .subquery()
        )
        q = (
            select(d, RoomRow.name, _compact_newest(), _plain_newest("ping"))
            .join(page, page.c.id == d.id)
            .outerjoin(RoomRow, d.room_id == RoomRow.id)
            .order_by(RoomRow.name.is_(None), RoomRow.name, d.kind, d.asset_tag)
        )
        rows = self.s.execute(q).all()
        plain = self._plain_heads([int(r[3]) for r in rows if r[3] is not None])
        out: list[DeviceLine] = []
        for row, room_name, packed, pid in rows:
            status: str | None = None
            at: dt.datetime | None = None
            if packed is not None:
                at = ping_codec.from_us(int(packed) // 4)
                status = ping_codec.STATUSES[int(packed) % 4]
            head = plain.get(int(pid)) if pid is not None else None
            if head is not None and (at is None or head[0] > at):
                at, status = head
            out.append(
                DeviceLine(
                    row.asset_tag,
                    DeviceKind(row.kind),
                    DeviceStatus(row.status),
                    room_name,
                    row.model,
                    row.ip,
                    status,
                    at,
                )
            )
        return out, total

    def rooms(self, school: str) -> list[str]:
        """The names of a school's rooms that hold devices."""
        q = (
            select(RoomRow.name)
            .join(SchoolRow, RoomRow.school_id == SchoolRow.id)
            .where(SchoolRow.code == school)
            .where(select(DeviceRow.id).where(DeviceRow.room_id == RoomRow.id).exists())
            .order_by(RoomRow.name)
        )
        return list(self.s.scalars(q))

    def _warranty(self, today: dt.date, until: dt.date, school: str | None) -> Any:
        q = self._device_query().where(
            DeviceRow.warranty_until.is_not(None),
            DeviceRow.warranty_until <= until,
            DeviceRow.status.not_in([DeviceStatus.RETIRED.value, DeviceStatus.LOST.value]),
        )
        return q.where(SchoolRow.code == school) if school is not None else q

    def warranty_counts(
        self, today: dt.date, until: dt.date, school: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """School code → devices (not retired or lost) whose warranty ended before ``today``,
        and that end from ``today`` to ``until`` (one GROUP BY)."""
        d = DeviceRow
        expired = case((d.warranty_until < today, 1), else_=0)
        q = (
            select(SchoolRow.code, expired, func.count())
            .join(SchoolRow, d.school_id == SchoolRow.id)
            .where(
                d.warranty_until.is_not(None),
                d.warranty_until <= until,
                d.status.not_in([DeviceStatus.RETIRED.value, DeviceStatus.LOST.value]),
            )
            .group_by(SchoolRow.code, expired)
        )
        if school is not None:
            q = q.where(SchoolRow.code == school)
        out: dict[str, tuple[int, int]] = {}
        for code, old, n in self.s.execute(q):
            have = out.get(code, (0, 0))
            out[code] = (have[0] + int(n), have[1]) if old else (have[0], have[1] + int(n))
        return out

    def warranty_slice(
        self,
        today: dt.date,
        until: dt.date,
        *,
        school: str | None = None,
        expired: bool | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Device]:
        """Devices whose warranty ended (``expired`` True), ends by ``until`` (False) or
        both (None): expired first, then by school and tag, ``limit`` from ``offset``."""
        d = DeviceRow
        q = self._warranty(today, until, school)
        if expired is True:
            q = q.where(d.warranty_until < today)
        elif expired is False:
            q = q.where(d.warranty_until >= today)
        q = q.order_by(case((d.warranty_until < today, 0), else_=1), SchoolRow.code, d.asset_tag)
        return [to_device(*row) for row in self.s.execute(q.offset(offset).limit(limit))]

    def down_since(self, device_ids: Sequence[int]) -> dict[int, dt.datetime]:
        """Per device: its first crit compact ping after its last ok or warn one; devices
        without one left out. The last up is looked for in the raw pings newer than the
        rollups (a short range), else it is the daily rollups' ``last_up_at`` (a month of a
        device is 30 rows, not thousands of results): one statement per 500 devices."""
        p, q, u = PingResultRow, aliased(PingResultRow), ProbeRollupRow
        mark = self.s.scalar(select(func.max(u.bucket_start)).where(u.grain == "hour"))
        raw_from = (int(mark) - 3600) * 1_000_000 if mark is not None else -1
        raw_up = (
            select(func.max(q.started_us))
            .where(q.device_id == DeviceRow.id, q.status.in_([0, 1]), q.started_us >= raw_from)
            .correlate(DeviceRow)
            .scalar_subquery()
        )
        rolled_up = (
            select(func.max(u.last_up_at) * 1_000_000)
            .where(u.grain == "day", u.device_id == DeviceRow.id, u.probe == "ping")
            .correlate(DeviceRow)
            .scalar_subquery()
        )
        last_up = func.coalesce(raw_up, rolled_up, -1)
        first = (
            select(func.min(p.started_us))
            .where(
                p.device_id == DeviceRow.id,
                p.status == ping_codec.STATUSES.index("crit"),
                p.started_us > last_up,
            )
            .correlate(DeviceRow)
            .scalar_subquery()
        )
        out: dict[int, dt.datetime] = {}
        for i in range(0, len(device_ids), _CHUNK):
            chunk = list(device_ids[i : i + _CHUNK])
            for dev, us in self.s.execute(
                select(DeviceRow.id, first).where(DeviceRow.id.in_(chunk))
            ):
                if us is not None:
                    out[int(dev)] = ping_codec.from_us(int(us))
        return out

    def devices_matching(
        self, macs: Sequence[str], ips: Sequence[str], tags: Sequence[str]
    ) -> list[Device]:
        """Devices with one of these MACs (``aa:bb:…``; stored so, or in capitals), IPs or
        asset tags: index look-ups only."""
        out: dict[str, Device] = {}
        spellings = sorted({m for mac in macs for m in (mac.lower(), mac.upper())})
        for column, values in (
            (DeviceRow.mac, spellings),
            (DeviceRow.ip, ips),
            (DeviceRow.asset_tag, tags),
        ):
            for i in range(0, len(values), _CHUNK):
                q = self._device_query().where(column.in_(values[i : i + _CHUNK]))
                for row in self.s.execute(q):
                    dev = to_device(*row)
                    out[dev.asset_tag] = dev
        return list(out.values())

    # -- one device's results --------------------------------------------------------------
    def results_page(self, tag: str, offset: int, limit: int) -> list[ProbeResult]:
        """Results of device ``tag``, newest first, ``limit`` from ``offset`` (both tables
        read newest first by their indexes, ``offset + limit`` rows at most each)."""
        dev_id = self.s.scalar(select(DeviceRow.id).where(DeviceRow.asset_tag == tag))
        if dev_id is None:
            return []
        n = offset + limit
        r, p = ProbeResultRow, PingResultRow
        plain = [
            to_result(row, tag)
            for row in self.s.scalars(
                select(r)
                .where(r.device_id == dev_id)
                .order_by(r.started_at.desc(), r.id.desc())
                .limit(n)
            )
        ]
        q = (
            select(*ping_store.COLUMNS)
            .where(p.device_id == dev_id)
            .order_by(p.started_us.desc(), p.run_id.desc())
            .limit(n)
        )
        pings = []
        for m in self.s.execute(q).mappings():
            v = ping_codec.decode(m, tag)
            pings.append(
                ProbeResult(
                    probe="ping",
                    target=v["target"],
                    status=_status(v["status"]),
                    reason=v["reason"],
                    started_at=v["started_at"],
                    duration_ms=v["duration_ms"],
                    metrics=v["metrics"],
                    method=v["method"],
                    asset_tag=tag,
                    attempts=v["attempts"],
                )
            )
        merged = sorted(plain + pings, key=lambda x: x.started_at, reverse=True)
        return merged[offset:n]
