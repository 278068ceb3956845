"""SNMP values as the checks see them: a type and a raw Python value, no protocol library.

Everything an agent sends is untrusted: readers turn a value into text or a number, or note
why they cannot (see :func:`kape_itops.probes.snmp.checks.base.as_int`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kape_itops.domain.devicetext import decode_display, hex_bytes


class Kind(StrEnum):
    """The SNMP type of one returned value, without the protocol library's classes."""

    INTEGER = "integer"
    UNSIGNED = "unsigned"
    COUNTER32 = "counter32"
    COUNTER64 = "counter64"
    TIMETICKS = "timeticks"
    OCTETS = "octets"
    OID = "oid"
    IPADDRESS = "ipaddress"
    OPAQUE = "opaque"
    NULL = "null"
    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB = "endOfMibView"


NUMERIC = frozenset({Kind.INTEGER, Kind.UNSIGNED, Kind.COUNTER32, Kind.COUNTER64, Kind.TIMETICKS})
ABSENT = frozenset({Kind.NULL, Kind.NO_SUCH_OBJECT, Kind.NO_SUCH_INSTANCE, Kind.END_OF_MIB})


@dataclass(frozen=True, slots=True)
class Value:
    """One varbind value: ``raw`` is an int, bytes, a dotted OID string or None."""

    kind: Kind
    raw: int | bytes | str | None = None

    @property
    def absent(self) -> bool:
        """noSuchObject, noSuchInstance, endOfMibView or NULL."""
        return self.kind in ABSENT

    def describe(self) -> str:
        """A short, printable description including the raw content."""
        if isinstance(self.raw, bytes):
            return f"{self.kind.value} '{decode_display(self.raw)}'"
        if self.raw is None:
            return self.kind.value
        return f"{self.kind.value} {self.raw}"


Row = Mapping[str, Value]
Table = Mapping[str, Row]
"""Rows of a walked table keyed by instance index (``"3"``, ``"1.2"``), columns by name."""


def as_text(value: Value | None) -> str | None:
    """Printable text of a value (DisplayString decoded with visible-bytes fallback)."""
    if value is None or value.absent:
        return None
    if isinstance(value.raw, bytes):
        return decode_display(value.raw)
    return None if value.raw is None else str(value.raw)


def octets_text(value: Value | None) -> str | None:
    """Text of an octet string, or hex when it is not printable text."""
    if value is None or value.absent or not isinstance(value.raw, bytes):
        return as_text(value)
    return decode_display(value.raw) if value.raw.isascii() else hex_bytes(value.raw)


def rows_from_columns(
    columns: Mapping[str, Sequence[tuple[str, Value]]], bases: Mapping[str, str]
) -> dict[str, dict[str, Value]]:
    """Pivot walked columns (``name -> [(oid, value)]``) into rows keyed by instance index."""
    rows: dict[str, dict[str, Value]] = {}
    for name, cells in columns.items():
        prefix = bases[name].strip(".") + "."
        for oid, value in cells:
            if oid.startswith(prefix):
                rows.setdefault(oid[len(prefix) :], {})[name] = value
    return rows


def _index_key(index: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in index.split("."))
    except ValueError:
        return (1 << 63,)


def sorted_rows(table: Table) -> list[tuple[str, Row]]:
    """Rows in numeric index order."""
    return sorted(table.items(), key=lambda item: _index_key(item[0]))
