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
    text,
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
    origin_site_id: Mapped[int | None] = mapped_column(Integer)
    """The site this record came from (``sync_sites.id``), NULL when made here."""
    origin_id: Mapped[int | None] = mapped_column(BigInteger)
    """Its id at that site: with ``origin_site_id`` the record's global id (unique)."""
    received_at: Mapped[dt.datetime | None]
    """Server time the run arrived from its site (its own times are the site's clock)."""


class ProbeResultRow(Base):
    __tablename__ = "probe_results"
    __table_args__ = (
        Index("ix_probe_results_device_probe_at", "device_id", "probe", "started_at"),
        Index("ix_probe_results_run", "run_id"),
        Index("ix_probe_results_started_at", "started_at"),
        Index(
            "ix_probe_results_plain_ping",
            "device_id",
            "started_at",
            postgresql_where=text("probe = 'ping'"),
            sqlite_where=text("probe = 'ping'"),
        ),
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
    integer thousandths, status and method small codes, an IPv4 target a number (``target_ip``);
    ``reason`` and ``target`` are NULL when they can be rebuilt (the ping probe's own text, the
    device's asset tag, the address), ``keys`` NULL when all eight ping metrics are present.
    The primary key is the only index (SQLite stores the table WITHOUT ROWID, clustered by
    device and time); reads by run go through :class:`PingRunRow`, so ``run_id`` has no index
    and therefore no foreign key either.
    """

    __tablename__ = "ping_results"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "started_us", "run_id"),
        {"sqlite_with_rowid": False},
    )

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    started_us: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int]
    status: Mapped[int]
    method: Mapped[int | None]
    target: Mapped[str | None] = mapped_column(String(255))
    target_ip: Mapped[int | None] = mapped_column(BigInteger)
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


class PingRunRow(Base):
    """Per probe run, the time span of its compact ping results (Unix microseconds).

    ``first_us`` is raised to the pruning cutoff when older results are deleted; a run whose
    ``last_us`` falls before the cutoff has no ping results left and loses its row.
    """

    __tablename__ = "ping_runs"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("probe_runs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    first_us: Mapped[int] = mapped_column(BigInteger)
    last_us: Mapped[int] = mapped_column(BigInteger)


Index("uq_probe_runs_origin", ProbeRunRow.origin_site_id, ProbeRunRow.origin_id, unique=True)


class DeviceStateRow(Base):
    """Per device and probe, its newest result: kept in the transaction of every write of
    results (:mod:`kape_itops.store.state_repo`), so the fleet's current state is one scan.

    ``probe`` ``ping`` holds the newer of the compact and the plain pings. ``reason`` and
    ``metrics`` are those of the result (NULL for a compact ping): the problems list shows them.
    """

    __tablename__ = "device_state"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    probe: Mapped[str] = mapped_column(String(16), primary_key=True)
    at_us: Mapped[int] = mapped_column(BigInteger)
    """The result's start, Unix microseconds."""
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict[str, Any] | None]
