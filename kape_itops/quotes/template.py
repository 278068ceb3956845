"""Quotation forms from a spec (``itops quote template``) and writers of filled quotations.

The form has the layout the readers expect: a header block (Vendor … Exchange rate), a blank
row, then the lines table with the standard columns and one column per spec attribute, its unit
in the header ("ram (GB)"). A second sheet lists the requirements. With ``lang="en+km"`` every
label carries its Khmer translation ("Vendor / អ្នកផ្គត់ផ្គង់"); the readers read either.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kape_itops.atomic import atomic_write, save_workbook
from kape_itops.inventory.sanitize import neutralise_formula
from kape_itops.quotes.khmer import ATTRIBUTE_LABELS, LABELS, LANGS, bilingual
from kape_itops.quotes.layout import COLUMN_LABELS, HEADER_LABELS
from kape_itops.quotes.rfq import Rfq
from kape_itops.quotes.spec import Spec

__all__ = [
    "LANGS",
    "form_columns",
    "header_rows",
    "write_form",
    "write_quotation_csv",
    "write_quotation_xlsx",
]

STANDARD = (
    "item",
    "description",
    "brand_model",
    "quantity",
    "unit",
    "unit_price",
    "line_total",
    "warranty",
    "delivery_days",
)
_UNIT_HINTS: dict[str, str | None] = {
    "pixels": "WxH",
    "wifi": None,
    "ip": None,
    "W": "W or 802.3af/at/bt",
}
_INSTRUCTIONS = (
    "Fill every line of the Quotation sheet: one value per column, with its unit. "
    "Name CPUs by exact model (e.g. Core i5-1235U); 'or equivalent' cannot be verified. "
    "State validity, currency (USD or KHR) and whether prices include VAT."
)
HEADER_ORDER = (
    "vendor",
    "tax_id",
    "quote_number",
    "quote_date",
    "valid_until",
    "currency",
    "vat_inclusive",
    "stated_rate",
    "rfq",
)


def form_columns(spec: Spec, lang: str = "en") -> list[tuple[str, str]]:
    """(key, header label) of every lines-table column; ``lang`` "en" or "en+km"."""
    cols = [(k, bilingual(COLUMN_LABELS[k], lang)) for k in STANDARD]
    for a in spec.attributes:
        hint = _UNIT_HINTS.get(a.unit or "", a.unit)
        label = f"{a.name} ({hint})" if hint else a.name
        cols.append((a.name, bilingual(label, lang, ATTRIBUTE_LABELS.get(a.name))))
    return cols


def header_rows(values: Mapping[str, object] | None = None, lang: str = "en") -> list[list[object]]:
    """The header block, blank or filled; ``lang`` "en" or "en+km"."""
    vals = values or {}
    return [[bilingual(HEADER_LABELS[k], lang), vals.get(k, "")] for k in HEADER_ORDER]


def _cell(value: object) -> object:
    if isinstance(value, str):
        return neutralise_formula(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_quotation_xlsx(
    path: Path,
    spec: Spec,
    header: Mapping[str, object] | None,
    lines: Sequence[Mapping[str, object]],
    *,
    instructions: bool = False,
    lang: str = "en",
    protect: bool = False,
) -> None:
    """A quotation workbook (sheet "Quotation"); blank header and lines make a form.

    With ``protect`` the sheets are protected (no password): only the header values and the
    lines-table columns accept input, so labels cannot be overwritten by accident."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "Quotation"
    bold = Font(bold=True)
    for row in header_rows(header, lang):
        ws.append([_cell(v) for v in row])
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    cols = form_columns(spec, lang)
    ws.append([label for _, label in cols])
    head_row = ws.max_row
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c in range(1, len(cols) + 1):
        ws.cell(head_row, c).font = bold
        ws.cell(head_row, c).fill = fill
    for line in lines:
        ws.append([_cell(line.get(k, None)) for k, _ in cols])
    currency = DataValidation(type="list", formula1='"USD,KHR"', allow_blank=True)
    answers = "yes,no" if lang == "en" else "yes,no,បាទ,ចាស,ទេ"
    yes_no = DataValidation(type="list", formula1=f'"{answers}"', allow_blank=True)
    ws.add_data_validation(currency)
    ws.add_data_validation(yes_no)
    currency.add(f"B{HEADER_ORDER.index('currency') + 1}")
    yes_no.add(f"B{HEADER_ORDER.index('vat_inclusive') + 1}")
    ws.column_dimensions["A"].width = 16 if lang == "en" else 40
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 30
    if protect:
        _protect(ws, len(HEADER_ORDER), head_row, len(cols))
    if instructions:
        req = wb.create_sheet("Requirements")
        req.append(
            [bilingual(h, lang) for h in ("Requirement", "Column", "Rule", "Mandatory", "Evidence")]
        )
        for cell in req[1]:
            cell.font = bold
        for r in spec.requirements:
            req.append(
                [
                    _cell(r.label),
                    r.attribute,
                    _cell(r.shown),
                    bilingual("yes" if r.mandatory else "no (scored)", lang),
                    bilingual("yes", lang) if r.evidence else "",
                ]
            )
        req.append([])
        req.append([_cell(_INSTRUCTIONS)])
        if lang != "en":
            req.append([_cell(LABELS[_INSTRUCTIONS])])
        req.column_dimensions["A"].width = 60
        req.column_dimensions["C"].width = 40
        if protect:
            _protect(req, 0, req.max_row, 0)
    save_workbook(wb, path)


def _protect(ws: Any, header_rows: int, head_row: int, columns: int) -> None:
    """Protect ``ws`` without a password; unlocked: the header values (B1..), every cell of the
    lines table below ``head_row`` in its ``columns`` (new rows included, through the column
    style). Labels stay locked. Widths and heights may change; rows may be inserted/deleted."""
    from openpyxl.styles import Protection
    from openpyxl.utils import get_column_letter

    unlocked = Protection(locked=False)
    for r in range(1, header_rows + 1):
        ws.cell(r, 2).protection = unlocked
    for c in range(1, columns + 1):
        ws.column_dimensions[get_column_letter(c)].protection = unlocked
        for r in range(head_row + 1, ws.max_row + 1):
            ws.cell(r, c).protection = unlocked
    sp = ws.protection
    sp.sheet = True
    sp.formatColumns = sp.formatRows = sp.insertRows = sp.deleteRows = False


def write_quotation_csv(
    path: Path,
    spec: Spec,
    header: Mapping[str, object],
    lines: Sequence[Mapping[str, object]],
    *,
    lang: str = "en",
) -> None:
    """The same layout as the workbook, as CSV (UTF-8)."""
    cols = form_columns(spec, lang)
    with atomic_write(path, newline="") as fh:
        w = csv.writer(fh)
        for row in header_rows(header, lang):
            w.writerow([_cell(v) for v in row])
        w.writerow([])
        w.writerow([label for _, label in cols])
        for line in lines:
            w.writerow(["" if line.get(k) is None else _cell(line.get(k)) for k, _ in cols])


def write_form(spec: Spec, path: Path, rfq: Rfq | None = None, lang: str = "en") -> None:
    """A blank quotation form for vendors; RFQ lines are pre-filled when an RFQ is given.

    ``lang="en+km"`` puts the Khmer label beside every English one.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown form language {lang!r}; use one of {', '.join(LANGS)}")
    lines: list[dict[str, object]] = []
    header: dict[str, object] = {}
    if rfq is not None:
        header["rfq"] = rfq.id
        header["currency"] = rfq.currency
        for ln in rfq.lines:
            lines.append(
                {
                    "item": ln.item,
                    "description": ln.description,
                    "quantity": float(ln.quantity) if ln.quantity % 1 else int(ln.quantity),
                    "unit": ln.unit,
                }
            )
    write_quotation_xlsx(path, spec, header, lines, instructions=True, lang=lang, protect=True)
