"""Unit-aware parsing of quoted values ("16 GB DDR4", "15.6\"", "3 yrs", "Wi-Fi 6").

Every value becomes a :class:`Quantity` in the canonical unit of its dimension. Text that cannot
be read raises :class:`UnitError`; the evaluator turns that into "cannot verify", never a pass.
Khmer digits and unit words are read too ("៣៦ ខែ" is 36 months; see :mod:`.khmer`), and
:mod:`.comparison` compares quantities and explains each comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kape_itops.quotes.khmer import latinise, yes_no

__all__ = [
    "UNITS",
    "Quantity",
    "UnitError",
    "dimension_of",
    "parse_bool",
    "parse_quantity",
    "show_value",
]


class UnitError(ValueError):
    """A value or unit that cannot be read."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value in the canonical unit of ``dimension``; ``parts`` for WxH and IP ratings."""

    value: float
    dimension: str
    text: str
    parts: tuple[float, ...] = ()


# alias (lower case) -> (dimension, factor to the canonical unit)
UNITS: dict[str, tuple[str, float]] = {}


def _add(dimension: str, factor: float, *aliases: str) -> None:
    for alias in aliases:
        UNITS[alias] = (dimension, factor)


_add("data", 1e-6, "kb")
_add("data", 1e-3, "mb")
_add("data", 1.0, "gb", "gbyte", "gbytes", "gigabyte", "gigabytes")
_add("data", 1000.0, "tb", "tbyte", "terabyte", "terabytes")
_add("data", 1.073741824, "gib")
_add("data", 1099.511627776, "tib")
_add("length", 1.0, "m", "metre", "metres", "meter", "meters")
_add("length", 0.01, "cm")
_add("length", 0.001, "mm")
_add("length", 0.0254, "in", "inch", "inches", '"', "″", "''")
_add("length", 0.3048, "ft", "feet", "foot")
_add("time", 1 / 3600, "s", "sec", "secs", "second", "seconds")
_add("time", 1 / 60, "min", "mins", "minute", "minutes")
_add("time", 1.0, "h", "hr", "hrs", "hour", "hours")
_add("time", 24.0, "day", "days")
_add("time", 168.0, "wk", "week", "weeks")
_add("time", 730.5, "mo", "mos", "mth", "mths", "month", "months")
_add("time", 8766.0, "y", "yr", "yrs", "year", "years")
_add("frequency", 1e-3, "khz")
_add("frequency", 1.0, "mhz")
_add("frequency", 1000.0, "ghz")
_add("power", 1.0, "w", "watt", "watts")
_add("power", 1000.0, "kw")
_add("apparent_power", 1.0, "va")
_add("apparent_power", 1000.0, "kva")
_add("energy", 1.0, "wh")
_add("energy", 1000.0, "kwh")
_add("charge", 1.0, "mah")
_add("print_speed", 1.0, "ppm", "ipm", "pages/min", "ppm(a4)")
_add("pages", 1.0, "page", "pages", "pp", "pages/month", "pages/mo", "pages/cartridge")
_add("bitrate", 1e-3, "kbps", "kb/s")
_add("bitrate", 1.0, "mbps", "mb/s", "mbit/s")
_add("bitrate", 1000.0, "gbps", "gb/s", "gbit/s", "gigabit")
_add("pixels", 1e6, "mp", "megapixel", "megapixels", "mpx")
_add("percent", 1.0, "%", "percent")
_add("gain", 1.0, "dbi")
_add("decibel", 1.0, "db")
_add("cost", 1.0, "cent", "cents", "¢", "cents/page", "cent/page")
_add("mass", 1.0, "kg")
_add("mass", 0.45359237, "lb", "lbs")
_add(
    "count",
    1.0,
    "port",
    "ports",
    "client",
    "clients",
    "user",
    "users",
    "channel",
    "channels",
    "ch",
    "bay",
    "bays",
    "core",
    "cores",
    "thread",
    "threads",
    "outlet",
    "outlets",
    "camera",
    "cameras",
    "pcs",
    "unit",
    "units",
)
_add("wifi", 1.0, "wifi", "wi-fi")
_add("ip_rating", 1.0, "ip")
_add("number", 1.0, "")

# Shorthand vendors use that is only safe when the attribute's dimension is known.
_CONTEXT_UNITS: dict[str, dict[str, float]] = {"data": {"g": 1.0, "t": 1000.0, "gig": 1.0}}
_AMBIGUOUS = {"m": "metres, months or minutes", "d": "days or dots", "k": "thousand or kelvin"}

_NUMBER = r"\d+(?:[.,]\d+)*"
_TOKEN = re.compile(
    r"(?<![\w.])(" + _NUMBER + r")\s*([a-z%¢\"″']+(?:[/(][a-z0-9]+\)?)?)?",
    re.IGNORECASE,
)
_RESOLUTION = re.compile(r"(?<!\d)(\d{3,5})\s*[x×*]\s*(\d{3,5})(?!\d)", re.IGNORECASE)
_NAMED_RESOLUTION = {
    "8k": (7680, 4320),
    "4k": (3840, 2160),
    "uhd": (3840, 2160),
    "2160p": (3840, 2160),
    "qhd": (2560, 1440),
    "1440p": (2560, 1440),
    "wuxga": (1920, 1200),
    "fhd": (1920, 1080),
    "full hd": (1920, 1080),
    "1080p": (1920, 1080),
    "wxga": (1280, 800),
    "720p": (1280, 720),
}
_WIFI_WORD = re.compile(r"wi-?\s?fi\s*(\d)\s*(e?)\b", re.IGNORECASE)
_WIFI_STD = re.compile(
    r"(?:802\.11\s?|(?<![\w.])11)((?:be|ax|ac|[abgn])(?:\s*/\s*(?:be|ax|ac|[abgn]))*)\b", re.I
)
_WIFI_GEN = {"b": 1.0, "a": 2.0, "g": 3.0, "n": 4.0, "ac": 5.0, "ax": 6.0, "be": 7.0}
_IP_RATING = re.compile(r"\bip\s?(\d)(\d)\b", re.IGNORECASE)
_POE = {"802.3af": 15.4, "802.3at": 30.0, "poe+": 30.0, "802.3bt": 60.0, "poe++": 60.0}
_TRUE = {"yes", "y", "true", "1", "✓", "✔", "included", "supported", "available", "ok"}
_FALSE = {"no", "n", "false", "0", "✗", "✘", "none", "not supported", "not included", "n/a", "-"}


def dimension_of(unit: str) -> str:
    """The dimension of a unit name ("GB" -> "data"); raises :class:`UnitError` if unknown."""
    key = latinise(unit).strip().lower()
    if key in UNITS:
        return UNITS[key][0]
    if key in ("pixels", "px", "resolution"):
        return "pixels"
    raise UnitError(f"unknown unit '{unit}'")


class _TooLong(UnitError):
    """A number of more digits than any quoted value has (it would read as ``inf``)."""


_MAX_DIGITS = 15


def _digits(text: str) -> str:
    """``text`` if it has at most 15 digits; a 400-digit RAM size is no size at all."""
    if sum(ch.isdigit() for ch in text) > _MAX_DIGITS:
        raise _TooLong(f"'{_cut(text)}': the number has more than {_MAX_DIGITS} digits")
    return text


def _cut(text: str) -> str:
    """At most 40 characters of a value, for messages."""
    return text if len(text) <= 40 else text[:40] + "…"


def _number(text: str) -> float:
    """'1,000' -> 1000; '15,6' -> 15.6; '1,234.5' -> 1234.5."""
    _digits(text)
    if "," in text and "." in text:
        return float(text.replace(",", ""))
    if "," in text:
        groups = text.split(",")
        if all(len(g) == 3 for g in groups[1:]):
            return float("".join(groups))
        if len(groups) == 2:
            return float(text.replace(",", "."))
        raise UnitError(f"cannot read the number '{text}'")
    return float(text)


def _resolution(text: str) -> Quantity | None:
    m = _RESOLUTION.search(text)
    if m:
        w, h = int(m.group(1)), int(m.group(2))
        return Quantity(float(w * h), "pixels", f"{w}x{h}", (float(w), float(h)))
    low = text.lower()
    for name, (w, h) in _NAMED_RESOLUTION.items():
        if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", low):
            return Quantity(float(w * h), "pixels", f"{w}x{h} ({name})", (float(w), float(h)))
    return None


def _wifi(text: str) -> Quantity | None:
    gens: list[float] = []
    for m in _WIFI_WORD.finditer(text):
        gens.append(float(m.group(1)) + (0.5 if m.group(2) else 0.0))
    for m in _WIFI_STD.finditer(text):
        for part in re.split(r"\s*/\s*", m.group(1).lower()):
            gens.append(_WIFI_GEN[part])
    if "6ghz" in text.lower().replace(" ", "") and 6.0 in gens:
        gens.append(6.5)
    if not gens:
        return None
    g = max(gens)
    shown = "Wi-Fi 6E" if g == 6.5 else f"Wi-Fi {g:g}"
    return Quantity(g, "wifi", shown)


def _ip_rating(text: str) -> Quantity | None:
    m = _IP_RATING.search(text)
    if not m:
        return None
    solids, water = float(m.group(1)), float(m.group(2))
    return Quantity(
        solids * 10 + water, "ip_rating", f"IP{m.group(1)}{m.group(2)}", (solids, water)
    )


def _poe(text: str) -> Quantity | None:
    low = text.lower().replace(" ", "")
    best = None
    for name, watts in _POE.items():
        if name in low and (best is None or watts > best[1]):
            best = (name, watts)
    if best is None:
        return None
    watts = 90.0 if best[0] == "802.3bt" and "type4" in low else best[1]
    return Quantity(watts, "power", f"{best[0]} ({watts:g} W)")


_SPEED_WORDS = (
    (re.compile(r"\b10\s*/\s*100\s*/\s*1000\b"), 1000.0, "10/100/1000"),
    (re.compile(r"\b(10\s*g(?:bit|b|be|ig)?e?\b|10\s*gigabit)", re.I), 10000.0, "10 Gigabit"),
    (re.compile(r"\b(2\.5\s*g(?:bit|b|be)?e?\b|2\.5\s*gigabit)", re.I), 2500.0, "2.5 Gigabit"),
    (re.compile(r"(?<![\d.]\s)(?<![\d.])\bgigabit\b|\bgbe\b|\bgige\b", re.I), 1000.0, "Gigabit"),
    (re.compile(r"\bfast\s+ethernet\b|\b10\s*/\s*100\b", re.I), 100.0, "Fast Ethernet"),
)
_TIMES = re.compile(r"(?<![\w.])(\d+)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(tb|gb)\b", re.IGNORECASE)


def _bitrate(text: str) -> Quantity | None:
    if re.search(r"\d\s*(?:[kmg]b(?:ps|it/s|/s))", text, re.IGNORECASE):
        return None
    for pattern, mbps, shown in _SPEED_WORDS:
        if pattern.search(text):
            return Quantity(mbps, "bitrate", f"{shown} ({mbps:g} Mbps)")
    return None


def _data_product(text: str) -> Quantity | None:
    m = _TIMES.search(text)
    if not m:
        return None
    count, size, unit = int(_digits(m.group(1))), float(_digits(m.group(2))), m.group(3)
    total = count * size * UNITS[unit.lower()][1]
    return Quantity(total, "data", f"{count} x {m.group(2)} {unit} = {total:g} GB")


_SPECIAL = {
    "pixels": _resolution,
    "wifi": _wifi,
    "ip_rating": _ip_rating,
    "power": _poe,
    "bitrate": _bitrate,
    "data": _data_product,
}


def parse_quantity(text: str, unit_hint: str | None = None) -> Quantity:
    """Read ``text`` as a quantity; a bare number is taken in ``unit_hint`` (the spec's unit).

    With a hint, the first value whose unit has the hint's dimension wins ("16 GB DDR4 3200 MHz"
    with hint GB -> 16 GB). Raises :class:`UnitError` when nothing can be read.
    """
    found = _parse_cached(str(text), unit_hint)
    if isinstance(found, str):
        raise UnitError(found)
    return found


@lru_cache(maxsize=8192)
def _parse_cached(text: str, unit_hint: str | None) -> Quantity | str:
    """Quantities are immutable and quotations repeat values: parse each text once."""
    try:
        return _parse(text, unit_hint)
    except UnitError as exc:
        return str(exc)


def _parse(text: str, unit_hint: str | None) -> Quantity:
    raw = " ".join(latinise(str(text)).split())
    unit_hint = latinise(unit_hint) if unit_hint else unit_hint
    if not raw:
        raise UnitError("no value given")
    expected = dimension_of(unit_hint) if unit_hint else None
    specials = [_SPECIAL[expected]] if expected in _SPECIAL else []
    if expected is None:
        specials = [_resolution, _wifi, _ip_rating]
    for special in specials:
        q = special(raw)
        if q is not None:
            return q
    normal = re.sub(r"\bper\s+", "/", raw, flags=re.IGNORECASE)
    found: list[tuple[float, str, str, str]] = []
    unknown: list[str] = []
    for m in _TOKEN.finditer(normal):
        shown = (m.group(2) or "").rstrip(".")
        unit = shown.lower()
        try:
            value = _number(m.group(1))
        except _TooLong:
            raise
        except (UnitError, ValueError):
            continue
        if unit in UNITS:
            found.append((value, unit, UNITS[unit][0], shown))
        elif expected and unit in _CONTEXT_UNITS.get(expected, {}):
            found.append((value * _CONTEXT_UNITS[expected][unit], "gb", expected, "GB"))
        elif unit in _AMBIGUOUS:
            unknown.append(f"ambiguous unit '{unit}' ({_AMBIGUOUS[unit]}?)")
        else:
            unknown.append(f"unknown unit '{unit}'")
    if expected is not None:
        for value, unit, dim, shown in found:
            if dim == expected:
                return Quantity(value * UNITS[unit][1], dim, show_value(value, shown))
        bare = [v for v, u, _, _ in found if u == ""]
        if bare and _is_bare_number(raw):
            factor = (
                UNITS[unit_hint.lower()][1] if unit_hint and unit_hint.lower() in UNITS else 1.0
            )
            return Quantity(bare[0] * factor, expected, show_value(bare[0], unit_hint or ""))
        if unknown:
            raise UnitError(f"'{_cut(raw)}': {unknown[0]}")
        others = sorted({d for _, u, d, _ in found if u})
        if others:
            raise UnitError(
                f"'{_cut(raw)}': expected a {expected} value, found {', '.join(others)}"
            )
        raise UnitError(f"'{_cut(raw)}': no {expected} value found")
    for value, unit, dim, shown in found:
        if unit:
            return Quantity(value * UNITS[unit][1], dim, show_value(value, shown))
    if unknown:
        raise UnitError(f"'{_cut(raw)}': {unknown[0]}")
    if found and _is_bare_number(raw):
        return Quantity(found[0][0], "number", show_value(found[0][0], ""))
    raise UnitError(f"'{_cut(raw)}': no value with a unit found")


def _is_bare_number(text: str) -> bool:
    return re.fullmatch(r"\s*" + _NUMBER + r"\s*", text) is not None


def show_value(value: float, unit: str) -> str:
    """A value as the reports print it: at most 4 decimals, then the unit ("16 GB", "15.6\"")."""
    number = f"{value:,.4f}".rstrip("0").rstrip(".")
    if not unit:
        return number
    return f"{number}{unit}" if unit in ('"', "″", "%") else f"{number} {unit}"


def parse_bool(text: str) -> bool | None:
    """Yes/no answers ("Yes", "supported", "no", "n/a"); None when it is neither."""
    low = " ".join(str(text).lower().split())
    if not low:
        return None
    khmer = yes_no(low)
    if khmer is not None:
        return khmer
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    first = re.split(r"[\s,;:(]", low, maxsplit=1)[0]
    if first in ("yes", "y", "✓", "✔"):
        return True
    if first in ("no", "✗", "✘"):
        return False
    return None
