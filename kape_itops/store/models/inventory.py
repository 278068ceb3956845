"""Schools, rooms, devices and the append-only change log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kape_itops.store.models.base import Base


class SchoolRow(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_km: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str | None] = mapped_column(String(16))
    subnets: Mapped[str | None] = mapped_column(String(500))
    contact: Mapped[str | None] = mapped_column(String(200))
    credential: Mapped[str | None] = mapped_column(String(100))

    rooms: Mapped[list[RoomRow]] = relationship(back_populates="school")


class RoomRow(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("school_id", "name", name="uq_rooms_school_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))

    school: Mapped[SchoolRow] = relationship(back_populates="rooms")


class DeviceRow(Base):
    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_school_kind", "school_id", "kind"),
        Index("ix_devices_ip", "ip"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_tag: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(100), unique=True)
    mac: Mapped[str | None] = mapped_column(String(17), unique=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    hostname: Mapped[str | None] = mapped_column(String(253))
    funding: Mapped[str | None] = mapped_column(String(100))
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    vendor: Mapped[str | None] = mapped_column(String(200))
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    warranty_until: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(String(64))
    probes: Mapped[str | None] = mapped_column(String(200))
    credential: Mapped[str | None] = mapped_column(String(100))

    school: Mapped[SchoolRow] = relationship()
    room: Mapped[RoomRow | None] = relationship()


# tags that differ only in case are one tag (asset tags are ASCII: lower() agrees everywhere)
Index("uq_devices_asset_tag_lower", func.lower(DeviceRow.asset_tag), unique=True)


class ChangeRow(Base):
    """Append-only: database triggers refuse UPDATE, DELETE, REPLACE and TRUNCATE here."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_entity_key", "entity", "key"),
        Index("ix_changes_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    origin_site_id: Mapped[int | None] = mapped_column(Integer)
    """The site this record came from (``sync_sites.id``), NULL when made here."""
    origin_id: Mapped[int | None] = mapped_column(BigInteger)
    """Its id at that site: with ``origin_site_id`` the record's global id (unique)."""


Index("uq_changes_origin", ChangeRow.origin_site_id, ChangeRow.origin_id, unique=True)
