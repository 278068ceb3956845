"""A small, fast XLSX cell-value reader (zipfile + ElementTree), for quotation workbooks.

openpyxl's read-only mode costs ~10 µs per cell; quotations are plain grids of values, so this
reader parses the sheet XML directly (cached formula values, shared and inline strings, numbers,
booleans). Dates come back as Excel serial numbers; :func:`excel_date` converts them where a
date is expected. Anything it does not understand raises :class:`XlsxError`.
"""

from __future__ import annotations

import datetime as dt
import html
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser, fromstring

__all__ = ["XlsxError", "excel_date", "read_sheet"]

_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REL_STRICT = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
_REF = re.compile(r"([A-Z]+)(\d+)")


class XlsxError(ValueError):
    """The file is not a workbook this reader can read."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: Element) -> str:
    """All text of <t> descendants (rich text runs joined), phonetic runs skipped."""
    out: list[str] = []
    for node in el.iter():
        name = _local(node.tag)
        if name == "t" and node.text:
            out.append(node.text)
        elif name == "rPh":
            node.clear()
    return "".join(out)


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


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
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            wb = _xml(zf.read("xl/workbook.xml"))
            rels = _xml(zf.read("xl/_rels/workbook.xml.rels"))
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
            shared = _shared_strings(zf) if "xl/sharedStrings.xml" in names else []
            rows = _rows(_no_dtd(zf.read(chosen[1])), shared)
    except (zipfile.BadZipFile, KeyError, ParseError, OSError, EOFError) as exc:
        raise XlsxError(f"{type(exc).__name__}: {exc}") from exc
    return chosen[0], rows, date1904


def _no_dtd(data: bytes) -> bytes:
    """Workbook parts never carry a DTD; refusing one rules out entity-expansion attacks."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XlsxError("the workbook contains an XML DTD; refused")
    return data


def _xml(data: bytes) -> Element:
    return fromstring(_no_dtd(data))  # noqa: S314 - DTDs refused above, no external entities


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    root = _xml(zf.read("xl/sharedStrings.xml"))
    return [_text(si) for si in _children(root, "si")]


_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)
_TYPE = re.compile(rb'\bt="([^"]*)"')
_V = re.compile(rb"<v>([^<]*)</v>")
_T = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")


def _rows(data: bytes, shared: list[str]) -> list[list[object]]:
    """Cells of a sheet; plain SpreadsheetML (``<c r="A1" …>``) is read with regular expressions,
    anything else (prefixed tags, other attribute order) with ElementTree."""
    cells = _CELL.findall(data)
    if not cells or len(cells) != data.count(b"<c ") + data.count(b"<c>"):
        return _rows_tree(data, shared)
    rows: dict[int, dict[int, object]] = {}
    columns: dict[bytes, int] = {}
    for letters, number, attrs, inner in cells:
        kind_m = _TYPE.search(attrs) if b"t=" in attrs else None
        kind = kind_m.group(1) if kind_m else b"n"
        value: object = None
        if kind == b"inlineStr":
            value = html.unescape(b"".join(_T.findall(inner)).decode("utf-8"))
        elif inner:
            v = _V.search(inner)
            if v is not None:
                text = v.group(1).decode("utf-8")
                if kind == b"s":
                    value = shared[int(text)]
                elif kind in (b"str", b"e", b"d"):
                    value = html.unescape(text)
                elif kind == b"b":
                    value = text.strip() in ("1", "true")
                else:
                    value = float(text) if any(ch in text for ch in ".eE") else int(text)
        if value is not None:
            col = columns.get(letters)
            if col is None:
                col = columns[letters] = _column(letters.decode())
            rows.setdefault(int(number), {})[col] = value
    return _grid(rows)


def _grid(rows: dict[int, dict[int, object]]) -> list[list[object]]:
    if not rows:
        return []
    out: list[list[object]] = []
    for r in range(1, max(rows) + 1):
        cells = rows.get(r, {})
        width = max(cells) + 1 if cells else 0
        out.append([cells.get(c) for c in range(width)])
    return out


def _rows_tree(data: bytes, shared: list[str]) -> list[list[object]]:
    rows: dict[int, dict[int, object]] = {}
    parser: XMLPullParser[Element] = XMLPullParser(events=("end",))
    parser.feed(data)
    parser.close()
    events = cast("Iterator[tuple[str, object]]", parser.read_events())
    for _event, el in events:
        if not isinstance(el, Element) or _local(el.tag) != "c":
            continue
        ref = el.get("r", "")
        m = _REF.fullmatch(ref)
        if not m:
            raise XlsxError(f"cell without a reference ({ref!r})")
        col, row = _column(m.group(1)), int(m.group(2))
        kind = el.get("t", "n")
        value: object = None
        if kind == "inlineStr":
            value = _text(el)
        else:
            v = next((c.text for c in el if _local(c.tag) == "v"), None)
            if v is not None:
                if kind == "s":
                    value = shared[int(v)]
                elif kind in ("str", "e", "d"):
                    value = v
                elif kind == "b":
                    value = v.strip() in ("1", "true")
                else:
                    value = float(v) if any(ch in v for ch in ".eE") else int(v)
        if value is not None:
            rows.setdefault(row, {})[col] = value
        el.clear()
    return _grid(rows)
