"""The quotation layout: header fields and lines-table columns, and the labels that name them.

Labels are read in English, in Khmer, or both ("Vendor / អ្នកផ្គត់ផ្គង់"); any other column of the
lines table is an attribute, named from its label ("RAM (GB)" -> ``ram``).
"""

from __future__ import annotations

import re

from kape_itops.quotes.khmer import ATTRIBUTE_LABELS, LABELS, fold, has_khmer, visible

__all__ = [
    "COLUMN_LABELS",
    "HEADER_FIELDS",
    "HEADER_LABELS",
    "LINE_COLUMNS",
    "REQUIRED_COLUMNS",
    "REQUIRED_HEADER",
    "attribute_name",
    "header_field",
    "line_column",
    "norm_label",
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


def norm_label(value: object) -> str:
    """A label folded for matching: lower case, no punctuation, single spaces."""
    return " ".join(re.sub(r"[:*#.\u17d6]", " ", fold(str(value or ""))).lower().split())


def _with_khmer(
    fields: dict[str, tuple[str, ...]], labels: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    """Each field's aliases plus its Khmer label."""
    return {n: (*al, norm_label(LABELS[labels[n]])) for n, al in fields.items()}


_KHMER_RUN = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]+")


def _candidates(label: object) -> list[str]:
    """A label as written, each side of "English / Khmer", and its Latin part alone."""
    key = norm_label(label)
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
_KHMER_ATTRIBUTES = {norm_label(km): name for name, km in ATTRIBUTE_LABELS.items()}


def attribute_name(header: str) -> str:
    """'RAM (GB)' -> 'ram'; 'Storage type' -> 'storage_type'; 'អង្គចងចាំ (GB)' -> 'ram'."""
    base = re.sub(r"\(.*?\)", "", visible(header)).strip().lower()
    name = re.sub(r"[^a-z0-9]+", "_", base).strip("_")
    if name or not has_khmer(base):
        return name
    return _KHMER_ATTRIBUTES.get(norm_label(base), "")


def header_field(label: object) -> str | None:
    """The header field a label names, in English, Khmer or both ("Date / កាលបរិច្ឆេទ")."""
    return _field(label, _HEADER_ALIASES)


def line_column(label: object) -> str | None:
    """The standard lines-table column a label names, in English, Khmer or both."""
    return _field(label, _COLUMN_ALIASES)
