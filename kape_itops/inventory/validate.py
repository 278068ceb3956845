"""Validation of import rows: header mapping, cell parsing, and cross-row/database checks.

Pure logic, no I/O: the importer feeds rows in file order, chunk by chunk, together with the
database facts each chunk needs (:class:`Lookups`). Duplicate detection keeps only small key
sets, so memory stays flat however long the file is.

File-order semantics: a row renaming ``A`` to ``B`` frees ``A`` for a later row (which then
creates a new device ``A``); a row that changes or clears a device's serial or MAC frees it for
a later row. A row using a freed key is a *barrier*: the importer writes what precedes it first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kape_itops.domain.fields import (
    CLEAR_MARKER,
    DEVICE_FIELD,
    SCHOOL_FIELD,
    FieldError,
    FieldSpec,
    parse_tag,
)
from kape_itops.domain.inventory import Device, DeviceUpsert, School, SchoolUpsert
from kape_itops.errors import Issue

NEW_TAG = "new_asset_tag"
FIELDS: dict[str, dict[str, FieldSpec]] = {
    "schools": SCHOOL_FIELD,
    "devices": {**DEVICE_FIELD, NEW_TAG: FieldSpec(NEW_TAG, parse_tag)},
}
KEY = {"schools": "code", "devices": "asset_tag"}
REQUIRED_COLUMNS = {
    entity: tuple(name for name, spec in specs.items() if spec.required)
    for entity, specs in FIELDS.items()
}
NOT_CLEARABLE = {
    "schools": frozenset({"code", "name"}),
    "devices": frozenset({"asset_tag", "school", "kind", "status", NEW_TAG}),
}
CREATE_REQUIRES = {"schools": ("name",), "devices": ("school", "kind")}


@dataclass(frozen=True, slots=True)
class HeaderMap:
    """Where each known field sits in a row, and which columns have no name."""

    columns: dict[str, int]
    unnamed: tuple[int, ...]
    width: int


@dataclass(slots=True)
class ParsedRow:
    """One data row: its key, the parsed non-blank cells (None = clear) and its issues."""

    row: int
    key: str
    new_key: str | None
    values: dict[str, object]
    raw: dict[str, str]
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not any(i.severity == "error" for i in self.issues)


def map_header(
    entity: str,
    label: str,
    header_row: int | None,
    header: Sequence[str],
    column_name: Callable[[int], str],
) -> tuple[HeaderMap, list[Issue]]:
    """Map header cells to fields; unknown columns are warnings, missing required ones errors."""
    from kape_itops.inventory.readers import normalise_header

    specs = FIELDS[entity]
    issues: list[Issue] = []
    columns: dict[str, int] = {}
    unnamed: list[int] = []
    for i, cell in enumerate(header):
        name = normalise_header(cell)
        if not name:
            unnamed.append(i)
        elif name in columns:
            issues.append(
                Issue(label, header_row, name, cell, "duplicate column in the header row")
            )
        elif name in specs:
            columns[name] = i
        else:
            issues.append(
                Issue(
                    label,
                    header_row,
                    cell.strip(),
                    None,
                    f"unknown column (column {column_name(i)}) is ignored; "
                    f"known columns: {', '.join(specs)}",
                    "warning",
                )
            )
    for name in REQUIRED_COLUMNS[entity]:
        if name not in columns:
            issues.append(Issue(label, header_row, name, None, "required column is missing"))
    return HeaderMap(columns, tuple(unnamed), len(header)), issues


def parse_row(
    entity: str,
    label: str,
    row: int,
    cells: Sequence[str],
    hmap: HeaderMap,
    column_name: Callable[[int], str],
) -> ParsedRow:
    """Parse the cells of one row; a blank cell means no change, ``-`` clears the field."""
    specs = FIELDS[entity]
    key_field = KEY[entity]
    out = ParsedRow(row, "", None, {}, {})
    beyond = range(hmap.width, len(cells))
    for i in (*hmap.unnamed, *beyond):
        if i < len(cells) and cells[i].strip():
            out.issues.append(
                Issue(
                    label,
                    row,
                    f"column {column_name(i)}",
                    cells[i],
                    "value in a column without a header cell (merged or missing header?)",
                )
            )
    for name, idx in hmap.columns.items():
        text = cells[idx] if idx < len(cells) else ""
        stripped = text.strip()
        if not stripped:
            if name == key_field:
                out.issues.append(Issue(label, row, name, None, f"{name} is required"))
            continue
        out.raw[name] = text
        if stripped == CLEAR_MARKER:
            if name in NOT_CLEARABLE[entity]:
                out.issues.append(Issue(label, row, name, text, f"{name} cannot be cleared"))
            else:
                out.values[name] = None
            continue
        try:
            value = _parse(specs[name], text)
        except FieldError as exc:
            out.issues.append(Issue(label, row, name, text, str(exc)))
            continue
        if name == key_field:
            out.key = str(value)
        elif name == NEW_TAG:
            out.new_key = str(value)
        else:
            out.values[name] = value
    if out.new_key == out.key:
        out.new_key = None
    return out


_CACHE_LIMIT = 4096
_CACHED_FIELDS = frozenset(
    {
        "school",
        "kind",
        "status",
        "room",
        "manufacturer",
        "model",
        "funding",
        "vendor",
        "currency",
        "level",
        "purchase_date",
        "warranty_until",
        "unit_price",
        "platform",
        "probes",
        "credential",
        "province",
        "district",
    }
)
_cache: dict[str, dict[str, object]] = {name: {} for name in _CACHED_FIELDS}


def _parse(spec: FieldSpec, text: str) -> object:
    """Parse one cell; repeated values of low-cardinality fields are parsed once.

    Parsed values are immutable, so sharing them is safe; errors are never cached.
    """
    seen = _cache.get(spec.name)
    if seen is None:
        return spec.parse(text)
    try:
        return seen[text]
    except KeyError:
        value = spec.parse(text)
        if len(seen) < _CACHE_LIMIT:
            seen[text] = value
        return value


def _is_blank(row: ParsedRow, name: str) -> bool:
    return row.values.get(name) in (None, "", ())


# -- schools -----------------------------------------------------------------------------------
def check_schools(
    label: str, rows: Sequence[ParsedRow], existing: Mapping[str, School]
) -> list[Issue]:
    """Cross-row checks of school rows; adds each row's issues to it and returns them all."""
    seen: dict[str, int] = {}
    out: list[Issue] = []
    for r in rows:
        if r.key:
            if r.key in seen:
                r.issues.append(
                    Issue(
                        label,
                        r.row,
                        "code",
                        r.key,
                        f"duplicate school code (also in row {seen[r.key]})",
                    )
                )
            else:
                seen[r.key] = r.row
            if r.key not in existing:
                for name in CREATE_REQUIRES["schools"]:
                    if _is_blank(r, name):
                        r.issues.append(
                            Issue(
                                label,
                                r.row,
                                name,
                                r.raw.get(name),
                                f"{name} is required to create school {r.key}",
                            )
                        )
        out.extend(r.issues)
    return out


def school_upsert(row: ParsedRow) -> SchoolUpsert:
    """The write for a valid school row."""
    return SchoolUpsert(row.key, dict(row.values))


# -- devices -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lookups:
    """Database facts for one chunk: existing devices among its tags, owners of its keys, and
    the stored spelling of its tags keyed by their lower case (tags are one ignoring case)."""

    devices: Mapping[str, Device]
    serial_owner: Mapping[str, str]
    mac_owner: Mapping[str, str]
    spellings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Needed:
    """What one chunk needs looked up."""

    tags: list[str]
    serials: list[str]
    macs: list[str]


class DeviceChecker:
    """Cross-row and database checks of device rows, fed chunk by chunk in file order.

    ``schools`` maps every school code known after the school rows of this import to its
    subnets. With ``keep_invalid_keys`` (all-or-nothing) rows with errors still claim their
    keys, so every duplicate is reported; otherwise only rows that will be written do.
    """

    def __init__(
        self, label: str, schools: Mapping[str, Sequence[str]], keep_invalid_keys: bool = True
    ) -> None:
        self.label = label
        self.networks = {
            code: [ipaddress.ip_network(n) for n in nets] for code, nets in schools.items()
        }
        self.keep_invalid_keys = keep_invalid_keys
        self.tag_row: dict[str, tuple[int, str]] = {}  # lower-case tag -> (row, as spelled)
        self.freed_tags: set[str] = set()
        self.key_row: dict[str, dict[str, int]] = {"serial": {}, "mac": {}}
        self.released: dict[str, set[str]] = {"serial": set(), "mac": set()}
        self.barriers: set[int] = set()
        self.invalid: set[int] = set()
        self.rows = 0

    @staticmethod
    def needed(rows: Sequence[ParsedRow]) -> Needed:
        """Tags, serials and MACs of a chunk to look up in the database."""
        tags: set[str] = set()
        serials: set[str] = set()
        macs: set[str] = set()
        for r in rows:
            tags.update(t for t in (r.key, r.new_key) if t)
            if isinstance(r.values.get("serial"), str):
                serials.add(str(r.values["serial"]))
            if isinstance(r.values.get("mac"), str):
                macs.add(str(r.values["mac"]))
        return Needed(sorted(tags), sorted(serials), sorted(macs))

    def check(self, rows: Sequence[ParsedRow], look: Lookups) -> list[Issue]:
        """Check a chunk; adds each row's issues to it and returns them all."""
        out: list[Issue] = []
        for r in rows:
            self.rows += 1
            if r.key:
                self._check(r, look)
            if not r.ok:
                self.invalid.add(r.row)
            out.extend(r.issues)
        return out

    def _err(self, r: ParsedRow, column: str, reason: str, severity: str = "error") -> None:
        value = r.raw.get(column)
        r.issues.append(Issue(self.label, r.row, column, value, reason, severity))

    def _check(self, r: ParsedRow, look: Lookups) -> None:
        tag, new = r.key, r.new_key
        freed = tag.lower() in self.freed_tags
        existing = None if freed else look.devices.get(tag)
        if freed:
            self.barriers.add(r.row)
        twin = None if freed or existing else look.spellings.get(tag.lower())
        if twin is not None:
            self._err(r, "asset_tag", _case_twin(tag, twin))
        elif existing is None:
            for name in CREATE_REQUIRES["devices"]:
                if _is_blank(r, name):
                    self._err(r, name, f"{name} is required to create device {tag}")
        if tag.lower() in self.tag_row:
            self._err(r, "asset_tag", self._duplicate(tag))
        if new:
            owner = look.spellings.get(new.lower(), new if new in look.devices else None)
            if new.lower() in self.tag_row:
                self._err(r, NEW_TAG, self._duplicate(new))
            elif new.lower() in self.freed_tags:
                self.barriers.add(r.row)
            elif owner == new:
                self._err(
                    r, NEW_TAG, f"asset tag {new} is already used by a device in the database"
                )
            elif owner is not None and owner != tag:
                self._err(r, NEW_TAG, _case_twin(new, owner))
        school = r.values.get("school")
        if isinstance(school, str) and school not in self.networks:
            self._err(
                r, "school", f"unknown school '{school}' (not in the database or this import)"
            )
        home = school if isinstance(school, str) else existing.school if existing else None
        ip = r.values.get("ip")
        nets = self.networks.get(home or "", [])
        if isinstance(ip, str) and nets:
            addr = ipaddress.ip_address(ip)
            if not any(addr in n for n in nets):
                self._err(
                    r,
                    "ip",
                    f"address is outside school {home}'s subnets ({' '.join(map(str, nets))})",
                    "warning",
                )
        identity = tag if existing is not None else None
        owners = {"serial": look.serial_owner, "mac": look.mac_owner}
        for name in ("serial", "mac"):
            value = r.values.get(name)
            if not isinstance(value, str):
                continue
            if value in self.key_row[name]:
                self._err(r, name, f"duplicate {name} (also in row {self.key_row[name][value]})")
                continue
            owner = owners[name].get(value)
            if owner is not None and owner != identity:
                if value in self.released[name]:
                    self.barriers.add(r.row)
                else:
                    self._err(r, name, f"duplicate {name}: device {owner} in the database has it")
        if r.ok or self.keep_invalid_keys:
            self._claim(r, existing)

    def _duplicate(self, tag: str) -> str:
        row, spelled = self.tag_row[tag.lower()]
        also = f"row {row}" if spelled == tag else f"row {row} as {spelled}, the same tag"
        return f"duplicate asset tag (also in {also})"

    def _claim(self, r: ParsedRow, existing: Device | None) -> None:
        final = r.new_key or r.key
        self.tag_row[final.lower()] = (r.row, final)
        self.freed_tags.discard(final.lower())
        if r.new_key and existing is not None and r.new_key.lower() != r.key.lower():
            self.freed_tags.add(r.key.lower())
        for name in ("serial", "mac"):
            if name not in r.values:
                continue
            value = r.values[name]
            old = getattr(existing, name) if existing is not None else None
            if old and old != value:
                self.released[name].add(old)
            if isinstance(value, str):
                self.key_row[name][value] = r.row
                self.released[name].discard(value)


def _case_twin(tag: str, stored: str) -> str:
    return (
        f"asset tag {tag} is already used by device {stored} in the database "
        "(asset tags that differ only in case are the same tag)"
    )


def device_upsert(row: ParsedRow) -> DeviceUpsert:
    """The write for a valid device row."""
    return DeviceUpsert(row.key, dict(row.values), row.new_key)
