"""Neutralise spreadsheet formula injection in exported cells."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Prefix a quote to cells a spreadsheet would run as a formula (OWASP CSV injection).

    A lone ``-`` (the clear marker) and plain negative numbers are left as they are.
    """
    if not text or not text.startswith(FORMULA_PREFIXES):
        return text
    if text == "-" or _is_number(text):
        return text
    return "'" + text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
