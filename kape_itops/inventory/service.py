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
    DevicePage,
    DeviceUpsert,
    School,
    Summary,
)
from kape_itops.errors import Issue, NotFoundError, UsageError, ValidationFailed
from kape_itops.inventory import edits
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo, tag_in_use

if TYPE_CHECKING:  # readers, writers and the label renderer load only when used
    from kape_itops.inventory.exporter import ExportFormat, ExportReport
    from kape_itops.inventory.importer import ImportReport, Mode

EDITABLE = (*tuple(f for f in DEVICE_FIELD if f not in ("asset_tag",)), "new_asset_tag")
PER_PAGE = 50
MAX_QUERY = 200


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


def _place(school: object, room: object) -> str:
    return f"{school}/{room}" if room else str(school)


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
        """One device (its tag in any case); NotFoundError when the tag is unknown."""
        with self.store.session() as s:
            repo = InventoryRepo(s)
            found = repo.device(tag)
            if found is None and (stored := repo.stored_tag(tag)) is not None:
                found = repo.device(stored)
        if found is None:
            raise NotFoundError(f"no device with asset tag '{tag}'")
        return found

    def find(self, key: str) -> list[Device]:
        """The device tagged ``key``, else all whose tag, IP, MAC, serial or host name match it."""
        with self.store.session() as s:
            repo = InventoryRepo(s)
            exact = repo.device(key)
            return [exact] if exact is not None else repo.find_devices(key)

    def search(
        self, text: str, page: int = 1, flt: DeviceFilter | None = None, per_page: int = PER_PAGE
    ) -> DevicePage:
        """Devices whose tag, serial, MAC, IP or host name (or make, model) holds ``text``,
        ignoring case; page ``page`` (from 1) of ``per_page``, exact tag first."""
        text = text.strip()[:MAX_QUERY]
        page = max(1, page)
        with self.store.session() as s:
            found, total = InventoryRepo(s).search_devices(
                text, flt, (page - 1) * per_page, per_page
            )
        return DevicePage(tuple(found), total, page, per_page)

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
    def import_file(
        self, path: Path, mode: Mode, dry_run: bool = False, source: str = "import"
    ) -> ImportReport:
        """Import a folder, CSV, XLSX or JSON export; every change through the change log
        (its source is ``<source>: <file>``)."""
        from kape_itops.inventory.importer import import_inventory

        return import_inventory(self.store, path, self.actor, mode, dry_run, source)

    def export_download(
        self, fmt: ExportFormat, flt: DeviceFilter | None = None
    ) -> tuple[str, bytes]:
        """A download in the import format: (file name, bytes); CSV holds the devices, XLSX
        both sheets. Formula-like cells are neutralised as in :meth:`export`."""
        from kape_itops.inventory.exporter import export_bytes

        return export_bytes(self.store, fmt, flt)

    def export(
        self, path: Path, fmt: ExportFormat, flt: DeviceFilter | None = None
    ) -> ExportReport:
        """Write schools and devices in the import format (a CSV folder, XLSX or JSON)."""
        from kape_itops.inventory.exporter import export_inventory

        return export_inventory(self.store, path, fmt, flt)

    def labels(
        self, output: Path, flt: DeviceFilter | None = None, base_url: str | None = None
    ) -> int:
        """Write a printable HTML sheet of QR labels (each the device's URL under
        ``base_url``, else its tag); how many labels."""
        from kape_itops.inventory.labels import write_labels

        return write_labels(self.store, output, flt, base_url)

    def labels_html(self, flt: DeviceFilter | None = None, base_url: str | None = None) -> str:
        """The label sheet as an HTML page."""
        from kape_itops.inventory.labels import labels_page

        return labels_page(self.store, flt, base_url)

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

    def edit(
        self,
        tag: str,
        values: Mapping[str, str],
        shown: Mapping[str, str] | None = None,
        source: str = "web: inventory edit",
    ) -> edits.Edited:
        """Change a device from form text, validated exactly as an import row.

        Fields equal to what the form showed (``shown``, else the stored value) stay as
        they are; an emptied field is cleared; ``asset_tag`` renames. School and room (Move)
        and the statuses retired and in repair (Retire, Repair) are refused here. Raises
        ValidationFailed with every error, each named by its field; warnings come back.
        """
        with self.store.write() as s:
            ctx = self.context(source)
            repo = InventoryRepo(s)
            current = self._current(repo, tag)
            header, cells, issues = edits.form_cells(current, values, shown)
            issues += edits.reserved(header, cells)
            row, found = edits.check_row(repo, header, cells)
            issues += found
            if any(i.severity == "error" for i in issues):
                raise ValidationFailed(issues, f"{current.asset_tag} not saved")
            new_tag = row.new_key or current.asset_tag
            repo.apply_devices([DeviceUpsert(current.asset_tag, row.values, row.new_key)], ctx)
            changes = [
                c for c in repo.history(EntityType.DEVICE, new_tag, ctx.at) if c.at == ctx.at
            ]
            return edits.Edited(new_tag, changes, issues)

    def create(self, values: Mapping[str, str], source: str) -> edits.Edited:
        """A new device from form text (``asset_tag``, ``school``, ``kind``, ...), validated
        exactly as an import row; ValidationFailed with every error, named by field."""
        with self.store.write() as s:
            ctx = self.context(source)
            repo = InventoryRepo(s)
            header, cells, issues = edits.form_cells(None, values)
            row, found = edits.check_row(repo, header, cells)
            issues += found
            if row.key and row.key.lower() in repo.tag_spellings([row.key]):
                owner = repo.stored_tag(row.key) or row.key
                issues.append(
                    Issue(edits.FORM, None, "asset_tag", row.key, tag_in_use(row.key, owner))
                )
            if any(i.severity == "error" for i in issues):
                raise ValidationFailed(issues, "device not added")
            repo.apply_devices([DeviceUpsert(row.key, row.values)], ctx)
            changes = [
                c for c in repo.history(EntityType.DEVICE, row.key, ctx.at) if c.at == ctx.at
            ]
            return edits.Edited(row.key, changes, issues)

    @staticmethod
    def _current(repo: InventoryRepo, tag: str) -> Device:
        stored = repo.stored_tag(tag)  # tags that differ only in case are one tag
        current = repo.device(stored) if stored else None
        if current is None:
            raise NotFoundError(f"no device with asset tag '{tag}'")
        return current

    def move(
        self,
        tag: str,
        school: str | None,
        room: str | None,
        reason: str | None = None,
        source: str = "cli: inventory move",
    ) -> list[Change]:
        """Move a device to another school and/or room; a ``reason`` (required when given,
        even empty) is added to its notes."""
        if school is None and room is None:
            raise UsageError("give --school and/or --room")
        why = edits.reason_text(reason, source) if reason is not None else None
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

        def moved(current: Device) -> dict[str, object]:
            if why is None:
                return values
            to_school = str(values.get("school", current.school))
            to_room = values.get("room", current.room)
            if (to_school, to_room) == (current.school, current.room):
                raise UsageError(f"device '{current.asset_tag}' is there already")
            where = f"from {_place(current.school, current.room)} to {_place(to_school, to_room)}"
            return {**values, "notes": edits.noted(current, edits.dated("Moved", why, where))}

        return self._apply(tag, moved, None, source)

    def retire(self, tag: str, reason: str, source: str = "cli: inventory retire") -> list[Change]:
        """Mark a device retired, keeping the reason in its notes."""
        why = edits.reason_text(reason, source, " to retire a device")
        line = edits.dated("Retired", why)

        def retired(current: Device) -> dict[str, object]:
            if current.status == DeviceStatus.RETIRED:
                raise UsageError(f"device '{tag}' is already retired")
            return {"status": DeviceStatus.RETIRED, "notes": edits.noted(current, line)}

        return self._apply(tag, retired, None, source)

    def repair(
        self, tag: str, reason: str, done: bool = False, source: str = "cli: inventory repair"
    ) -> list[Change]:
        """Send a device to repair (status in repair), or with ``done`` take it back
        (deployed); the reason goes into its notes."""
        why = edits.reason_text(reason, source)

        def repaired(current: Device) -> dict[str, object]:
            if done:
                if current.status != DeviceStatus.IN_REPAIR:
                    raise UsageError(f"device '{current.asset_tag}' is not in repair")
                status, line = DeviceStatus.DEPLOYED, edits.dated("Back from repair", why)
            else:
                if current.status in (DeviceStatus.IN_REPAIR, DeviceStatus.RETIRED):
                    raise UsageError(f"device '{current.asset_tag}' is {current.status.value}")
                status, line = DeviceStatus.IN_REPAIR, edits.dated("In repair", why)
            return {"status": status, "notes": edits.noted(current, line)}

        return self._apply(tag, repaired, None, source)

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
            current = self._current(repo, tag)
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
