"""Property tests for the field codecs and the spreadsheet cell guard."""

from __future__ import annotations

import datetime as dt
import ipaddress
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kape_itops.domain.enums import Currency, DeviceKind, DeviceStatus
from kape_itops.domain.fields import (
    DEVICE_FIELD,
    FieldError,
    parse_date,
    parse_ip,
    parse_mac,
    parse_price,
    parse_probes,
    parse_subnets,
    parse_tag,
    to_text,
)
from kape_itops.inventory.cells import from_cell, to_cell
from kape_itops.inventory.sanitize import FORMULA_PREFIXES

mac_bytes = st.binary(min_size=6, max_size=6)


def styles(raw: bytes) -> list[str]:
    h = raw.hex()
    pairs = [h[i : i + 2] for i in range(0, 12, 2)]
    return [
        ":".join(pairs),
        "-".join(pairs).upper(),
        f"{h[:4]}.{h[4:8]}.{h[8:]}",
        h.upper(),
        f" {h} ",
    ]


@given(mac_bytes)
def test_parse_mac_accepts_every_notation_and_is_canonical(raw: bytes) -> None:
    canonical = ":".join(f"{b:02x}" for b in raw)
    for text in styles(raw):
        assert parse_mac(text) == canonical
    assert parse_mac(canonical) == canonical


@given(
    st.text(max_size=20).filter(
        lambda t: len(t.replace(":", "").replace("-", "").replace(".", "").strip()) != 12
    )
)
def test_parse_mac_rejects_wrong_lengths(text: str) -> None:
    with pytest.raises(FieldError, match="not a MAC address"):
        parse_mac(text)


@given(st.ip_addresses())
def test_parse_ip_round_trips(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assert parse_ip(str(ip)) == str(ip)
    assert parse_ip(f"  {ip.exploded} ") == str(ip)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_parse_date_round_trips_and_rejects_other_formats(day: dt.date) -> None:
    assert parse_date(to_text(day)) == day
    for other in (day.strftime("%d/%m/%Y"), day.strftime("%Y/%m/%d"), day.strftime("%d %b %Y")):
        with pytest.raises(FieldError):
            parse_date(other)


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_parse_price_round_trips(value: Decimal) -> None:
    assert parse_price(to_text(value)) == value
    assert parse_price(f"{value:,.2f}") == value


@given(st.decimals(max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False))
def test_negative_prices_are_refused(value: Decimal) -> None:
    with pytest.raises(FieldError, match="must not be negative"):
        parse_price(str(value))


@given(st.lists(st.tuples(st.ip_addresses(v=4), st.integers(8, 32)), max_size=4))
def test_parse_subnets_round_trips(parts: list[tuple[ipaddress.IPv4Address, int]]) -> None:
    nets = tuple(str(ipaddress.ip_network(f"{a}/{p}", strict=False)) for a, p in parts)
    assert parse_subnets(to_text(nets)) == nets
    assert parse_subnets(", ".join(nets)) == nets


@given(st.lists(st.sampled_from(["ping", "snmp", "onvif", "ssh", "http_get"]), max_size=6))
def test_parse_probes_round_trips_without_repeats(names: list[str]) -> None:
    parsed = parse_probes(" ".join(n.upper() for n in names))
    assert parsed == tuple(dict.fromkeys(names))
    assert parse_probes(to_text(parsed)) == parsed


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}", fullmatch=True))
def test_parse_tag_round_trips(tag: str) -> None:
    assert parse_tag(tag) == tag


@pytest.mark.parametrize("cls", [DeviceKind, DeviceStatus, Currency])
def test_enum_fields_ignore_case_and_round_trip(
    cls: type[DeviceKind | DeviceStatus | Currency],
) -> None:
    field = {DeviceKind: "kind", DeviceStatus: "status", Currency: "currency"}[cls]
    for member in cls:
        assert DEVICE_FIELD[field].parse(member.value.upper()) == member
        assert DEVICE_FIELD[field].parse(to_text(member)) == member


@given(st.text(max_size=40))
def test_cell_guard_round_trips_exactly(text: str) -> None:
    assert from_cell(to_cell(text)) == text


@given(st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "''", "'="]), st.text(max_size=20))
def test_cell_guard_never_leaves_a_formula(prefix: str, rest: str) -> None:
    cell = to_cell(prefix + rest)
    if cell.startswith(FORMULA_PREFIXES):
        assert cell == "-" or is_number(cell)  # the clear marker or a plain number
    assert from_cell(cell) == prefix + rest


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_cell_guard_examples() -> None:
    assert to_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert to_cell("'=x") == "''=x" and from_cell("''=x") == "'=x"
    assert to_cell("'plain") == "'plain" and from_cell("'plain") == "'plain"
    assert to_cell("-5") == "-5" and to_cell("-") == "-"
