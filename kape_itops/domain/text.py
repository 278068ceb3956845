"""Characters that must never reach a terminal or a report as they are, shown visibly instead.

*Hidden* characters are the C0 controls (but TAB and LF), DEL, the C1 controls (U+0080-U+009F,
U+009B is an 8-bit CSI), the bidirectional marks, embeddings, overrides and isolates (U+061C,
U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and paragraph separators U+2028/U+2029
and lone surrogates. A terminal runs ESC/CSI/OSC sequences (clear the screen, set the title,
blink); bidi overrides reorder what a reader sees ("Trojan source").

:func:`reveal` writes each one as a Python-style escape (``\\x1b``, ``\\u202e``), so the evidence
stays readable and nothing is lost silently; :func:`refusal` is for input fields that refuse
them; :func:`reveal_json` escapes them inside JSON text, which parsers decode back exactly.

Zero-width space, ZWNJ and ZWJ (U+200B-U+200D) are *not* hidden characters: Khmer needs them.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["HIDDEN", "describe", "first_hidden", "refusal", "reveal", "reveal_json", "reveal_value"]

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
HIDDEN = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
"""One hidden character (LF included: callers that keep newlines skip it)."""
_HIDDEN_KEEP_LF = re.compile(f"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_KINDS = {
    "Cc": "control character",
    "Cs": "lone surrogate",
    "Zl": "line separator",
    "Zp": "line separator",
}
_JSON_RAW = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_NAMES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMES:
        return _NAMES[ch]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _replace_keep_lf(match: re.Match[str]) -> str:
    ch = match.group()
    return "\n" if ch == "\r\n" else _escape(ch)


def reveal(text: str, *, newlines: bool = True) -> str:
    """``text`` with every hidden character written as an escape (``ESC`` -> ``\\x1b``).

    TAB and LF are kept (CRLF becomes LF); with ``newlines=False`` LF is shown as ``\\n``, for
    one-line output. Text without hidden characters is returned unchanged, so applying it twice
    changes nothing more.
    """
    if newlines:
        return _HIDDEN_KEEP_LF.sub(_replace_keep_lf, text)
    return HIDDEN.sub(lambda m: _escape(m.group()), text)


def reveal_value(value: object) -> object:
    """:func:`reveal` for strings, other values as they are: a Jinja2 ``finalize``.

    Markup (anything with ``__html__``) stays markup: the escapes add no ``<``, ``>`` or ``&``.
    """
    if not isinstance(value, str):
        return value
    shown = reveal(value)
    if shown == value:
        return value
    return type(value)(shown) if hasattr(value, "__html__") else shown


def reveal_json(dumped: str) -> str:
    """JSON text with hidden characters inside strings as ``\\uXXXX`` escapes (same data).

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but writes DEL, C1, bidi
    controls and U+2028/U+2029 raw, and fails later on a lone surrogate; outside strings JSON
    holds only ASCII punctuation, digits and letters, so every match lies inside a string.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def _first(text: str, newlines: bool) -> re.Match[str] | None:
    for match in HIDDEN.finditer(text):
        if match.group() != "\n" or not newlines:
            return match
    return None


def first_hidden(text: str, *, newlines: bool = True) -> str | None:
    """The first hidden character of ``text`` (TAB and, with ``newlines``, LF allowed)."""
    match = _first(text, newlines)
    return match.group() if match else None


def describe(ch: str) -> str:
    """``U+001B``, ``U+202E RIGHT-TO-LEFT OVERRIDE``: a hidden character named for a message."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def refusal(text: str, *, newlines: bool = True) -> str | None:
    """Why ``text`` cannot be accepted as it is ("contains the control character U+001B at
    position 4"), or None when it holds no hidden character."""
    match = _first(text, newlines)
    if match is None:
        return None
    ch = match.group()
    kind = _KINDS.get(unicodedata.category(ch), "bidi control")
    return f"contains the {kind} {describe(ch)} at position {match.start() + 1}"
