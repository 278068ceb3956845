"""Exported cells: spreadsheet formula injection neutralised, hidden characters revealed."""

from __future__ import annotations

from kape_itops.domain.text import reveal

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


def safe_cell(text: str) -> str:
    """A CSV or XLSX cell of a report: control and bidi characters shown as escapes
    (:func:`kape_itops.domain.text.reveal`; TAB and LF kept), then formulas neutralised."""
    return neutralise_formula(reveal(text))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
