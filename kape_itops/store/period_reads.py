"""Period figures of one school from the rollups, for the school page (one GROUP BY each).

On PostgreSQL the index ``ix_probe_rollups_device_cover`` (migration 0006) carries the summed
columns, so a school's devices' buckets are read by index-only scans, one seek per device.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.reports import StatusCounts
from kape_itops.domain.status import ProbeTotals
from kape_itops.store import ping_codec
from kape_itops.store.models import DeviceRow, ProbeRollupRow, SchoolRow

__all__ = ["PeriodReads"]

_DEPLOYED = DeviceStatus.DEPLOYED.value


class PeriodReads:
    """Rollup reads on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def probe_totals(
        self, school: str, grain: str, start: int, end: int, probes: Iterable[str]
    ) -> list[ProbeTotals]:
        """Per deployed device of ``school`` and probe: its status counts over the buckets
        starting in ``[start, end)`` and its first bucket there (one GROUP BY)."""
        u, d = ProbeRollupRow, DeviceRow
        q = (
            select(
                d.asset_tag,
                u.probe,
                func.sum(u.n_ok),
                func.sum(u.n_warn),
                func.sum(u.n_crit),
                func.sum(u.n_unknown),
                func.min(u.bucket_start),
            )
            .join(d, u.device_id == d.id)
            .join(SchoolRow, d.school_id == SchoolRow.id)
            .where(
                SchoolRow.code == school,
                d.status == _DEPLOYED,
                u.grain == grain,
                u.bucket_start >= start,
                u.bucket_start < end,
                u.probe.in_(list(probes)),
            )
            .group_by(d.asset_tag, u.probe)
        )
        return [
            ProbeTotals(tag, probe, StatusCounts(ok, warn, crit, unk), int(first))
            for tag, probe, ok, warn, crit, unk, first in self.s.execute(q)
        ]

    def trend(
        self, school: str, grain: str, start: int, end: int, probe: str = "ping"
    ) -> list[tuple[int, StatusCounts, float, int]]:
        """Per bucket start: the school's deployed devices' status counts of ``probe`` and
        their round-trip sum and count, oldest first (one GROUP BY)."""
        u, d = ProbeRollupRow, DeviceRow
        q = (
            select(
                u.bucket_start,
                func.sum(u.n_ok),
                func.sum(u.n_warn),
                func.sum(u.n_crit),
                func.sum(u.n_unknown),
                func.sum(u.rtt_sum),
                func.sum(u.rtt_count),
            )
            .join(d, u.device_id == d.id)
            .join(SchoolRow, d.school_id == SchoolRow.id)
            .where(
                SchoolRow.code == school,
                d.status == _DEPLOYED,
                u.grain == grain,
                u.probe == probe,
                u.bucket_start >= start,
                u.bucket_start < end,
            )
            .group_by(u.bucket_start)
            .order_by(u.bucket_start)
        )
        return [
            (int(t), StatusCounts(ok, warn, crit, unk), float(rs or 0), int(rc or 0))
            for t, ok, warn, crit, unk, rs, rc in self.s.execute(q)
        ]

    def rollup_watermark(self) -> dt.datetime | None:
        """The end of the newest hourly bucket (what the period figures count up to)."""
        u = ProbeRollupRow
        value = self.s.scalar(select(func.max(u.bucket_start)).where(u.grain == "hour"))
        return ping_codec.from_us((int(value) + 3600) * 1_000_000) if value is not None else None
