"""Hourly and daily aggregates of probe results, and the alert hook's flap-suppression state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base

COVER = ["probe", "n_ok", "n_warn", "n_crit", "n_unknown", "rtt_sum", "rtt_count"]
"""What the web pages sum per device or per bucket: on PostgreSQL carried in the index
``ix_probe_rollups_device_cover`` itself, so a school's period figures are index-only scans."""


class ProbeRollupRow(Base):
    """One device × probe × hour (``grain='hour'``) or UTC day (``grain='day'``).

    ``bucket_start`` is Unix epoch seconds (UTC) so long reports read plain integers.
    ``rtt_sketch`` maps log-bucket index → count (see :mod:`kape_itops.domain.sketch`).
    ``last_metrics``/``last_status`` are those of the newest result in the bucket.
    """

    __tablename__ = "probe_rollups"
    __table_args__ = (
        UniqueConstraint(
            "grain", "device_id", "probe", "bucket_start", name="uq_probe_rollups_bucket"
        ),
        Index("ix_probe_rollups_grain_start", "grain", "bucket_start"),
        Index(
            "ix_probe_rollups_device_cover",
            "grain",
            "device_id",
            "bucket_start",
            postgresql_include=COVER,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grain: Mapped[str] = mapped_column(String(8))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    probe: Mapped[str] = mapped_column(String(16))
    bucket_start: Mapped[int] = mapped_column(BigInteger)
    n_ok: Mapped[int] = mapped_column(Integer)
    n_warn: Mapped[int] = mapped_column(Integer)
    n_crit: Mapped[int] = mapped_column(Integer)
    n_unknown: Mapped[int] = mapped_column(Integer)
    rtt_count: Mapped[int] = mapped_column(Integer)
    rtt_sum: Mapped[float] = mapped_column(Float)
    loss_count: Mapped[int] = mapped_column(Integer)
    loss_sum: Mapped[float] = mapped_column(Float)
    rtt_sketch: Mapped[dict[str, Any]]
    last_up_at: Mapped[int | None] = mapped_column(BigInteger)
    last_at: Mapped[int] = mapped_column(BigInteger)
    last_status: Mapped[str] = mapped_column(String(16))
    last_reason: Mapped[str] = mapped_column(Text)
    last_metrics: Mapped[dict[str, Any]]


class AlertStateRow(Base):
    """A problem seen by ``report problems --new-since-last``: how many runs in a row, notified."""

    __tablename__ = "alert_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    asset_tag: Mapped[str | None] = mapped_column(String(64))
    probe: Mapped[str | None] = mapped_column(String(16))
    consecutive: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    notified: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)


class AlertCursorRow(Base):
    """The last probe run the alert hook has evaluated (one row, ``name='problems'``)."""

    __tablename__ = "alert_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_run_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]


class RollupRedoRow(Base):
    """Where the next rollup must start at the latest (``name='hour'``), in Unix seconds.

    Results that arrive late (a school's collector catching up after days offline) are older
    than the newest rolled-up hour; whoever stores them lowers this mark, and the next rollup
    recomputes from there and clears it.
    """

    __tablename__ = "rollup_redo"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket_start: Mapped[int] = mapped_column(BigInteger)
