"""Period reads behind reports: rollup buckets, first results, outages, configuration changes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import Session

from kape_itops.domain.reports import HOUR, Bucket, DeviceRef, StatusCounts, epoch, from_epoch
from kape_itops.store import ping_codec
from kape_itops.store.models import (
    ConfigBackupRow,
    DeviceRow,
    PingResultRow,
    ProbeResultRow,
    ProbeRollupRow,
    SchoolRow,
)
from kape_itops.store.models.base import as_utc
from kape_itops.store.rollup_repo import UP

_CHUNK = 5000


class ReportRepo:
    """Report reads on one session (rollups must be up to date: :class:`RollupRepo`)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def device_refs(self) -> list[DeviceRef]:
        """Every device's id, tag, school code and kind."""
        q = select(DeviceRow.id, DeviceRow.asset_tag, SchoolRow.code, DeviceRow.kind).join(
            SchoolRow, DeviceRow.school_id == SchoolRow.id
        )
        return [DeviceRef(*r) for r in self.s.execute(q)]

    def buckets(
        self, grain: str, start: int, end: int, device_ids: Iterable[int] | None = None
    ) -> Iterator[Bucket]:
        """Rollup buckets of ``grain`` starting in ``[start, end)``, oldest first."""
        wanted = set(device_ids) if device_ids is not None else None
        r = ProbeRollupRow
        q = (
            select(
                r.device_id,
                r.probe,
                r.bucket_start,
                r.n_ok,
                r.n_warn,
                r.n_crit,
                r.n_unknown,
                r.rtt_count,
                r.rtt_sum,
                r.loss_count,
                r.loss_sum,
                cast(r.rtt_sketch, Text),
                r.last_at,
                r.last_status,
                r.last_reason,
                cast(r.last_metrics, Text),
                r.last_up_at,
            )
            .where(r.grain == grain, r.bucket_start >= start, r.bucket_start < end)
            .order_by(r.bucket_start)
        )
        # Core rows and JSON decoded here (empty objects skipped): long reports read ~10^5 rows.
        result = self.s.connection().execution_options(stream_results=True).execute(q)
        for row in result.yield_per(20000):
            if wanted is not None and row[0] not in wanted:
                continue
            yield Bucket(
                device_id=row[0],
                probe=row[1],
                start=row[2],
                counts=StatusCounts(row[3], row[4], row[5], row[6]),
                rtt_count=row[7],
                rtt_sum=row[8],
                loss_count=row[9],
                loss_sum=row[10],
                sketch=_json(row[11]),
                last_at=row[12],
                last_status=row[13],
                last_reason=row[14],
                last_metrics=_json(row[15]),
                last_up_at=row[16],
            )

    def first_results(self, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """When each (device id, probe) got its first stored result, in Unix seconds.

        Exact while that result is kept; once pruned, the start of its hour (rollups outlive
        raw results). Pairs never probed are left out. One statement per probe kind, each row
        three index seeks (oldest hourly bucket, oldest raw result, oldest compact ping).
        """
        r, u, p, d = ProbeResultRow, ProbeRollupRow, PingResultRow, DeviceRow
        by_probe: dict[str, list[int]] = {}
        for device_id, probe in wanted:
            by_probe.setdefault(probe, []).append(device_id)
        out: dict[tuple[int, str], int] = {}
        for probe, ids in by_probe.items():
            hour = select(func.min(u.bucket_start)).where(
                u.grain == "hour", u.device_id == d.id, u.probe == probe
            )
            raw = select(func.min(r.started_at)).where(r.device_id == d.id, r.probe == probe)
            ping = select(func.min(p.started_us)).where(p.device_id == d.id)
            cols = [d.id, hour.scalar_subquery(), raw.scalar_subquery()]
            if probe == "ping":
                cols.append(ping.scalar_subquery())
            for i in range(0, len(ids), _CHUNK):
                for row in self.s.execute(select(*cols).where(d.id.in_(ids[i : i + _CHUNK]))):
                    if row[1] is None:
                        continue
                    first = int(row[1])
                    times = [epoch(as_utc(row[2]))] if row[2] is not None else []
                    if len(row) > 3 and row[3] is not None:
                        times.append(int(row[3]) // 1_000_000)
                    exact = min(times, default=None)
                    if exact is not None and first <= exact < first + HOUR:
                        first = exact  # else that hour's raw results are pruned: its start
                    out[(int(row[0]), probe)] = first
        return out

    def down_since(self, device_id: int, probe: str, before: dt.datetime) -> dt.datetime | None:
        """When the current run of crit results began (first crit after the last ok/warn)."""
        r, p = ProbeResultRow, PingResultRow
        mine = and_(r.device_id == device_id, r.probe == probe, r.started_at <= before)
        pmine = and_(p.device_id == device_id, p.started_us <= ping_codec.to_us(before))
        up_codes = [ping_codec.STATUSES.index(st) for st in UP]
        crit_code = ping_codec.STATUSES.index("crit")
        ping = probe == "ping"
        last_up = _latest(
            self.s.scalar(select(func.max(r.started_at)).where(mine, r.status.in_(UP))),
            self.s.scalar(select(func.max(p.started_us)).where(pmine, p.status.in_(up_codes)))
            if ping
            else None,
        )
        if last_up is None:
            up_epoch = self.s.scalar(
                select(func.max(ProbeRollupRow.last_up_at)).where(
                    ProbeRollupRow.grain == "day",
                    ProbeRollupRow.device_id == device_id,
                    ProbeRollupRow.probe == probe,
                )
            )
            last_up = from_epoch(int(up_epoch)) if up_epoch is not None else None
        q = select(func.min(r.started_at)).where(mine, r.status == "crit")
        pq = select(func.min(p.started_us)).where(pmine, p.status == crit_code)
        if last_up is not None:
            q = q.where(r.started_at > last_up)
            pq = pq.where(p.started_us > ping_codec.to_us(last_up))
        first = self.s.scalar(q)
        pfirst = self.s.scalar(pq) if ping else None
        if pfirst is None:
            return first
        at = ping_codec.from_us(int(pfirst))
        return at if first is None or at < first else first

    def config_changes(
        self, start: dt.datetime, end: dt.datetime
    ) -> dict[int, tuple[int, dt.datetime]]:
        """Per device id: how many changed configuration backups in the period, and the last."""
        b = ConfigBackupRow
        q = (
            select(b.device_id, func.count(b.id), func.max(b.taken_at))
            .where(b.changed.is_(True), b.taken_at >= start, b.taken_at < end)
            .group_by(b.device_id)
        )
        out: dict[int, tuple[int, dt.datetime]] = {}
        for device_id, n, last in self.s.execute(q):
            out[int(device_id)] = (int(n), as_utc(last))
        return out


def _latest(at: dt.datetime | None, us: int | None) -> dt.datetime | None:
    if us is None:
        return at
    t = ping_codec.from_us(int(us))
    return t if at is None or t > as_utc(at) else as_utc(at)


def _json(text: str | None) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
