"""Inventory records as frozen dataclasses: what the store hands back and the API takes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kape_itops.domain.enums import (
    ChangeAction,
    Currency,
    DeviceKind,
    DeviceStatus,
    EntityType,
    SchoolLevel,
)


@dataclass(frozen=True, slots=True)
class School:
    """A school (or office) and the networks it owns."""

    code: str
    name: str
    name_km: str | None = None
    province: str | None = None
    district: str | None = None
    level: SchoolLevel | None = None
    subnets: tuple[str, ...] = ()
    contact: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """One asset. ``school`` and ``room`` are the school code and room name."""

    asset_tag: str
    kind: DeviceKind
    school: str
    status: DeviceStatus = DeviceStatus.IN_STOCK
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    mac: str | None = None
    ip: str | None = None
    hostname: str | None = None
    room: str | None = None
    funding: str | None = None
    purchase_date: dt.date | None = None
    vendor: str | None = None
    unit_price: Decimal | None = None
    currency: Currency | None = None
    warranty_until: dt.date | None = None
    notes: str | None = None
    platform: str | None = None
    probes: tuple[str, ...] = ()
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One append-only change-log entry."""

    at: dt.datetime
    actor: str
    entity: EntityType
    key: str
    action: ChangeAction
    field: str | None = None
    old: str | None = None
    new: str | None = None
    source: str = "api"
    source_sha256: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    """Selection of devices for list, export and probe runs."""

    schools: tuple[str, ...] = ()
    kinds: tuple[DeviceKind, ...] = ()
    statuses: tuple[DeviceStatus, ...] = ()
    fundings: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    search: str | None = None


@dataclass(frozen=True, slots=True)
class DevicePage:
    """One page of a device search: the devices on it and how many match in all."""

    devices: tuple[Device, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the matches fill (at least one)."""
        return max(1, -(-self.total // self.per_page))


@dataclass(slots=True)
class Summary:
    """Device counts per school × kind and per funding project."""

    by_school_kind: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    by_funding: dict[str, int] = dataclasses.field(default_factory=dict)
    by_status: dict[str, int] = dataclasses.field(default_factory=dict)
    total: int = 0


@dataclass(frozen=True, slots=True)
class ChangeContext:
    """Who makes a change, when, and from what source (command or file + SHA-256)."""

    actor: str
    source: str
    at: dt.datetime
    source_sha256: str | None = None
    origin_site_id: int | None = None
    """The site an edit synced from (``sync_sites.id``): with ``origin_id`` its global id."""
    origin_id: int | None = None
    """The edit's change-log id at that site; the entry it makes (the last one logged) carries
    both, rooms created on the way none."""


@dataclass(frozen=True, slots=True)
class SchoolUpsert:
    """Create school ``code`` or change the given fields (a None value clears the field)."""

    code: str
    values: dict[str, object]


@dataclass(frozen=True, slots=True)
class DeviceUpsert:
    """Create device ``asset_tag`` or change the given fields; ``new_tag`` renames it.

    ``values`` maps field names of :class:`Device` to typed values; None clears the field.
    """

    asset_tag: str
    values: dict[str, object]
    new_tag: str | None = None


@dataclass(slots=True)
class ApplyStats:
    """What a batch of upserts did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    renamed: int = 0
    rooms_created: int = 0
    changes: int = 0

    def add(self, other: ApplyStats) -> None:
        """Accumulate another batch's counts."""
        for name in ("created", "updated", "unchanged", "renamed", "rooms_created", "changes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def wrote(self) -> bool:
        """Whether anything was written."""
        return self.changes > 0
