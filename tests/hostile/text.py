"""Hostile text: terminal escapes, C1 and bidi controls, DEL, NUL, lone surrogates, long lines.

``HOSTILE`` names each nasty string; :func:`hostile_text` is a hypothesis strategy mixing them
with ordinary and Khmer text. :func:`assert_clean` is the one check every output must pass: no
raw control or bidi character (TAB allowed, LF where the format has lines). It is written
here independently of :mod:`kape_itops.domain.text`, so a gap there cannot hide itself.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

HOSTILE: dict[str, str] = {
    "clear_screen": "\x1b[2J\x1b[H",
    "osc_title": "\x1b]0;owned\x07",
    "blink": "\x1b[5mBLINK\x1b[0m",
    "c1_csi": "\x9b31mred",
    "c1_osc_st": "\x9d0;t\x9c",
    "rlo": "invoice\u202efdp.exe",
    "bidi_embed_isolate": "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069",
    "bidi_marks": "\u200e\u200f\u061c",
    "del": "a\x7fb",
    "nul": "a\x00b",
    "bell_backspace": "ok\x07\x08\x08",
    "carriage_return": "all good\rFAILED",
    "vertical_tab_ff": "a\x0bb\x0cc",
    "separators": "a\u2028b\u2029c",
    "lone_surrogate": "x\udcff",
    "long_line": "A" * 5000 + "\x1b[2J",
}
"""Each string holds at least one character no output may pass on raw."""

STORABLE = {k: v for k, v in HOSTILE.items() if k not in ("nul", "lone_surrogate")}
"""What a database can hold (PostgreSQL refuses NUL; UTF-8 has no lone surrogates)."""

KHMER = "សាលា\u200bបឋមសិក្សា ក្រ\u200cសួង \u200dអប់រំ"
"""Khmer with ZWSP, ZWNJ and ZWJ: legitimate, must come out unchanged."""

_RAW = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029\ud800-\udfff]"
)
_RAW_NO_LINES = re.compile("\n")


def assert_clean(text: str, where: str = "output", *, lines: bool = True) -> None:
    """Fail, naming the first few characters and their context, if ``text`` holds any raw."""
    for m in _RAW.finditer(text):
        around = text[max(0, m.start() - 30) : m.end() + 30]
        raise AssertionError(f"{where}: raw U+{ord(m.group()):04X} in {around!r}")
    if not lines and (m2 := _RAW_NO_LINES.search(text)):
        raise AssertionError(f"{where}: raw line break U+{ord(m2.group()):04X}")


def hidden_characters() -> st.SearchStrategy[str]:
    """One character no output may pass on raw."""
    return st.one_of(
        st.integers(0, 0x1F).filter(lambda c: c not in (9, 10)).map(chr),
        st.integers(0x7F, 0x9F).map(chr),
        st.sampled_from(list("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2028\u2029")),
        st.sampled_from(list("\u2066\u2067\u2068\u2069")),
    )


def hostile_text(*, surrogates: bool = False, max_size: int = 40) -> st.SearchStrategy[str]:
    """Strings mixing ordinary text, Khmer, whole ``HOSTILE`` strings and single hidden
    characters; ``surrogates`` adds lone surrogates (for code that never stores them)."""
    pieces = st.one_of(
        st.text(max_size=8),
        st.sampled_from([KHMER, "Acme Co.", "[bold]x[/]", "<b>&amp;</b>", "=1+1", "a|b*c_"]),
        st.sampled_from([v for k, v in HOSTILE.items() if k != "long_line"]),
        hidden_characters(),
        *([st.integers(0xD800, 0xDFFF).map(chr)] if surrogates else []),
    )
    return st.lists(pieces, min_size=1, max_size=max_size // 4 or 1).map("".join)
