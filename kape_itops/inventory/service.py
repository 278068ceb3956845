"""The inventory API: queries and single-device edits, each write through the change log."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kape_itops.domain.enums import DeviceStatus, EntityType
from kape_itops.domain.fields import CLEAR_MARKER, DEVICE_FIELD, FieldError, parse_code
from kape_itops.domain.inventory import (
    Change,
    ChangeContext,
    Device,
    DeviceFilter,
    DeviceUpsert,
    School,
    Summary,
)
from kape_itops.domain.text import refusal
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo, tag_in_use

if TYPE_CHECKING:  # readers, writers and the label renderer load only when used
    from kape_itops.inventory.exporter import ExportFormat, ExportReport
    from kape_itops.inventory.importer import ImportReport, Mode

EDITABLE = (*tuple(f for f in DEVICE_FIELD if f not in ("asset_tag",)), "new_asset_tag")


@dataclass(frozen=True, slots=True)
class WarrantyReport:
    """Devices whose warranty has run out, and those running out within the window."""

    today: dt.date
    within_days: int
    expired: list[Device]
    expiring: list[Device]


def outside_subnets(ip: str, subnets: Sequence[str]) -> bool:
    """True when ``subnets`` are given and ``ip`` lies in none of them (bad entries are skipped)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    networks = []
    for text in subnets:
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(text, strict=False))
    return bool(networks) and not any(address in net for net in networks)


def now() -> dt.datetime:
    """The current UTC time (one place, so tests can reason about it)."""
    return dt.datetime.now(dt.UTC)


class Inventory:
    """Inventory operations on a store, attributed to ``actor``."""

    def __init__(self, store: Store, actor: str) -> None:
        self.store = store
        self.actor = actor

    def context(self, source: str, sha256: str | None = None) -> ChangeContext:
        """A change context for this actor, now."""
        return ChangeContext(actor=self.actor, source=source, at=now(), source_sha256=sha256)

    # -- queries ---------------------------------------------------------------------------
    def schools(self) -> list[School]:
        """Every school."""
        with self.store.session() as s:
            return InventoryRepo(s).schools()

    def devices(self, flt: DeviceFilter | None = None) -> list[Device]:
        """Devices matching the filter."""
        with self.store.session() as s:
            return list(InventoryRepo(s).iter_devices(flt))

    def device(self, tag: str) -> Device:
        """One device; NotFoundError when the tag is unknown."""
        with self.store.session() as s:
            found = InventoryRepo(s).device(tag)
        if found is None:
            raise NotFoundError(f"no device with asset tag '{tag}'")
        return found

    def find(self, key: str) -> list[Device]:
        """The device tagged ``key``, else all whose tag, IP, MAC, serial or host name match it."""
        with self.store.session() as s:
            repo = InventoryRepo(s)
            exact = repo.device(key)
            return [exact] if exact is not None else repo.find_devices(key)

    def subnet_warning(self, tag: str) -> str | None:
        """One line when the device's IP lies outside every subnet of its school, else None.

        Nothing to say when the device has no IP or its school lists no subnets.
        """
        with self.store.session() as s:
            repo = InventoryRepo(s)
            device = repo.device(tag)
            school = repo.school(device.school) if device is not None else None
        if device is None or school is None or not device.ip:
            return None
        if not outside_subnets(device.ip, school.subnets):
            return None
        return (
            f"{device.asset_tag}'s IP {device.ip} is outside {school.code}'s subnets "
            f"({', '.join(school.subnets)}); give it a new address with "
            f"itops inventory set {device.asset_tag} ip=..."
        )

    def summary(self, flt: DeviceFilter | None = None) -> Summary:
        """Counts per school × kind, funding project and status."""
        with self.store.session() as s:
            return InventoryRepo(s).summary(flt)

    def history(
        self, tag: str | None = None, since: dt.datetime | None = None, limit: int | None = None
    ) -> list[Change]:
        """Change-log entries (of one device when ``tag`` is given), oldest first."""
        with self.store.session() as s:
            entity = EntityType.DEVICE if tag else None
            return InventoryRepo(s).history(entity, tag, since, limit)

    def warranty(
        self, within_days: int, today: dt.date | None = None, flt: DeviceFilter | None = None
    ) -> WarrantyReport:
        """Warranties already expired and expiring within ``within_days`` (retired/lost left out)."""
        if within_days < 0:
            raise UsageError("--within must not be negative")
        today = today or dt.date.today()
        horizon = today + dt.timedelta(days=within_days)
        expired: list[Device] = []
        expiring: list[Device] = []
        for d in self.devices(flt):
            if d.warranty_until is None or d.status in (DeviceStatus.RETIRED, DeviceStatus.LOST):
                continue
            if d.warranty_until < today:
                expired.append(d)
            elif d.warranty_until <= horizon:
                expiring.append(d)
        key = lambda d: (d.warranty_until or today, d.asset_tag)  # noqa: E731
        return WarrantyReport(
            today, within_days, sorted(expired, key=key), sorted(expiring, key=key)
        )

    # -- files -----------------------------------------------------------------------------
    def import_file(self, path: Path, mode: Mode, dry_run: bool = False) -> ImportReport:
        """Import a folder, CSV, XLSX or JSON export; every change through the change log."""
        from kape_itops.inventory.importer import import_inventory

        return import_inventory(self.store, path, self.actor, mode, dry_run)

    def export(
        self, path: Path, fmt: ExportFormat, flt: DeviceFilter | None = None
    ) -> ExportReport:
        """Write schools and devices in the import format (a CSV folder, XLSX or JSON)."""
        from kape_itops.inventory.exporter import export_inventory

        return export_inventory(self.store, path, fmt, flt)

    def labels(self, output: Path, flt: DeviceFilter | None = None) -> int:
        """Write a printable HTML sheet of QR labels; how many labels."""
        from kape_itops.inventory.labels import write_labels

        return write_labels(self.store, output, flt)

    # -- edits -----------------------------------------------------------------------------
    def set(
        self, tag: str, assignments: Mapping[str, str], source: str = "cli: inventory set"
    ) -> list[Change]:
        """Change fields from text values (``-`` clears a field); returns the changes logged."""
        if not assignments:
            raise UsageError("nothing to set: give field=value pairs")
        values: dict[str, object] = {}
        new_tag: str | None = None
        for name, text in assignments.items():
            name = name.strip().lower()
            if name not in EDITABLE:
                raise UsageError(
                    f"'{name}' is not an editable field; editable: {', '.join(EDITABLE)}"
                )
            spec = DEVICE_FIELD["asset_tag" if name == "new_asset_tag" else name]
            if text.strip() in ("", CLEAR_MARKER):
                if spec.required or name in ("status", "new_asset_tag"):
                    raise UsageError(f"field '{name}' cannot be cleared")
                values[name] = None
                continue
            try:
                parsed = spec.parse(text)
            except FieldError as exc:
                raise UsageError(f"{name}={text!r}: {exc}") from exc
            if name == "new_asset_tag":
                new_tag = str(parsed)
            else:
                values[name] = parsed
        return self._apply(tag, values, new_tag, source)

    def move(self, tag: str, school: str | None, room: str | None) -> list[Change]:
        """Move a device to another school and/or room."""
        if school is None and room is None:
            raise UsageError("give --school and/or --room")
        values: dict[str, object] = {}
        if school is not None:
            try:
                values["school"] = parse_code(school)
            except FieldError as exc:
                raise UsageError(f"--school {school!r}: {exc}") from exc
        if room is not None:
            try:
                values["room"] = DEVICE_FIELD["room"].parse(room) if room.strip() else None
            except FieldError as exc:
                raise UsageError(f"--room {room!r}: {exc}") from exc
        return self._apply(tag, values, None, "cli: inventory move")

    def retire(self, tag: str, reason: str) -> list[Change]:
        """Mark a device retired, keeping the reason in its notes."""
        if not reason.strip():
            raise UsageError("--reason is required to retire a device")
        if why := refusal(reason):
            raise UsageError(f"--reason: {why}")
        line = f"Retired {dt.date.today().isoformat()}: {reason.strip()}"

        def retired(current: Device) -> dict[str, object]:
            if current.status == DeviceStatus.RETIRED:
                raise UsageError(f"device '{tag}' is already retired")
            notes = f"{current.notes}\n{line}" if current.notes else line
            return {"status": DeviceStatus.RETIRED, "notes": notes}

        return self._apply(tag, retired, None, "cli: inventory retire")

    def _apply(
        self,
        tag: str,
        values: dict[str, object] | Callable[[Device], dict[str, object]],
        new_tag: str | None,
        source: str,
    ) -> list[Change]:
        """Apply the edit in one write transaction; ``values`` may be computed from the device
        as it is once the write lock is held, so no concurrent edit is lost."""
        with self.store.write() as s:
            ctx = self.context(source)  # inside the lock: times follow the change log's order
            repo = InventoryRepo(s)
            stored = repo.stored_tag(tag)  # tags that differ only in case are one tag
            current = repo.device(stored) if stored else None
            if current is None:
                raise NotFoundError(f"no device with asset tag '{tag}'")
            tag = current.asset_tag
            if callable(values):
                values = values(current)
            if "school" in values and repo.school(str(values["school"])) is None:
                raise NotFoundError(f"school '{values['school']}' does not exist")
            owner = repo.stored_tag(new_tag) if new_tag and new_tag != tag else None
            if new_tag and owner and owner != tag:
                raise UsageError(tag_in_use(new_tag, owner))
            repo.apply_devices([DeviceUpsert(tag, values, new_tag)], ctx)
            return [
                c for c in repo.history(EntityType.DEVICE, new_tag or tag, ctx.at) if c.at == ctx.at
            ]
