"""MAC address → vendor, from the compact OUI table shipped in ``discovery/data/oui.csv``."""

from __future__ import annotations

import csv
import functools
from importlib import resources

RANDOMISED = "(randomised MAC)"
"""Vendor text of locally administered addresses (phones' private MACs, virtual interfaces)."""


@functools.cache
def table() -> dict[str, str]:
    """OUI (six upper-case hex digits) → short vendor name."""
    text = resources.files("kape_itops.discovery").joinpath("data/oui.csv").read_text("utf-8")
    lines = (line for line in text.splitlines() if line and not line.startswith("#"))
    return {row["oui"].upper(): row["vendor"] for row in csv.DictReader(lines)}


def normalise_oui(mac: str) -> str | None:
    """The first three octets as six upper-case hex digits, or None when ``mac`` is no MAC."""
    digits = "".join(c for c in mac if c.isalnum()).upper()
    if len(digits) != 12 or any(c not in "0123456789ABCDEF" for c in digits):
        return None
    return digits[:6]


def vendor(mac: str | None) -> str | None:
    """The vendor of ``mac`` when known; :data:`RANDOMISED` for locally administered MACs."""
    if not mac:
        return None
    oui = normalise_oui(mac)
    if oui is None:
        return None
    found = table().get(oui)
    if found is None and int(oui[:2], 16) & 0x02:
        return RANDOMISED
    return found
