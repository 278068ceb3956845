"""Quotation readers (XLSX and CSV): a header block of key/value rows, then a lines table.

Labels are read in English, in Khmer, or both ("Vendor / អ្នកផ្គត់ផ្គង់"); Khmer digits in numbers
and dates and zero-width spaces are handled (:mod:`.khmer`). Control and bidi characters in a
cell are kept as visible escapes (``\\x1b``, ``\\u202e``: the evidence stays, nothing reaches a
terminal or report raw). Every problem is reported with the file, the sheet (XLSX), the row and
the column, all at once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kape_itops.domain.text import reveal
from kape_itops.errors import DataError, Issue, ValidationFailed
from kape_itops.limits import Limits
from kape_itops.quotes.khmer import (
    ATTRIBUTE_LABELS,
    CURRENCY_WORDS,
    LABELS,
    ascii_digits,
    date_text,
    fold,
    has_khmer,
    visible,
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
from kape_itops.quotes.xlsx import excel_date

__all__ = [
    "HEADER_FIELDS",
    "LINE_COLUMNS",
    "Quotation",
    "QuoteLine",
    "attribute_name",
    "column_letter",
    "formula_issues",
    "header_field",
    "line_column",
    "read_quotation",
]

HEADER_FIELDS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "supplier", "company", "bidder", "vendor name", "supplier name"),
    "tax_id": ("tax id", "tin", "vat tin", "tax identification number", "vattin"),
    "quote_number": ("quote number", "quotation number", "quotation no", "quote no", "quote ref"),
    "quote_date": ("date", "quote date", "quotation date"),
    "valid_until": ("valid until", "validity", "valid to", "expiry date", "expires"),
    "currency": ("currency",),
    "vat_inclusive": ("vat inclusive", "prices include vat", "vat included", "incl vat"),
    "stated_rate": ("exchange rate", "rate", "exchange rate stated"),
    "rfq": ("rfq", "rfq number", "rfq ref", "rfq reference"),
}
REQUIRED_HEADER = ("vendor", "quote_date", "valid_until", "currency")
HEADER_LABELS = {
    "vendor": "Vendor",
    "tax_id": "Tax ID",
    "quote_number": "Quote number",
    "quote_date": "Date",
    "valid_until": "Valid until",
    "currency": "Currency",
    "vat_inclusive": "VAT inclusive",
    "stated_rate": "Exchange rate",
    "rfq": "RFQ",
}
LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "item": ("item", "item code", "item no", "code"),
    "description": ("description",),
    "brand_model": ("brand/model", "brand model", "brand and model", "model", "make/model"),
    "quantity": ("quantity", "qty"),
    "unit": ("unit", "uom"),
    "unit_price": ("unit price", "price", "unit cost"),
    "line_total": ("line total", "total", "amount", "total price"),
    "warranty": ("warranty",),
    "delivery_days": ("delivery days", "delivery", "delivery (days)"),
}
REQUIRED_COLUMNS = ("item", "quantity", "unit_price", "line_total")
COLUMN_LABELS = {
    "item": "Item",
    "description": "Description",
    "brand_model": "Brand/Model",
    "quantity": "Quantity",
    "unit": "Unit",
    "unit_price": "Unit price",
    "line_total": "Line total",
    "warranty": "Warranty",
    "delivery_days": "Delivery days",
}
_CURRENCY_NOISE = re.compile(
    r"(?i)\b(usd|khr|riels?|us\$)\b|[$៛\s]|"
    + "|".join(re.escape(w) for w in sorted(CURRENCY_WORDS, key=len, reverse=True))
)
_CURRENCIES = {
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "khr": "KHR",
    "riel": "KHR",
    "៛": "KHR",
    **{fold(k): v for k, v in CURRENCY_WORDS.items()},
}


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


def _norm(value: object) -> str:
    return " ".join(re.sub(r"[:*#.\u17d6]", " ", fold(str(value or ""))).lower().split())


def _with_khmer(
    fields: dict[str, tuple[str, ...]], labels: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    """Each field's aliases plus its Khmer label."""
    return {n: (*al, _norm(LABELS[labels[n]])) for n, al in fields.items()}


_KHMER_RUN = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]+")


def _candidates(label: object) -> list[str]:
    """A label as written, each side of "English / Khmer", and its Latin part alone."""
    key = _norm(label)
    out = [key, *(p.strip() for p in key.split(" / ") if " / " in key)]
    latin = " ".join(re.sub(r"[()\[\]/:]", " ", _KHMER_RUN.sub(" ", key)).split())
    if latin and latin != key:
        out.append(latin)
    return out


def _field(label: object, fields: dict[str, tuple[str, ...]]) -> str | None:
    for candidate in _candidates(label):
        for name, aliases in fields.items():
            if candidate in aliases:
                return name
    return None


_HEADER_ALIASES = _with_khmer(HEADER_FIELDS, HEADER_LABELS)
_COLUMN_ALIASES = _with_khmer(LINE_COLUMNS, COLUMN_LABELS)
_KHMER_ATTRIBUTES = {_norm(km): name for name, km in ATTRIBUTE_LABELS.items()}


def attribute_name(header: str) -> str:
    """'RAM (GB)' -> 'ram'; 'Storage type' -> 'storage_type'; 'អង្គចងចាំ (GB)' -> 'ram'."""
    base = re.sub(r"\(.*?\)", "", visible(header)).strip().lower()
    name = re.sub(r"[^a-z0-9]+", "_", base).strip("_")
    if name or not has_khmer(base):
        return name
    return _KHMER_ATTRIBUTES.get(_norm(base), "")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return reveal(visible(str(value)).strip())


class _Implausible(ValueError):
    """A number no quotation states (not finite, or 16 digits and more before the point)."""


_TOO_LARGE = Decimal("1e15")


def _decimal(value: object) -> Decimal | None:
    """A number from a cell; None if empty; raises ValueError for text, :class:`_Implausible`
    for ``inf``, ``nan`` and numbers of 16 digits and more."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Implausible("not a finite number")
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        raw = ascii_digits(visible(str(value)))
        if len(raw) > 80:
            raise ValueError("not a number")
        text = _CURRENCY_NOISE.sub("", raw)
        if re.fullmatch(r"-?\(?\d{1,3}(,\d{3})+(\.\d+)?\)?|-?\(?\d+(\.\d+)?\)?", text) is None:
            raise ValueError("not a number")
        negative = text.startswith("(") or text.startswith("-")
        try:
            number = Decimal(text.strip("()-").replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
        number = -number if negative else number
    if not number.is_finite() or abs(number) >= _TOO_LARGE:
        raise _Implausible("the number is too large (at most 15 digits before the decimal point)")
    return number


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d %Y")


def _date(value: object, date1904: bool = False) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return excel_date(float(value), date1904)
    text = date_text(str(value or "")).replace(",", " ").strip()
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("not a date (use YYYY-MM-DD or DD/MM/YYYY)")


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


def header_field(label: object) -> str | None:
    """The header field a label names, in English, Khmer or both ("Date / កាលបរិច្ឆេទ")."""
    return _field(label, _HEADER_ALIASES)


def line_column(label: object) -> str | None:
    """The standard lines-table column a label names, in English, Khmer or both."""
    return _field(label, _COLUMN_ALIASES)


def _lines_header_row(rows: Sequence[Sequence[object]]) -> int | None:
    for i, row in enumerate(rows):
        names = {line_column(c) for c in row if _text(c)}
        if "item" in names and "quantity" in names:
            return i
    return None


def _table(head: Sequence[object]) -> tuple[dict[str, int], dict[str, int], dict[int, str]]:
    """(standard column -> index, attribute -> index, index -> label) of the lines table."""
    index: dict[str, int] = {}
    attrs: dict[str, int] = {}
    labels: dict[int, str] = {}
    for c, cell in enumerate(head):
        label = _text(cell)
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
        return _text(row[item_col]) if item_col is not None and item_col < len(row) else ""

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
            label = _text(row[0]) if row and c > 0 else ""
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
        if not cells or not _text(cells[0]):
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
        if name not in header or not _text(header[name][0]):
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
            if name in ("quote_date", "valid_until") and _text(value):
                values[name] = _date(value, sheet.date1904)
            elif name == "currency" and _text(value):
                cur = _CURRENCIES.get(fold(_text(value)).lower())
                if cur is None:
                    raise ValueError("currency must be USD or KHR")
                values[name] = cur
            elif name == "vat_inclusive":
                flag = parse_bool(_text(value)) if _text(value) else False
                if flag is None:
                    raise ValueError("VAT inclusive must be yes or no")
                values[name] = flag
            elif name == "stated_rate":
                values[name] = _decimal(value)
            else:
                values[name] = _text(value)
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

        item = _text(cell("item"))
        if not item:
            continue
        rownum = r + 1
        bad = False
        numbers: dict[str, Decimal | None] = {}
        for name in ("quantity", "unit_price", "line_total"):
            value = cell(name)
            try:
                numbers[name] = _decimal(value)
            except ValueError as exc:
                what = "quantity" if name == "quantity" else "price"
                why = (
                    str(exc)
                    if isinstance(exc, _Implausible)
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
        attributes = {n: _text(row[c]) if c < len(row) else "" for n, c in attrs.items()}
        for std in ("warranty", "delivery_days", "brand_model", "description"):
            attributes[std] = _text(cell(std))
        out.append(
            QuoteLine(
                row=rownum,
                item=item,
                description=_text(cell("description")),
                brand_model=_text(cell("brand_model")),
                quantity=qty,
                unit=_text(cell("unit")),
                unit_price=price,
                line_total=numbers["line_total"],
                attributes=attributes,
            )
        )
    return out, columns, unpriced
