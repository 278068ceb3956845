"""Versioned, secret-scrubbed configuration backups of network gear."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class ConfigBackupRow(Base):
    __tablename__ = "config_backups"
    __table_args__ = (Index("ix_config_backups_device_at", "device_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    taken_at: Mapped[dt.datetime]
    sha256: Mapped[str] = mapped_column(String(64))
    changed: Mapped[bool] = mapped_column(Boolean)
    content: Mapped[str | None] = mapped_column(Text)
    """The scrubbed configuration; NULL when unchanged from the previous version."""
    run_id: Mapped[int | None] = mapped_column(ForeignKey("probe_runs.id", ondelete="SET NULL"))
    origin_site_id: Mapped[int | None] = mapped_column(Integer)
    """The site this record came from (``sync_sites.id``), NULL when made here."""
    origin_id: Mapped[int | None] = mapped_column(BigInteger)
    """Its id at that site: with ``origin_site_id`` the record's global id (unique)."""


Index(
    "uq_config_backups_origin",
    ConfigBackupRow.origin_site_id,
    ConfigBackupRow.origin_id,
    unique=True,
)
