"""A small, fast, bounded XLSX cell-value reader (zipfile, regular expressions, expat).

openpyxl's read-only mode costs ~10 µs per cell; quotations are plain grids of values, so this
reader parses the sheet XML directly (cached values, shared and inline strings, numbers,
booleans), streaming it in pieces so that memory stays bounded whatever the file claims.
Formulas are recorded with their cell (:attr:`SheetCells.formulas`): the caller decides
what a formula means for it. Dates come back as Excel serial numbers; :func:`excel_date`
converts them where a date is expected.

Two errors: :class:`XlsxError` for a workbook this reader does not understand (another reader
may try), :class:`SheetRefused` for hostile or over-limit content (a DTD, a cell beyond the
limits of :class:`~kape_itops.limits.Limits`, a bad shared-string index, ``inf``): that one is
final and names the cell.
"""

from __future__ import annotations

import datetime as dt
import html
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, fromstring

from kape_itops.limits import Limits, too_big
from kape_itops.quotes.xlsxcells import (
    Cells,
    Formula,
    SheetHandler,
    SheetRefused,
    XlsxError,
    parse_xml,
)

__all__ = [
    "Formula",
    "SheetCells",
    "SheetRefused",
    "XlsxError",
    "excel_date",
    "read_cells",
    "read_sheet",
]

_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REL_STRICT = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
_CHUNK = 1 << 20
_MAX_PIECE = 32 << 20
_MAX_SMALL_PART = 8 << 20


@dataclass(frozen=True, slots=True)
class SheetCells:
    """One sheet as read: its name, rows of values, date system and formulas."""

    name: str
    rows: list[list[object]]
    date1904: bool
    cells: Cells

    def formula(self, row: int, col: int) -> Formula | None:
        """The formula of the cell at ``row`` (from 1) and ``col`` (from 0), if any."""
        return self.cells.formula(row, col)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def excel_date(serial: float, date1904: bool = False) -> dt.date:
    """An Excel serial day number as a date (1900 or 1904 system)."""
    base = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    if not 0 < serial < 2958466:
        raise ValueError("not a date serial number")
    return base + dt.timedelta(days=int(serial))


def read_sheet(
    path: Path, preferred: tuple[str, ...] = ("quotation", "quote")
) -> tuple[str, list[list[object]], bool]:
    """(sheet name, rows of cell values, date1904) of the preferred sheet, else the first."""
    got = read_cells(path, preferred)
    return got.name, got.rows, got.date1904


class _Part:
    """Reads zip members with one budget of decompressed bytes for the whole workbook."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        self.zf = zf
        self.limits = limits
        self.left = limits.max_unzipped_bytes

    def _spend(self, name: str, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise SheetRefused(
                f"{name}: the unzipped workbook is larger than {self.limits.max_unzipped_mb:,} MiB"
                f" (raise the limit with {Limits.env_name('max_unzipped_mb')})"
            )

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.zf.open(name) as fh:
            while chunk := fh.read(_CHUNK):
                self._spend(name, len(chunk))
                yield chunk

    def small(self, name: str) -> Element:
        """A small part (workbook, relationships) parsed whole; DTDs refused."""
        data = b"".join(self._bounded(name, _MAX_SMALL_PART))
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise SheetRefused(f"{name} declares an XML DTD; workbooks never need one, refused")
        return fromstring(data)  # noqa: S314 - DTDs refused above, no external entities

    def _bounded(self, name: str, cap: int) -> Iterator[bytes]:
        size = 0
        for chunk in self.chunks(name):
            size += len(chunk)
            if size > cap:
                raise SheetRefused(f"{name} is larger than {cap >> 20} MiB; not a quotation part")
            yield chunk

    def pieces(self, name: str) -> Iterator[bytes]:
        """The part in pieces that each end after a ``</row>`` (or at the end)."""
        buf = b""
        for chunk in self.chunks(name):
            buf += chunk
            if b"<!DOCTYPE" in buf or b"<!ENTITY" in buf:
                raise SheetRefused(f"{name} declares an XML DTD; workbooks never need one, refused")
            cut = buf.rfind(b"</row>")
            if cut < 0:
                if len(buf) > _MAX_PIECE:
                    raise SheetRefused(f"{name}: a row of the sheet is larger than 32 MiB")
                continue
            cut += 6
            yield buf[:cut]
            buf = buf[cut:]
        if buf:
            yield buf


def read_cells(
    path: Path, preferred: tuple[str, ...] = ("quotation", "quote"), limits: Limits | None = None
) -> SheetCells:
    """The preferred sheet (else the first) with its formulas, within ``limits``."""
    lim = limits or Limits.from_env()
    try:
        size = path.stat().st_size
        if size > lim.max_file_bytes:
            raise SheetRefused(
                too_big("the file", size, lim.max_file_bytes, "max_file_mb", " bytes")
            )
        with zipfile.ZipFile(path) as zf:
            parts = _Part(zf, lim)
            names = set(zf.namelist())
            wb = parts.small("xl/workbook.xml")
            rels = parts.small("xl/_rels/workbook.xml.rels")
            targets = {r.get("Id"): r.get("Target", "") for r in rels}
            sheets: list[tuple[str, str]] = []
            date1904 = False
            for el in wb.iter():
                name = _local(el.tag)
                if name == "workbookPr":
                    date1904 = el.get("date1904", "0") in ("1", "true")
                elif name == "sheet":
                    rid = el.get(_REL) or el.get(_REL_STRICT)
                    target = targets.get(rid, "")
                    full = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join("xl", target))
                    )
                    sheets.append((el.get("name", ""), full))
            if not sheets:
                raise XlsxError("the workbook has no sheets")
            chosen = next((s for s in sheets if s[0].strip().lower() in preferred), sheets[0])
            if chosen[1] not in names:
                raise XlsxError(f"sheet '{chosen[0]}' is missing from the file")
            shared = _shared_strings(parts) if "xl/sharedStrings.xml" in names else []
            cells = Cells(shared, lim)
            try:
                _read_part(lambda: parts.pieces(chosen[1]), cells)
            except SheetRefused as exc:
                exc.sheet = chosen[0]
                raise
    except XlsxError:
        raise
    except (zipfile.BadZipFile, KeyError, ParseError, OSError, EOFError, ValueError) as exc:
        raise XlsxError(f"{type(exc).__name__}: {exc}") from exc
    return SheetCells(chosen[0], cells.grid(), date1904, cells)


def _shared_strings(parts: _Part) -> list[str]:
    """Every ``<si>`` as text (rich text runs joined, phonetic runs skipped), streamed."""
    out: list[str] = []
    run: list[str] = []
    state = {"in_t": 0, "phonetic": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        if name == "si":
            run.clear()
        elif name == "rPh":
            state["phonetic"] += 1
        elif name == "t" and not state["phonetic"]:
            state["in_t"] = 1

    def end(name: str) -> None:
        if name == "si":
            out.append("".join(run))
            if len(out) > parts.limits.max_cells:
                raise SheetRefused(
                    "xl/sharedStrings.xml: "
                    + too_big("the string table", len(out), parts.limits.max_cells, "max_cells")
                )
        elif name == "rPh":
            state["phonetic"] -= 1
        elif name == "t":
            state["in_t"] = 0

    def text(data: str) -> None:
        if state["in_t"]:
            run.append(data)

    parse_xml(parts.pieces("xl/sharedStrings.xml"), start, end, text)
    return out


_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)
_TYPE = re.compile(rb'\bt="([^"]*)"')
_V = re.compile(rb"<v>([^<]*)</v>")
_T = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_F = re.compile(rb"<f((?:\s[^>]*?)?)(?:/>|>([^<]*)</f>)")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')


def _rows(data: bytes, shared: list[str], limits: Limits | None = None) -> list[list[object]]:
    """The rows of one sheet's XML given whole (tests and small callers)."""
    cells = Cells(shared, limits or Limits.from_env())
    _read_part(lambda: iter((data,)), cells)
    return cells.grid()


def _read_part(pieces: Callable[[], Iterator[bytes]], cells: Cells) -> None:
    """Plain SpreadsheetML (``<c r="A1" …>``) is read with regular expressions, piece by piece;
    anything else (prefixed tags, other attribute order, rich inline text) with expat."""
    try:
        for piece in pieces():
            _plain(piece, cells)
        if cells.count or cells.formulas:
            return
    except _NotPlain:
        pass
    cells.rows.clear()
    cells.formulas.clear()
    cells.ranges.clear()
    cells.masters.clear()
    cells.count = cells.max_row = cells.max_col = 0
    handler = SheetHandler(cells)
    parse_xml(pieces(), handler.start, handler.end, handler.text)


class _NotPlain(Exception):
    """A piece the regular expressions cannot read exactly."""


def _plain(data: bytes, cells: Cells) -> None:
    found = _CELL.findall(data)
    if len(found) != data.count(b"<c ") + data.count(b"<c>"):
        raise _NotPlain
    rows, shared, limit = cells.rows, cells.shared, cells.limits.max_cells
    short = cells.shared_fit()
    max_chars = cells.limits.max_cell_chars
    columns = cells.columns
    top = 0
    count = cells.count
    for letters, digits, attrs, inner in found:
        if not inner:
            continue
        kind_m = _TYPE.search(attrs) if b"t=" in attrs else None
        kind_b = kind_m.group(1) if kind_m else b"n"
        if b"<f" not in inner:
            # the common cell, inline: no formula
            value: object
            if kind_b == b"inlineStr":
                if b"<rPh" in inner:
                    raise _NotPlain
                text = b"".join(_T.findall(inner)).decode("utf-8")
                text = html.unescape(text) if "&" in text else text
                value = text if len(text) <= max_chars else cells.value("", "inlineStr", None, text)
            else:
                m = _V.search(inner)
                if m is None:
                    continue
                v = m.group(1).decode("utf-8")
                if (
                    kind_b == b"s"
                    and short
                    and v.isascii()
                    and v.isdigit()
                    and len(v) < 10
                    and int(v) < len(shared)
                ):
                    value = shared[int(v)]
                elif kind_b == b"n" and v.isascii() and v.isdigit() and len(v) < 16:
                    value = int(v)
                else:
                    v = html.unescape(v) if "&" in v else v
                    value = cells.value((letters + digits).decode(), kind_b.decode(), v, None)
            col = columns.get(letters)
            row = int(digits)
            if col is None or row > top:
                row, col = cells.place(letters, digits)
                top = cells.max_row
            count += 1
            if count > limit:
                cells.count = count
                cells.too_many((letters + digits).decode())
            rows.setdefault(row, {})[col] = value
            continue
        kind = kind_b.decode()
        fm = _F.search(inner)
        if fm is None:
            raise _NotPlain
        formula = {k.decode(): html.unescape(x.decode()) for k, x in _ATTR.findall(fm[1])}
        formula[""] = html.unescape((fm[2] or b"").decode("utf-8"))
        m = _V.search(inner)
        v_text = html.unescape(m.group(1).decode("utf-8")) if m is not None else None
        inline: str | None = None
        if kind == "inlineStr":
            inline = html.unescape(b"".join(_T.findall(inner)).decode("utf-8"))
        cells.count = count
        cells.add((letters + digits).decode(), kind, v_text, inline, formula)
        count = cells.count
    cells.count = count
