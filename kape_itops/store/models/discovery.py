"""Discovery sweeps (one per school and run of ``itops discover``) and the hosts each saw."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class DiscoverySweepRow(Base):
    __tablename__ = "discovery_sweeps"
    __table_args__ = (
        Index("ix_discovery_sweeps_school_at", "school_id", "started_at"),
        Index("ix_discovery_sweeps_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime]
    duration_s: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    interface: Mapped[str | None] = mapped_column(String(64))
    subnets: Mapped[list[str]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))
    counts: Mapped[dict[str, Any]]
    origin_site_id: Mapped[int | None] = mapped_column(Integer)
    """The site this record came from (``sync_sites.id``), NULL when made here."""
    origin_id: Mapped[int | None] = mapped_column(BigInteger)
    """Its id at that site: with ``origin_site_id`` the record's global id (unique)."""


class DiscoveryHostRow(Base):
    __tablename__ = "discovery_hosts"
    __table_args__ = (
        Index("ix_discovery_hosts_sweep", "sweep_id"),
        Index("ix_discovery_hosts_mac", "mac"),
        Index("ix_discovery_hosts_ip", "ip"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sweep_id: Mapped[int] = mapped_column(ForeignKey("discovery_sweeps.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(45))
    mac: Mapped[str | None] = mapped_column(String(17))
    vendor: Mapped[str | None] = mapped_column(String(100))
    asset_tag: Mapped[str | None] = mapped_column(String(64))
    """The matched inventory device (a copy, not a key: history outlives renames)."""
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


Index(
    "uq_discovery_sweeps_origin",
    DiscoverySweepRow.origin_site_id,
    DiscoverySweepRow.origin_id,
    unique=True,
)
