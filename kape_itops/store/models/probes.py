"""Probe runs and their per-(device, probe) results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
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
