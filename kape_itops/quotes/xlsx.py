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
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

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

_MAX_SHEETS = 10_000
_CHUNK = 1 << 20
_MAX_PIECE = 16 << 20
_MAX_SMALL_PART = 8 << 20


@dataclass(frozen=True, slots=True)
class SheetCells:
    """One sheet as read: its name, rows of values, date system and formulas."""

    name: str
    rows: list[list[object]]
    date1904: bool
    cells: Cells


def _ignore(*_args: object) -> None:
    return None


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

    def chunks(self, name: str) -> Generator[bytes]:
        with self.zf.open(name) as fh:
            while chunk := fh.read(_CHUNK):
                self._spend(name, len(chunk))
                yield chunk

    def elements(self, name: str, wanted: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
        """(local name, attributes) of the ``wanted`` elements of a small part (workbook,
        relationships); DTDs refused."""
        out: list[tuple[str, dict[str, str]]] = []

        def start(local: str, attrs: dict[str, str]) -> None:
            if local in wanted:
                out.append((local, attrs))
                if len(out) > _MAX_SHEETS:
                    raise SheetRefused(f"{name}: more than {_MAX_SHEETS:,} sheets or relationships")

        parse_xml(self._bounded(name, _MAX_SMALL_PART), start, _ignore, _ignore, name)
        return out

    def _bounded(self, name: str, cap: int) -> Iterator[bytes]:
        size = 0
        for chunk in self.chunks(name):
            size += len(chunk)
            if size > cap:
                raise SheetRefused(f"{name} is larger than {cap >> 20} MiB; not a quotation part")
            yield chunk

    def pieces(self, name: str) -> Generator[bytes]:
        """The part in pieces that each end after a ``</row>`` (or at the end)."""
        buf = b""
        for chunk in self.chunks(name):
            buf += chunk
            if b"<!DOCTYPE" in buf or b"<!ENTITY" in buf:
                raise SheetRefused(f"{name} declares an XML DTD; workbooks never need one, refused")
            cut = buf.rfind(b"</row>")
            if cut < 0:
                if len(buf) > _MAX_PIECE:
                    raise SheetRefused(f"{name}: one row of the sheet is larger than 16 MiB")
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
            wb = parts.elements("xl/workbook.xml", ("workbookPr", "sheet"))
            rels = parts.elements("xl/_rels/workbook.xml.rels", ("Relationship",))
            targets = {a.get("Id"): a.get("Target", "") for _, a in rels}
            sheets: list[tuple[str, str]] = []
            date1904 = False
            for name, attrs in wb:
                if name == "workbookPr":
                    date1904 = attrs.get("date1904", "0") in ("1", "true")
                else:
                    rid = next((v for k, v in attrs.items() if k.endswith("relationships}id")), "")
                    target = targets.get(rid, "")
                    full = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join("xl", target))
                    )
                    sheets.append((attrs.get("name", ""), full))
            if not sheets:
                raise XlsxError("the workbook has no sheets")
            chosen = next((s for s in sheets if s[0].strip().lower() in preferred), sheets[0])
            if chosen[1] not in names:
                raise XlsxError(f"sheet '{chosen[0]}' is missing from the file")
            shared = _shared_strings(parts) if "xl/sharedStrings.xml" in names else []
            cells = Cells(shared, lim)
            try:
                _read_part(lambda: parts.pieces(chosen[1]), cells, chosen[1])
            except SheetRefused as exc:
                exc.sheet = chosen[0]
                raise
    except XlsxError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as exc:
        raise XlsxError(f"{type(exc).__name__}: {exc}") from exc
    return SheetCells(chosen[0], cells.grid(), date1904, cells)


def _shared_strings(parts: _Part) -> list[str]:
    """Every ``<si>`` as text (rich text runs joined, phonetic runs skipped), streamed."""
    out: list[str] = []
    run: list[str] = []
    state = {"in_t": 0, "phonetic": 0, "chars": 0}
    limit = parts.limits.max_cell_chars

    def start(name: str, _attrs: dict[str, str]) -> None:
        if name == "si":
            run.clear()
            state["chars"] = 0
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
            state["chars"] += len(data)
            if state["chars"] > limit:
                why = too_big("the text", state["chars"], limit, "max_cell_chars", " characters")
                raise SheetRefused(f"xl/sharedStrings.xml, string {len(out)}: {why}")

    name = "xl/sharedStrings.xml"
    parse_xml(parts.chunks(name), start, end, text, name)
    return out


# a cell's content never runs past the next cell: linear time on unclosed cells
_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"([^>]*?)(?:/>|>([^<]*(?:<(?!/c>|c[ >/])[^<]*)*)</c>)'
)
_TYPE = re.compile(rb'\bt="([^"]*)"')
_V = re.compile(rb"<v>([^<]*)</v>")
_T = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_F = re.compile(rb"<f((?:\s[^>]*?)?)(?:/>|>([^<]*)</f>)")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')


def _rows(data: bytes, shared: list[str], limits: Limits | None = None) -> list[list[object]]:
    """The rows of one sheet's XML given whole (tests and small callers)."""
    cells = Cells(shared, limits or Limits.from_env())

    def whole() -> Generator[bytes]:
        yield data

    _read_part(whole, cells, "sheet")
    return cells.grid()


def _read_part(pieces: Callable[[], Generator[bytes]], cells: Cells, part: str) -> None:
    """Plain SpreadsheetML (``<c r="A1" …>``) is read with regular expressions, piece by piece;
    anything else (prefixed tags, other attribute order, rich inline text) with expat."""
    try:
        with closing(pieces()) as plain:
            for n, piece in enumerate(plain):
                if n == 0 and not _utf8(piece):
                    raise _NotPlain
                _plain(piece, cells)
        if cells.count or cells.formulas:
            return
    except _NotPlain:
        pass
    cells.columns.clear()
    cells.rows.clear()
    cells.formulas.clear()
    cells.ranges.clear()
    cells.masters.clear()
    cells.count = cells.max_row = cells.max_col = 0
    handler = SheetHandler(cells)
    parse_xml(pieces(), handler.start, handler.end, handler.text, part)


def _utf8(first: bytes) -> bool:
    """Whether a part is UTF-8 (as the regular expressions read it): no other byte-order mark
    and no other encoding declared. UTF-16 goes to expat; UTF-7 and the like are refused."""
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first[:200]:
        return False
    head = first.removeprefix(b"\xef\xbb\xbf")[:200]
    if not head.startswith(b"<?xml"):
        return True
    m = re.search(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", head.split(b"?>", 1)[0])
    return m is None or m.group(1).lower() in (b"utf-8", b"utf8")


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
                value = (
                    text
                    if len(text) <= max_chars
                    else cells.value((letters + digits).decode(), "inlineStr", None, text)
                )
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
