"""Probe runs and their per-(device, probe) results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class ProbeRunRow(Base):
    __tablename__ = "probe_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    selection: Mapped[dict[str, Any]]
    counts: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)


class ProbeResultRow(Base):
    __tablename__ = "probe_results"
    __table_args__ = (
        Index("ix_probe_results_device_probe_at", "device_id", "probe", "started_at"),
        Index("ix_probe_results_run", "run_id"),
        Index("ix_probe_results_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("probe_runs.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    target: Mapped[str] = mapped_column(String(255))
    probe: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]]
    started_at: Mapped[dt.datetime]
    duration_ms: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class PingResultRow(Base):
    """Compact raw ping results (the bulk of all results): numbers instead of text and JSON.

    ``kape_itops.store.ping_codec`` converts to and from :class:`ProbeResult`; results it cannot
    store losslessly here go to ``probe_results``. Times are Unix microseconds, the float metrics
    integer thousandths, status and method small codes; ``reason`` and ``target`` are NULL when
    they can be rebuilt (the ping probe's own text, the device's asset tag), ``keys`` NULL when
    all eight ping metrics are present. SQLite stores it WITHOUT ROWID, clustered by time.
    """

    __tablename__ = "ping_results"
    __table_args__ = (
        PrimaryKeyConstraint("started_us", "device_id", "run_id"),
        Index("ix_ping_results_device_at", "device_id", "started_us"),
        Index("ix_ping_results_run", "run_id"),
        {"sqlite_with_rowid": False},
    )

    started_us: Mapped[int] = mapped_column(BigInteger)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("probe_runs.id", ondelete="CASCADE"))
    status: Mapped[int]
    method: Mapped[int | None]
    target: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    keys: Mapped[int | None]
    sent: Mapped[int | None]
    received: Mapped[int | None]
    loss_pct: Mapped[int | None]
    rtt_min: Mapped[int | None]
    rtt_avg: Mapped[int | None]
    rtt_max: Mapped[int | None]
    rtt_stddev: Mapped[int | None]
    jitter: Mapped[int | None]
    duration_ms: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int]
