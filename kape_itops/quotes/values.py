"""Values from quotation cells: text, amounts and dates, as vendors write them.

Khmer digits, currency words and symbols, thousands separators and accounting negatives are
read; text that is not a number raises ValueError, and so do numbers no quotation states
(:class:`Implausible`: not finite, or 16 digits and more before the point).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

from kape_itops.domain.text import reveal
from kape_itops.quotes.khmer import CURRENCY_WORDS, ascii_digits, date_text, fold, visible
from kape_itops.quotes.xlsx import excel_date

__all__ = ["CURRENCIES", "Implausible", "cell_date", "cell_decimal", "cell_text"]

_CURRENCY_NOISE = re.compile(
    r"(?i)\b(usd|khr|riels?|us\$)\b|[$៛\s]|"
    + "|".join(re.escape(w) for w in sorted(CURRENCY_WORDS, key=len, reverse=True))
)
CURRENCIES = {
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "khr": "KHR",
    "riel": "KHR",
    "៛": "KHR",
    **{fold(k): v for k, v in CURRENCY_WORDS.items()},
}


def cell_text(value: object) -> str:
    """A cell as one trimmed text, hidden characters made visible (``\\x1b``, ``\\u202e``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return reveal(visible(str(value)).strip())


class Implausible(ValueError):
    """A number no quotation states (not finite, or 16 digits and more before the point)."""


_TOO_LARGE = Decimal("1e15")


def cell_decimal(value: object) -> Decimal | None:
    """A number from a cell; None if empty; raises ValueError for text, :class:`Implausible`
    for ``inf``, ``nan`` and numbers of 16 digits and more."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise Implausible("not a finite number")
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
        raise Implausible("the number is too large (at most 15 digits before the decimal point)")
    return number


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d %Y")


def cell_date(value: object, date1904: bool = False) -> dt.date:
    """A date from a cell: a date, an Excel serial number or text in a common format."""
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
