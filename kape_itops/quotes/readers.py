"""Quotation readers (XLSX and CSV): a header block of key/value rows, then a lines table.

Labels are read in English, in Khmer, or both ("Vendor / អ្នកផ្គត់ផ្គង់", :mod:`.layout`);
Khmer digits in numbers and dates and zero-width spaces are handled (:mod:`.values`). Control
and bidi characters in a cell are kept as visible escapes (``\\x1b``, ``\\u202e``: the
evidence stays, nothing reaches a terminal or report raw). Every problem is reported with the
file, the sheet (XLSX), the row and the column, all at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from kape_itops.errors import DataError, Issue, ValidationFailed
from kape_itops.limits import Limits
from kape_itops.quotes.khmer import fold
from kape_itops.quotes.layout import (
    COLUMN_LABELS,
    HEADER_LABELS,
    REQUIRED_COLUMNS,
    REQUIRED_HEADER,
    attribute_name,
    header_field,
    line_column,
)
from kape_itops.quotes.sheets import (
    Sheet,
    column_letter,
    formula_text,
    read_csv,
    read_formulas,
    read_xlsx,
)
from kape_itops.quotes.units import parse_bool
from kape_itops.quotes.values import CURRENCIES, Implausible, cell_date, cell_decimal, cell_text

__all__ = ["Quotation", "QuoteLine", "formula_issues", "read_quotation"]


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One quoted line; ``attributes`` holds every column by attribute name (as text)."""

    row: int
    item: str
    description: str
    brand_model: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    line_total: Decimal | None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Quotation:
    """A quotation as read, before any correction."""

    name: str
    location: str
    vendor: str
    tax_id: str
    quote_number: str
    quote_date: dt.date
    valid_until: dt.date
    currency: str
    vat_inclusive: bool
    stated_rate: Decimal | None
    rfq: str
    lines: tuple[QuoteLine, ...]
    columns: dict[str, str] = field(default_factory=dict)
    unpriced: tuple[str, ...] = ()


def read_quotation(path: Path, limits: Limits | None = None) -> Quotation:
    """Read one quotation file (.xlsx or .csv); raises :class:`DataError`/:class:`ValidationFailed`.

    A formula in any cell the evaluation reads is refused (:func:`formula_issues`)."""
    suffix = path.suffix.lower()
    lim = limits or Limits.from_env()
    if suffix in (".xlsx", ".xlsm"):
        sheet = read_xlsx(path, lim)
    elif suffix == ".csv":
        sheet = read_csv(path, lim)
    else:
        raise DataError(f"{path}: not a quotation file (expected .xlsx or .csv)")
    return _parse(sheet)


def _lines_header_row(rows: Sequence[Sequence[object]]) -> int | None:
    for i, row in enumerate(rows):
        names = {line_column(c) for c in row if cell_text(c)}
        if "item" in names and "quantity" in names:
            return i
    return None


def _table(head: Sequence[object]) -> tuple[dict[str, int], dict[str, int], dict[int, str]]:
    """(standard column -> index, attribute -> index, index -> label) of the lines table."""
    index: dict[str, int] = {}
    attrs: dict[str, int] = {}
    labels: dict[int, str] = {}
    for c, cell in enumerate(head):
        label = cell_text(cell)
        if not label:
            continue
        labels[c] = label
        std = line_column(label)
        if std and std not in index:
            index[std] = c
        else:
            attrs.setdefault(attribute_name(label), c)
    return index, attrs, labels


_MAX_FORMULA_ISSUES = 20


def formula_issues(sheet: Sheet, head_at: int | None) -> list[Issue]:
    """A formula in each cell the evaluation reads: every cell of the header block and of the
    table's header row, the item cell of every line, and each labelled cell of a line that has
    an item. A formula's cached value may differ from what Excel shows after recalculating,
    so values are asked for instead."""
    if not sheet.formulas:
        return []
    rows = sheet.rows
    index, _, labels = _table(rows[head_at]) if head_at is not None else ({}, {}, {})
    item_col = index.get("item")
    last_head = head_at + 1 if head_at is not None else 10**12

    def item(r: int) -> str:
        row = rows[r - 1] if 0 < r <= len(rows) else []
        return cell_text(row[item_col]) if item_col is not None and item_col < len(row) else ""

    items = [r for r in range(last_head + 1, len(rows) + 1) if item(r)]
    hits = read_formulas(sheet, last_head, item_col, sorted(labels), items)
    out: list[Issue] = []
    for r, c, f in hits[:_MAX_FORMULA_ISSUES]:
        ref = f"{column_letter(c)}{r}"
        if r > last_head:
            label = labels.get(c, "")
            what = "item code" if c == item_col else f"{label.lower()} of {item(r)}"
        else:
            row = rows[r - 1] if r <= len(rows) else []
            label = cell_text(row[0]) if row and c > 0 else ""
            what = label or "header"
        why = (
            f"cell {ref} ({what}) holds a formula ({formula_text(f, ref)}); "
            "send the quotation with values, not formulas"
        )
        column = f"{column_letter(c)} ({label})" if label else column_letter(c)
        out.append(Issue(sheet.where, r, column, None, why))
    if len(hits) > _MAX_FORMULA_ISSUES:
        more = len(hits) - _MAX_FORMULA_ISSUES
        out.append(Issue(sheet.where, None, None, None, f"{more} more cell(s) hold formulas"))
    return out


def _parse(sheet: Sheet) -> Quotation:
    rows = sheet.rows
    head_at = _lines_header_row(rows)
    formulas = formula_issues(sheet, head_at)
    if formulas:
        raise ValidationFailed(formulas, f"{sheet.where}: formulas instead of values")
    header: dict[str, tuple[object, int]] = {}
    for i, row in enumerate(rows[: head_at if head_at is not None else len(rows)]):
        cells = list(row)
        if not cells or not cell_text(cells[0]):
            continue
        name = header_field(cells[0])
        if name is not None and name not in header:
            header[name] = (cells[1] if len(cells) > 1 else None, i + 1)
    if head_at is None and not header.get("vendor"):
        raise ValidationFailed(
            [
                sheet.issue(
                    None,
                    None,
                    "",
                    None,
                    "not a quotation: no header block (Vendor, Date, Valid until, Currency) and "
                    "no lines table (a row with Item, Quantity, Unit price, Line total)",
                )
            ],
            f"{sheet.where}: not a quotation",
        )
    issues: list[Issue] = []
    for name in REQUIRED_HEADER:
        if name not in header or not cell_text(header[name][0]):
            where = header[name][1] if name in header else None
            issues.append(
                sheet.issue(
                    where,
                    1 if where else None,
                    HEADER_LABELS[name],
                    None,
                    f"missing header field '{HEADER_LABELS[name]}'",
                )
            )
    values: dict[str, object] = {}
    for name, (value, at) in header.items():
        try:
            if name in ("quote_date", "valid_until") and cell_text(value):
                values[name] = cell_date(value, sheet.date1904)
            elif name == "currency" and cell_text(value):
                cur = CURRENCIES.get(fold(cell_text(value)).lower())
                if cur is None:
                    raise ValueError("currency must be USD or KHR")
                values[name] = cur
            elif name == "vat_inclusive":
                flag = parse_bool(cell_text(value)) if cell_text(value) else False
                if flag is None:
                    raise ValueError("VAT inclusive must be yes or no")
                values[name] = flag
            elif name == "stated_rate":
                values[name] = cell_decimal(value)
            else:
                values[name] = cell_text(value)
        except ValueError as exc:
            issues.append(sheet.issue(at, 1, HEADER_LABELS[name], value, str(exc)))
    if head_at is None:
        issues.append(
            sheet.issue(
                None,
                None,
                "",
                None,
                "no lines table: expected a row with Item, Quantity, Unit price, Line total",
            )
        )
        raise ValidationFailed(issues, f"{sheet.where}: not a valid quotation")
    lines, columns, unpriced = _lines(sheet, head_at, issues)
    if issues:
        raise ValidationFailed(issues, f"{sheet.where}: not a valid quotation")
    return Quotation(
        name=sheet.path.name,
        location=sheet.where,
        vendor=str(values["vendor"]),
        tax_id=str(values.get("tax_id", "")),
        quote_number=str(values.get("quote_number", "")),
        quote_date=values["quote_date"],  # type: ignore[arg-type]
        valid_until=values["valid_until"],  # type: ignore[arg-type]
        currency=str(values["currency"]),
        vat_inclusive=bool(values.get("vat_inclusive", False)),
        stated_rate=values.get("stated_rate"),  # type: ignore[arg-type]
        rfq=str(values.get("rfq", "")),
        lines=tuple(lines),
        columns=columns,
        unpriced=tuple(unpriced),
    )


def _lines(
    sheet: Sheet, head_at: int, issues: list[Issue]
) -> tuple[list[QuoteLine], dict[str, str], list[str]]:
    index, attrs, labels = _table(sheet.rows[head_at])
    missing = [COLUMN_LABELS[n] for n in REQUIRED_COLUMNS if n not in index]
    if missing:
        issues.append(
            sheet.issue(
                head_at + 1,
                None,
                "",
                None,
                f"lines table is missing column(s): {', '.join(missing)}",
            )
        )
        return [], {}, []
    columns = {n: f"{column_letter(c)} ({labels[c]})" for n, c in index.items()}
    columns.update({n: f"{column_letter(c)} ({labels[c]})" for n, c in attrs.items()})
    out: list[QuoteLine] = []
    unpriced: list[str] = []
    for r in range(head_at + 1, len(sheet.rows)):
        row = sheet.rows[r]

        def cell(name: str, row: Sequence[object] = row) -> object:
            c = index.get(name)
            return row[c] if c is not None and c < len(row) else None

        item = cell_text(cell("item"))
        if not item:
            continue
        rownum = r + 1
        bad = False
        numbers: dict[str, Decimal | None] = {}
        for name in ("quantity", "unit_price", "line_total"):
            value = cell(name)
            try:
                numbers[name] = cell_decimal(value)
            except ValueError as exc:
                what = "quantity" if name == "quantity" else "price"
                why = (
                    str(exc)
                    if isinstance(exc, Implausible)
                    else f"text in a {what} cell: expected a number"
                )
                issues.append(sheet.issue(rownum, index[name], labels[index[name]], value, why))
                bad = True
        if bad:
            continue
        qty, price = numbers["quantity"], numbers["unit_price"]
        if qty is None:
            issues.append(
                sheet.issue(
                    rownum, index["quantity"], labels[index["quantity"]], None, "quantity is empty"
                )
            )
            continue
        if qty < 0:
            issues.append(
                sheet.issue(
                    rownum,
                    index["quantity"],
                    labels[index["quantity"]],
                    cell("quantity"),
                    "negative quantity",
                )
            )
            continue
        if qty == 0:
            issues.append(
                sheet.issue(
                    rownum,
                    index["quantity"],
                    labels[index["quantity"]],
                    cell("quantity"),
                    "quantity must be positive",
                )
            )
            continue
        if price is None:
            unpriced.append(item)
            continue
        if price < 0:
            issues.append(
                sheet.issue(
                    rownum,
                    index["unit_price"],
                    labels[index["unit_price"]],
                    cell("unit_price"),
                    "negative unit price",
                )
            )
            continue
        attributes = {n: cell_text(row[c]) if c < len(row) else "" for n, c in attrs.items()}
        for std in ("warranty", "delivery_days", "brand_model", "description"):
            attributes[std] = cell_text(cell(std))
        out.append(
            QuoteLine(
                row=rownum,
                item=item,
                description=cell_text(cell("description")),
                brand_model=cell_text(cell("brand_model")),
                quantity=qty,
                unit=cell_text(cell("unit")),
                unit_price=price,
                line_total=numbers["line_total"],
                attributes=attributes,
            )
        )
    return out, columns, unpriced
