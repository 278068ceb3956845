"""Unit-aware parsing: examples from real quotations, and "cannot verify" instead of a guess."""

from __future__ import annotations

import pytest

from kape_itops.quotes.comparison import compare
from kape_itops.quotes.units import UnitError, dimension_of, parse_bool, parse_quantity


@pytest.mark.parametrize(
    ("text", "hint", "dimension", "value"),
    [
        ("16GB", None, "data", 16.0),
        ("16 GB DDR4", "GB", "data", 16.0),
        ("16 GB DDR4 3200 MHz", "GB", "data", 16.0),
        ("0.5 TB", "GB", "data", 500.0),
        ("512G SSD", "GB", "data", 512.0),
        ("1,5 TB", "GB", "data", 1500.0),
        ("2 x 4 TB", "TB", "data", 8000.0),
        ("16", "GB", "data", 16.0),
        ('15.6"', "in", "length", 15.6 * 0.0254),
        ("15.6 inch", "in", "length", 15.6 * 0.0254),
        ("39.6 cm", "in", "length", 0.396),
        ("30 m IR", "m", "length", 30.0),
        ("3 yrs", "months", "time", 3 * 8766.0),
        ("36 months", "months", "time", 36 * 730.5),
        ("8 hours", "h", "time", 8.0),
        ("30,000 pages per month", "pages", "pages", 30000.0),
        ("40 ppm", "ppm", "print_speed", 40.0),
        ("1.5 kVA", "VA", "apparent_power", 1500.0),
        ("Gigabit Ethernet", "Mbps", "bitrate", 1000.0),
        ("10/100/1000", "Mbps", "bitrate", 1000.0),
        ("1 Gbps", "Mbps", "bitrate", 1000.0),
        ("4 MP", "MP", "pixels", 4e6),
        ("802.3at PoE+", "W", "power", 30.0),
        ("802.3af", "W", "power", 15.4),
        ("2.6 cents", "cents", "cost", 2.6),
    ],
)
def test_examples(text: str, hint: str | None, dimension: str, value: float) -> None:
    q = parse_quantity(text, hint)
    assert q.dimension == dimension
    assert q.value == pytest.approx(value)


def test_resolution_and_named_resolutions() -> None:
    q = parse_quantity("1920x1080", None)
    assert q.parts == (1920.0, 1080.0)
    assert parse_quantity("FHD 1920 × 1080 IPS", "pixels").parts == (1920.0, 1080.0)
    assert parse_quantity("Full HD", "pixels").parts == (1920.0, 1080.0)
    assert parse_quantity("4MP (2560x1440)", "pixels").parts == (2560.0, 1440.0)
    ref = parse_quantity("1920x1080", "pixels")
    assert compare(parse_quantity("1920x1200", "pixels"), ">=", ref)
    # more pixels in total but fewer lines: each side must meet the reference
    assert not compare(parse_quantity("3840x1000", "pixels"), ">=", ref)


def test_wifi_generations() -> None:
    assert parse_quantity("Wi-Fi 6", None).value == 6.0
    assert parse_quantity("802.11ax", "wifi").value == 6.0
    assert parse_quantity("802.11a/b/g/n/ac", "wifi").value == 5.0
    assert parse_quantity("Wi-Fi 6E", "wifi").value == 6.5
    assert parse_quantity("WiFi 7", "wifi").value == 7.0
    assert compare(parse_quantity("Wi-Fi 6E", "wifi"), ">=", parse_quantity("Wi-Fi 6", "wifi"))
    assert not compare(
        parse_quantity("802.11ac Wave 2", "wifi"), ">=", parse_quantity("Wi-Fi 6", "wifi")
    )


def test_ip_rating_compares_each_digit() -> None:
    ref = parse_quantity("IP66", "ip")
    assert compare(parse_quantity("IP67", "ip"), ">=", ref)
    assert not compare(parse_quantity("IP65", "ip"), ">=", ref)
    assert not compare(parse_quantity("IP57", "ip"), ">=", ref)


def test_years_equal_months() -> None:
    assert compare(parse_quantity("3 years", "months"), "==", parse_quantity("36", "months"))
    assert compare(parse_quantity("3 yrs", "months"), ">=", parse_quantity("36 months", None))


@pytest.mark.parametrize(
    ("text", "hint", "reason"),
    [
        ("lots of memory", "GB", "no data value"),
        ("36m", "months", "expected a time value"),
        ("16 GX", "GB", "unknown unit 'gx'"),
        ("", "GB", "no value given"),
        ("PoE", "W", "no power value"),
        ("15.6 inch", "GB", "expected a data value, found length"),
        ("banana", None, "no value with a unit"),
    ],
)
def test_unreadable_values_raise(text: str, hint: str | None, reason: str) -> None:
    with pytest.raises(UnitError, match=reason):
        parse_quantity(text, hint)


def test_dimension_mismatch_cannot_compare() -> None:
    with pytest.raises(UnitError, match="cannot compare"):
        compare(parse_quantity("16 GB", None), ">=", parse_quantity("15 in", None))


def test_unknown_unit_name() -> None:
    with pytest.raises(UnitError, match="unknown unit 'parsecs'"):
        dimension_of("parsecs")
    assert dimension_of("GB") == "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", True),
        ("yes, up to 256 GB", True),
        ("supported", True),
        ("✓", True),
        ("no", False),
        ("No (stepped)", False),
        ("n/a", False),
        ("with controller licence", None),
        ("", None),
        ("maybe", None),
    ],
)
def test_parse_bool(text: str, expected: bool | None) -> None:
    assert parse_bool(text) is expected
