"""Cells of one worksheet, collected under limits: the part of the XLSX reader that sees values.

Both ways of reading a sheet (regular expressions for plain SpreadsheetML, expat for anything
else) hand each cell to :class:`Cells`, which resolves shared strings, reads numbers strictly
(no ``inf``, ``nan`` or 400-digit numbers), records formulas, and refuses a cell beyond the
row, column, cell or text limits with :class:`SheetRefused` naming the cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.parsers import expat

from kape_itops.limits import Limits, too_big

__all__ = ["Cells", "Formula", "SheetRefused", "XlsxError", "column_index", "parse_xml"]

_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_MAX_NUMBER_CHARS = 40
_MAX_PARTS_IN_CELL = 10_000


class XlsxError(ValueError):
    """The file is not a workbook this reader can read (another reader may try)."""


class SheetRefused(XlsxError):
    """Hostile or over-limit content: reported as is, never handed to another reader."""

    def __init__(self, reason: str, ref: str | None = None, value: str | None = None) -> None:
        self.reason = reason
        self.ref = ref
        self.value = value
        self.sheet: str | None = None
        super().__init__(f"cell {ref}: {reason}" if ref else reason)


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula found in the sheet: in one cell, or over a range (array formulas)."""

    ref: str
    text: str
    shared: str | None = None
    """For a cell that reuses a shared formula: the reference of the cell that states it."""
    span: str | None = None
    """For an array formula or data table: the range it fills (``E7:E20``)."""


def column_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _position(ref: str) -> tuple[int, int]:
    """(row, column) of a cell reference; far-off ones come back large, not exact."""
    m = _CELL_REF.fullmatch(ref)
    if m is None:
        raise XlsxError(f"cell without a usable reference ({ref[:20]!r})")
    letters, digits = m.group(1), m.group(2)
    row = int(digits) if len(digits) <= 12 else 10**12
    return row, column_index(letters) if len(letters) <= 4 else 26**4


_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def _ref(ref: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})", ref)
    return (int(m.group(2)), column_index(m.group(1))) if m else None


@dataclass(slots=True)
class Cells:
    """Collects one sheet's cell values (``rows[row][col]``, rows from 1, columns from 0)."""

    shared: list[str]
    limits: Limits
    rows: dict[int, dict[int, object]] = field(default_factory=dict)
    formulas: dict[tuple[int, int], Formula] = field(default_factory=dict)
    ranges: list[tuple[int, int, int, int, Formula]] = field(default_factory=list)
    masters: dict[str, Formula] = field(default_factory=dict)
    count: int = 0
    max_row: int = 0
    max_col: int = 0
    columns: dict[bytes, int] = field(default_factory=dict)
    """Column letters seen so far (all within the extent checked) and their index."""
    _fit: bool | None = None

    def shared_fit(self) -> bool:
        """Whether every shared string is within the text limit (then no check per use)."""
        if self._fit is None:
            longest = max(map(len, self.shared), default=0)
            self._fit = longest <= self.limits.max_cell_chars
        return self._fit

    def place(self, letters: bytes, digits: bytes) -> tuple[int, int]:
        """(row, column) of a plain reference, refused beyond the limits."""
        col = self.columns.get(letters)
        if col is None:
            col = self.columns[letters] = column_index(letters.decode())
        row = int(digits)
        if row > self.max_row or col >= self.max_col:
            self._too_far((letters + digits).decode(), row, col + 1)
        return row, col

    def too_many(self, ref: str) -> None:
        """Refuse the cell over the cell-count limit."""
        raise SheetRefused(
            too_big("the sheet", self.count, self.limits.max_cells, "max_cells", " cells"), ref
        )

    def add(
        self, ref: str, kind: str, v: str | None, text: str | None, f: dict[str, str] | None
    ) -> None:
        """One ``<c>``: its reference, type, ``<v>`` text, inline text and ``<f>`` attributes
        (with the formula under key ``""``)."""
        if v is None and text is None and f is None:
            return
        row, col = _position(ref)
        self._too_far(ref, row, col + 1)
        if f is not None:
            self._formula(ref, row, col, f)
        value = self.value(ref, kind, v, text)
        if value is not None or f is not None:
            self.count += 1
            if self.count > self.limits.max_cells:
                self.too_many(ref)
        if value is not None:
            self.rows.setdefault(row, {})[col] = value

    def _too_far(self, ref: str, row: int, columns: int) -> None:
        lim = self.limits
        if row > lim.max_rows:
            raise SheetRefused(too_big("the sheet", row, lim.max_rows, "max_rows", " rows"), ref)
        if columns > lim.max_columns:
            raise SheetRefused(
                too_big("the sheet", columns, lim.max_columns, "max_columns", " columns"), ref
            )
        if row > self.max_row or columns > self.max_col:
            self.max_row, self.max_col = max(row, self.max_row), max(columns, self.max_col)
            extent = self.max_row * self.max_col
            if extent > lim.max_cells:
                why = too_big("the sheet", extent, lim.max_cells, "max_cells", " cells")
                raise SheetRefused(f"{why}; rows x columns", ref)

    def value(self, ref: str, kind: str, v: str | None, text: str | None) -> object:
        """The value of one cell, read strictly."""
        if kind == "inlineStr":
            return self._text(ref, text or "")
        if v is None:
            return None
        if kind == "s":
            if not (v.isascii() and v.isdigit()) or len(v) > 9 or int(v) >= len(self.shared):
                raise SheetRefused(
                    f"refers to shared string {v[:20]!r}, which the workbook does not have", ref
                )
            return self._text(ref, self.shared[int(v)])
        if kind in ("str", "e", "d"):
            return self._text(ref, v)
        if kind == "b":
            return v.strip() in ("1", "true")
        return number(ref, v)

    def _text(self, ref: str, text: str) -> str:
        limit = self.limits.max_cell_chars
        if len(text) > limit:
            raise SheetRefused(
                too_big("the text", len(text), limit, "max_cell_chars", " characters"),
                ref,
                text[:40],
            )
        return text

    def _formula(self, ref: str, row: int, col: int, f: dict[str, str]) -> None:
        body = f.get("", "")
        kind = f.get("t", "normal")
        span = f.get("ref", "")
        array = kind in ("array", "dataTable") and ":" in span
        text = "=" + body if body or kind != "dataTable" else "{data table}"
        formula = Formula(ref, text, None, span[:40] if array else None)
        if kind == "shared":
            si = f.get("si", "")
            if body:
                self.masters.setdefault(si, formula)
            else:
                master = self.masters.get(si)
                formula = Formula(ref, master.text if master else "=", master.ref if master else "")
        self.formulas[(row, col)] = formula
        if array:
            corners = [_ref(p) for p in span.split(":", 1)]
            if corners[0] and corners[1]:
                (r1, c1), (r2, c2) = corners[0], corners[1]
                self.ranges.append((r1, c1, r2, c2, formula))

    def grid(self) -> list[list[object]]:
        """The rows as lists (row 1 first), each as wide as its last value."""
        rows = self.rows
        if not rows:
            return []
        out: list[list[object]] = []
        for r in range(1, max(rows) + 1):
            cells = rows.get(r, {})
            width = max(cells) + 1 if cells else 0
            out.append([cells.get(c) for c in range(width)])
        return out


def number(ref: str, v: str) -> int | float:
    """A numeric ``<v>`` as Excel writes it; ``inf``, ``nan``, 1e999 or 40+ digits are refused."""
    text = v.strip()
    if len(text) > _MAX_NUMBER_CHARS:
        raise SheetRefused(f"the number has {len(text)} characters; not a value Excel writes", ref)
    if _NUMBER.fullmatch(text) is None:
        raise SheetRefused("not a number", ref, text)
    if not any(ch in text for ch in ".eE"):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise SheetRefused("the number is too large (not finite)", ref, text)
    return value


def parse_xml(
    pieces: Iterable[bytes],
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    text: Callable[[str], None],
    part: str = "the workbook",
) -> None:
    """Stream XML through expat with local names (namespaces dropped); DTDs are refused."""

    def refuse_dtd(*_args: object) -> None:
        raise SheetRefused(f"{part} declares an XML DTD; workbooks never need one, refused")

    p = expat.ParserCreate(namespace_separator="}")
    p.buffer_text = True
    p.StartDoctypeDeclHandler = refuse_dtd
    p.EntityDeclHandler = refuse_dtd
    p.StartElementHandler = lambda name, attrs: start(name.rsplit("}", 1)[-1], attrs)
    p.EndElementHandler = lambda name: end(name.rsplit("}", 1)[-1])
    p.CharacterDataHandler = text
    try:
        for piece in pieces:
            p.Parse(piece, False)
        p.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxError(f"not well-formed XML ({exc})") from exc
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


class SheetHandler:
    """expat handlers that pass each ``<c>`` of a worksheet to :class:`Cells`."""

    def __init__(self, cells: Cells) -> None:
        self.cells = cells
        self.limit = cells.limits.max_cell_chars + 1
        self.ref: str | None = None
        self.kind = "n"
        self.v: list[str] | None = None
        self.t: list[str] | None = None
        self.f: dict[str, str] | None = None
        self.into: list[str] | None = None
        self.phonetic = 0
        self.parts = 0
        self.chars = 0
        self.row = 0
        self.col = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.ref is None:
            if name == "row":
                r = attrs.get("r", "")
                self.row = int(r) if r.isdigit() and len(r) <= 7 else self.row + 1
                self.col = 0
            elif name == "c":
                self.ref = attrs.get("r") or self._next_ref()
                self.kind = attrs.get("t", "n")
                self.v = self.t = self.f = self.into = None
                self.phonetic = self.parts = self.chars = 0
            return
        self.parts += 1
        if self.parts > _MAX_PARTS_IN_CELL:
            raise SheetRefused(
                f"the cell holds more than {_MAX_PARTS_IN_CELL:,} XML elements", self.ref
            )
        if name == "v":
            self.v = self.into = []
        elif name == "f":
            self.f = dict(attrs)
            self.into = []
        elif name == "rPh":
            self.phonetic += 1
        elif name == "t" and not self.phonetic:
            self.t = self.t if self.t is not None else []
            self.into = self.t

    def _next_ref(self) -> str:
        n, out = self.col + 1, ""
        while n:
            n, r = divmod(n - 1, 26)
            out = chr(65 + r) + out
        return f"{out}{self.row}"

    def end(self, name: str) -> None:
        if self.ref is None:
            return
        if name == "c":
            ref, self.ref = self.ref, None
            m = _CELL_REF.fullmatch(ref)
            self.col = column_index(m.group(1)[:4]) + 1 if m else self.col + 1
            v = "".join(self.v) if self.v is not None else None
            t = "".join(self.t) if self.t is not None else None
            self.cells.add(ref, self.kind, v, t, self.f)
        elif name == "f" and self.f is not None and self.into is not None:
            self.f[""] = "".join(self.into)
            self.into = None
        elif name == "rPh":
            self.phonetic -= 1
        elif name in ("v", "t"):
            self.into = None

    def text(self, data: str) -> None:
        if self.into is not None:
            self.into.append(data)
            self.chars += len(data)
            if self.chars > self.limit:
                raise SheetRefused(
                    too_big(
                        "the text", self.chars, self.limit - 1, "max_cell_chars", " characters"
                    ),
                    self.ref,
                )
