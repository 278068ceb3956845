"""The Khmer font that ships with the package, embedded into self-contained pages.

``KhmerOS.ttf`` is Khmer OS (LGPL-2.1+, from Debian's fonts-khmeros; ``COPYING.txt`` beside
it). A report or a label sheet is one file read on machines that may have no Khmer font at
all, where a school's Khmer name shows as empty boxes; :func:`font_face_css` gives the
``@font-face`` rule of a subset of the font holding just the Khmer characters of the page (with
the shaping tables, so subscript consonants and vowel signs still combine), as a ``data:`` URL.
Pages list :data:`FAMILY` first in their ``font-family``; its ``unicode-range`` keeps it to
Khmer, so Latin text keeps the page's own font.
"""

from __future__ import annotations

import base64
import functools
import io
from importlib import resources

__all__ = [
    "FAMILY",
    "KHMER_RANGES",
    "POSTSCRIPT_NAME",
    "embed_font",
    "font_face_css",
    "khmer_chars",
    "subset_font",
]

FAMILY = "Kape Khmer"
"""The ``font-family`` name of the embedded face."""
POSTSCRIPT_NAME = "KapeKhmer-KhmerOS"
"""The subset's PostScript name: a PDF names its embedded copy ``XXXXXX+KapeKhmer-KhmerOS``."""
KHMER_RANGES = ((0x1780, 0x17FF), (0x19E0, 0x19FF))
"""Khmer and Khmer Symbols."""
_HELPERS = (0x200B, 0x200C, 0x200D, 0x25CC)
"""Zero-width space/joiners and the dotted circle the shaper draws for a lone sign."""
_RANGE_CSS = "U+1780-17FF, U+19E0-19FF, U+200B-200D, U+25CC"


def _is_khmer(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in KHMER_RANGES)


def khmer_chars(text: str) -> str:
    """The distinct Khmer characters of ``text``, sorted (empty when it has none)."""
    return "".join(sorted({c for c in text if _is_khmer(ord(c))}))


@functools.lru_cache(maxsize=32)
def subset_font(chars: str) -> bytes:
    """A WOFF subset of Khmer OS drawing ``chars`` (and every glyph its shaping rules reach)."""
    from fontTools import subset  # type: ignore[import-untyped]  # late: only Khmer pages
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    data = resources.files(__name__).joinpath("KhmerOS.ttf").read_bytes()
    font = TTFont(io.BytesIO(data))
    opts = subset.Options()
    opts.layout_features = ["*"]  # GSUB/GPOS: the Khmer shaping features, all of them
    opts.layout_scripts = ["*"]
    opts.hinting = False
    opts.notdef_outline = True
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    opts.flavor = "woff"
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=[*(ord(c) for c in chars), *_HELPERS])
    sub.subset(font)
    _rename(font)
    out = io.BytesIO()
    font.flavor = "woff"
    font.save(out)
    return out.getvalue()


def _rename(font: object) -> None:
    """Name the subset for what it is (PDFs then show ``…+KapeKhmer-KhmerOS``)."""
    names = font["name"]  # type: ignore[index]
    for rec in list(names.names):
        if rec.nameID in (1, 3, 4, 6, 16):
            names.removeNames(nameID=rec.nameID)
    for name_id, text in ((1, FAMILY), (3, f"{FAMILY} subset"), (4, f"{FAMILY} (Khmer OS subset)")):
        names.setName(text, name_id, 3, 1, 0x409)
    names.setName(POSTSCRIPT_NAME, 6, 3, 1, 0x409)


def font_face_css(text: str) -> str:
    """The ``@font-face`` rule of :data:`FAMILY` for the Khmer in ``text``; "" when none."""
    chars = khmer_chars(text)
    if not chars:
        return ""
    blob = base64.b64encode(subset_font(chars)).decode("ascii")
    return (
        f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: 400 700; '
        f'src: url(data:font/woff;base64,{blob}) format("woff"); '
        f"unicode-range: {_RANGE_CSS}; }}"
    )


def embed_font(page: str) -> str:
    """``page`` (a rendered HTML document) with :func:`font_face_css` for its own text placed
    at the start of its first ``<style>`` element; unchanged when it holds no Khmer.

    The first ``<style>`` is the template's: rendered data is escaped and cannot hold one.
    """
    css = font_face_css(page)
    at = page.find("<style>")
    if not css or at < 0:
        return page
    at += len("<style>")
    return f"{page[:at]}\n{css}{page[at:]}"
