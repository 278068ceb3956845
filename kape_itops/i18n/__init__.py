"""English and Khmer: gettext catalogues, and dates and numbers formatted by Babel.

Catalogues live in ``locale/<lang>/LC_MESSAGES/<area>.po`` (one per area of the pages and
reports) and are compiled to ``.mo`` by ``tools/i18n.py compile``. :func:`translations` merges
every area of a language; English is the source text, so it needs no catalogue.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as _gettext
from pathlib import Path

from babel import Locale
from babel import dates as _dates
from babel import numbers as _numbers

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LOCALE_DIR",
    "format_date",
    "format_datetime",
    "format_number",
    "gettext",
    "marker",
    "ngettext",
    "pick_lang",
    "translations",
]

LANGS = ("en", "km")
DEFAULT_LANG = "en"
LOCALE_DIR = Path(__file__).with_name("locale")


def marker(message: str) -> str:
    """Marks ``message`` for extraction where it is translated later (``N_``)."""
    return message


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """Every area's catalogue of ``lang`` merged (English: the source text itself)."""
    merged: _gettext.NullTranslations = _gettext.NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    if lang == DEFAULT_LANG or not folder.is_dir():
        return merged
    for mo in sorted(folder.glob("*.mo")):
        with mo.open("rb") as fh:
            merged.add_fallback(_gettext.GNUTranslations(fh))
    return merged


def gettext(lang: str, message: str) -> str:
    """``message`` in ``lang`` (the English text when no catalogue has it)."""
    return translations(lang).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n`` in ``lang``."""
    return translations(lang).ngettext(singular, plural, n)


def pick_lang(*candidates: str | None) -> str:
    """The first candidate that is a language we have (``km-KH`` counts as ``km``)."""
    for raw in candidates:
        if not raw:
            continue
        for part in raw.split(","):
            code = part.split(";")[0].strip().lower().replace("_", "-").split("-")[0]
            if code in LANGS:
                return code
    return DEFAULT_LANG


@functools.lru_cache(maxsize=8)  # parsing a locale costs ~50 µs: once per language, not per number
def _locale(lang: str) -> Locale:
    return Locale.parse("km_KH" if lang == "km" else "en_GB")


def format_datetime(value: dt.datetime, lang: str, tz: dt.tzinfo) -> str:
    """``value`` (aware, any zone) as local date and time, e.g. ``2026-12-04 14:05``.

    Digits stay Latin in Khmer too (as on Cambodian government forms and phones by default);
    the month name is not spelled, so the form reads the same in both languages.
    """
    local = value.astimezone(tz)
    return _dates.format_datetime(local, "yyyy-MM-dd HH:mm", tzinfo=tz, locale=_locale(lang))


def format_date(value: dt.date | dt.datetime, lang: str, tz: dt.tzinfo | None = None) -> str:
    """A day as ``2026-12-04`` (a datetime is first put into ``tz``)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(tz or dt.UTC).date()
    return _dates.format_date(value, "yyyy-MM-dd", locale=_locale(lang))


def format_month(value: dt.date, lang: str) -> str:
    """A month by name: ``December 2026`` / ``ធ្នូ 2026``."""
    return _dates.format_date(value, "LLLL y", locale=_locale(lang))


def format_number(value: float | int, lang: str, digits: int = 0) -> str:
    """A number with grouping, e.g. ``25,000`` or ``99.5``."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return _numbers.format_decimal(value, format=pattern, locale=_locale(lang))
