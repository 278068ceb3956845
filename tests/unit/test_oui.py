"""OUI vendor lookup against the shipped table."""

from __future__ import annotations

import pytest

from kape_itops.discovery.oui import RANDOMISED, normalise_oui, table, vendor


@pytest.mark.parametrize(
    ("mac", "expected"),
    [
        ("44:19:b6:12:34:56", "Hikvision"),
        ("3C-EF-8C-00-00-01", "Dahua"),
        ("4c5e.0cca.9c51", "MikroTik"),
        ("50:c7:bf:fb:95:08", "TP-Link"),
        ("70:10:5c:d9:02:1b", "Cisco"),
        ("b8:27:eb:00:00:01", "Raspberry Pi"),
        ("00:c0:b7:00:00:01", "APC"),
        ("98:e7:43:00:00:01", "Dell"),
    ],
)
def test_known_vendors(mac: str, expected: str) -> None:
    assert vendor(mac) == expected


def test_every_requested_vendor_is_in_the_table() -> None:
    vendors = set(table().values())
    for name in (
        "Hikvision",
        "Dahua",
        "MikroTik",
        "Ubiquiti",
        "TP-Link",
        "Cisco",
        "HP",
        "Lenovo",
        "Dell",
        "Samsung",
        "Epson",
        "Canon",
        "APC",
        "Apple",
        "Raspberry Pi",
    ):
        assert name in vendors, name
    assert all(len(k) == 6 and int(k, 16) >= 0 for k in table())


def test_unknown_randomised_and_garbage() -> None:
    assert vendor("00:00:00:00:00:00") is None
    assert vendor("da:a1:19:00:00:01") == RANDOMISED
    assert vendor("not-a-mac") is None and vendor(None) is None
    assert normalise_oui("aa:bb:cc:dd:ee") is None
