"""Spreadsheet cell text: formula neutralisation on export, and its exact undo on import.

``to_cell`` prefixes a quote to text a spreadsheet would run as a formula (see
:mod:`kape_itops.inventory.sanitize`) and to text that already looks like such a quoted formula,
so ``from_cell(to_cell(t)) == t`` for every ``t``. A lone ``-`` stays as it is: in a cell it is
always the clear marker.
"""

from __future__ import annotations

from kape_itops.inventory.sanitize import neutralise_formula

QUOTE = "'"


def _needs_quote(text: str) -> bool:
    core = text.lstrip(QUOTE)
    return neutralise_formula(core) != core


def to_cell(text: str) -> str:
    """Text as written to a CSV or XLSX cell (never a formula)."""
    return QUOTE + text if text and _needs_quote(text) else text


def from_cell(text: str) -> str:
    """Undo :func:`to_cell` exactly; text it did not produce is returned unchanged."""
    if text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text
