"""Text ⇄ value codecs for every inventory field: one place for parsing and canonical text.

The canonical text is what exports write, what the change log stores as old/new, and what
imports and ``inventory set`` accept, so export → edit → import round-trips exactly.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kape_itops.domain.enums import Currency, DeviceKind, DeviceStatus, SchoolLevel
from kape_itops.domain.text import refusal

CLEAR_MARKER = "-"
"""A cell holding only this marker clears the field on import (a blank cell means no change)."""

_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_PROBE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


class FieldError(ValueError):
    """A value that does not fit its field; the message says why."""


def parse_mac(text: str) -> str:
    """Accept ``aa:bb:..``, ``aa-bb-..``, ``aabb.ccdd.eeff`` or bare hex; give ``aa:bb:..``."""
    hexdigits = re.sub(r"[\s:.-]", "", text).lower()
    if not _MAC_HEX.match(hexdigits):
        raise FieldError("not a MAC address (expected 12 hex digits like aa:bb:cc:dd:ee:ff)")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


def parse_ip(text: str) -> str:
    """An IPv4 or IPv6 address in canonical form."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError as exc:
        raise FieldError("not an IPv4 or IPv6 address") from exc


def parse_date(text: str) -> dt.date:
    """An ISO ``YYYY-MM-DD`` date, nothing else (no locale guessing)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise FieldError("not an ISO date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise FieldError(f"not a valid date: {exc}") from exc


PRICE_SCALE = 2
"""Decimals of a price (the ORM column is ``Numeric(16, 2)``)."""
PRICE_DIGITS = 15
"""Most significant digits of a price: every backend holds 15 exactly (SQLite as a double)."""
_PRICE = re.compile(
    r"\+?(?P<int>\d+|\d{1,3}(?P<sep>[, \u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*)?"
    r"(?:\.(?P<frac>\d+))?"
)


def parse_price(text: str) -> Decimal:
    """A non-negative amount with at most two decimals, read exactly or refused.

    Thousands separators (comma or space) are accepted only in groups of exactly three
    digits (``1,234.56``, ``1 234``); ``12,50`` or ``1,2,3`` are refused, never guessed.
    """
    value = text.strip()
    if value.startswith("-") and _PRICE.fullmatch(value[1:65]):
        raise FieldError("must not be negative")
    if len(value) > 64:
        raise FieldError("too long for an amount (at most 13 digits before the decimal point)")
    m = _PRICE.fullmatch(value)
    if m is None or not (m["int"] or m["frac"]):
        if re.fullmatch(r"\d+,\d{1,2}", value):
            raise FieldError(
                "a comma as the decimal mark is ambiguous; write it with a dot (12.50)"
            )
        raise FieldError(
            "not a plain number (write digits with a dot for decimals: 1234.50 or 1,234.50)"
        )
    whole = re.sub(r"\D", "", m["int"] or "").lstrip("0")
    frac = (m["frac"] or "").rstrip("0")
    if len(frac) > PRICE_SCALE:
        raise FieldError("more than two decimals")
    if len(whole) > PRICE_DIGITS - PRICE_SCALE:
        raise FieldError(
            f"too large: at most {PRICE_DIGITS - PRICE_SCALE} digits before the decimal point"
        )
    return Decimal(f"{whole or 0}.{frac:0<{PRICE_SCALE}}")


def parse_subnets(text: str) -> tuple[str, ...]:
    """Space- or comma-separated CIDRs, each normalised (host bits must be zero)."""
    out: list[str] = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=True)))
        except ValueError as exc:
            raise FieldError(f"'{part}' is not a network in CIDR form: {exc}") from exc
    return tuple(out)


def parse_probes(text: str) -> tuple[str, ...]:
    """Probe names separated by spaces or commas, lower-cased, in given order, no repeats."""
    names: list[str] = []
    for part in re.split(r"[\s,;]+", text.strip().lower()):
        if not part:
            continue
        if not _PROBE.match(part):
            raise FieldError(f"'{part}' is not a probe name")
        if part not in names:
            names.append(part)
    return tuple(names)


def _enum(cls: type[StrEnum]) -> Callable[[str], Any]:
    values = [m.value for m in cls]

    def parse(text: str) -> Any:
        key = text.strip()
        for member in cls:
            if key.lower() == member.value.lower() or key.lower() == member.name.lower():
                return member
        raise FieldError(f"unknown value; expected one of: {', '.join(values)}")

    return parse


def _pattern(regex: re.Pattern[str], what: str, upper: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().upper() if upper else text.strip()
        if not regex.match(value):
            raise FieldError(f"not a valid {what}")
        return value

    return parse


def _text(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip()
        if len(value) > limit:
            raise FieldError(f"longer than {limit} characters")
        if why := refusal(value):
            raise FieldError(why)
        return value

    return parse


def to_text(value: object) -> str:
    """Canonical text of a field value ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One importable field: its column name and parser."""

    name: str
    parse: Callable[[str], Any]
    required: bool = False


parse_code = _pattern(_CODE, "school code (letters, digits, '-' or '_', up to 32)", upper=True)
parse_tag = _pattern(_TAG, "asset tag (letters, digits, '.', '_', '/', '-', up to 64)")
parse_hostname = _pattern(_HOST, "host name")

SCHOOL_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("code", parse_code, required=True),
    FieldSpec("name", _text(200), required=True),
    FieldSpec("name_km", _text(200)),
    FieldSpec("province", _text(100)),
    FieldSpec("district", _text(100)),
    FieldSpec("level", _enum(SchoolLevel)),
    FieldSpec("subnets", parse_subnets),
    FieldSpec("contact", _text(200)),
    FieldSpec("credential", _text(100)),
)

DEVICE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("asset_tag", parse_tag, required=True),
    FieldSpec("school", parse_code, required=True),
    FieldSpec("kind", _enum(DeviceKind), required=True),
    FieldSpec("manufacturer", _text(100)),
    FieldSpec("model", _text(200)),
    FieldSpec("serial", _text(100)),
    FieldSpec("mac", parse_mac),
    FieldSpec("ip", parse_ip),
    FieldSpec("hostname", parse_hostname),
    FieldSpec("room", _text(100)),
    FieldSpec("status", _enum(DeviceStatus)),
    FieldSpec("funding", _text(100)),
    FieldSpec("purchase_date", parse_date),
    FieldSpec("vendor", _text(200)),
    FieldSpec("unit_price", parse_price),
    FieldSpec("currency", _enum(Currency)),
    FieldSpec("warranty_until", parse_date),
    FieldSpec("notes", _text(2000)),
    FieldSpec("platform", _text(64)),
    FieldSpec("probes", parse_probes),
    FieldSpec("credential", _text(100)),
)

SCHOOL_COLUMNS = tuple(f.name for f in SCHOOL_FIELDS)
DEVICE_COLUMNS = tuple(f.name for f in DEVICE_FIELDS)
DEVICE_FIELD = {f.name: f for f in DEVICE_FIELDS}
SCHOOL_FIELD = {f.name: f for f in SCHOOL_FIELDS}
