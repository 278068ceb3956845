"""Check an XLSX workbook before openpyxl opens it: zip bombs, DTDs, huge or sparse sheets.

An XLSX file is a zip of XML parts. A 1 MB file can unpack to gigabytes, declare entities
that expand a billion times (``<!ENTITY lol ...>``), or hold one cell at row 99,999,999 that
makes a reader yield a hundred million empty rows. :func:`check_xlsx` refuses all of these
with :class:`XlsxRefused` (a :class:`~kape_itops.errors.DataError`, one line), in time and
memory bounded by the :class:`~kape_itops.limits.Limits`:

1. the file size, the number of parts, their total unzipped size and each big part's
   compression ratio, from the zip's directory (the zip module never inflates a part past the
   size the directory declares);
2. every XML part is streamed through expat with no DTD allowed (``<!DOCTYPE``/``<!ENTITY``
   are refused, so no entity is ever expanded) and a nesting-depth limit;
3. in worksheets, the real extent: rows, the last column, rows x columns and the cell count,
   whatever the sheet's ``<dimension>`` claims; in worksheets and shared strings, each cell's
   text length.

Call it on every workbook that comes from outside, before ``openpyxl.load_workbook``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NoReturn
from xml.parsers import expat

from kape_itops.errors import DataError
from kape_itops.limits import Limits

MAX_PARTS = 10_000
"""Most members in one XLSX zip (Excel writes a few dozen)."""
RATIO_FLOOR = 1 << 20
"""Parts smaller than this (unzipped) are never refused for their compression ratio."""
CHUNK = 1 << 20
_XML_SIGNS = (b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_ODD_XML = (
    b"\x00\x00\x00<",
    b"<\x00\x00\x00",
    b"\x00\x00\xfe\xff",
    b"\xff\xfe\x00\x00",
    b"Lo\xa7\x94",
)
_COORD = re.compile(r"([A-Za-z]{1,3})(\d+)$")
_SHEET_TEXT = frozenset({"v", "t", "f"})


class XlsxRefused(DataError):
    """A workbook refused before it was opened; ``reason`` is the one-line explanation."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@lru_cache(maxsize=1024)
def column_number(letters: str) -> int:
    """``A`` -> 1, ``XFD`` -> 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@dataclass(slots=True)
class _Part:
    """Streaming state of one XML part."""

    name: str
    limits: Limits
    kind: str = ""
    depth: int = 0
    elements: int = 0
    row: int = 0
    col: int = 0
    max_row: int = 0
    max_col: int = 0
    cells: int = 0
    strings: int = 0
    text: int = 0
    in_text: int = 0
    """The depth of the element whose text is being counted (0: none)."""
    problems: list[str] = field(default_factory=list)


class _Stop(Exception):
    """Raised from an expat handler to stop at the first problem."""


@lru_cache(maxsize=512)
def _local(tag: str) -> str:
    return tag.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]


def _parser(st: _Part) -> expat.XMLParserType:
    lim = st.limits
    p = expat.ParserCreate(namespace_separator=" ")
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.buffer_text = True

    def refuse(reason: str) -> NoReturn:
        st.problems.append(reason)
        raise _Stop

    def doctype(*_args: object) -> NoReturn:
        refuse("declares a DTD (<!DOCTYPE ...>); entities and DTDs are not allowed in XLSX")

    def entity(*_args: object) -> NoReturn:
        refuse("declares an entity (<!ENTITY ...>); entities are not allowed in XLSX")

    def start(tag: str, attrs: dict[str, str]) -> None:
        st.depth += 1
        st.elements += 1
        if st.depth > lim.max_depth:
            refuse(f"XML nested deeper than {lim.max_depth} levels (ITOPS_MAX_DEPTH)")
        name = _local(tag)
        if st.depth == 1:
            st.kind = name
            return
        if st.elements > 5 * lim.max_cells + 100_000:
            refuse(f"more than {5 * lim.max_cells:,} XML elements (ITOPS_MAX_CELLS)")
        if st.kind == "worksheet":
            _sheet_element(st, name, attrs, refuse)
        elif st.kind == "sst" and name == "si":
            st.strings += 1
            st.text = 0
            st.in_text = st.depth
            if st.strings > lim.max_cells:
                refuse(f"more than {lim.max_cells:,} shared strings (ITOPS_MAX_CELLS)")

    def end(_tag: str) -> None:
        if st.in_text == st.depth:
            st.in_text = 0
        st.depth -= 1

    def chars(data: str) -> None:
        if st.in_text:
            st.text += len(data)
            if st.text > lim.max_cell_chars:
                where = f" (cell at row {st.row})" if st.kind == "worksheet" else ""
                refuse(
                    f"a cell text is longer than {lim.max_cell_chars:,} characters{where} "
                    "(ITOPS_MAX_CELL_CHARS)"
                )

    p.StartDoctypeDeclHandler = doctype
    p.EntityDeclHandler = entity
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    return p


def _sheet_element(
    st: _Part, name: str, attrs: dict[str, str], fail: Callable[[str], NoReturn]
) -> None:
    lim = st.limits
    if name == "row":
        r = attrs.get("r", "")
        if not r:
            st.row += 1
        elif r.isascii() and r.isdigit() and int(r[:12]) > 0:
            st.row = int(r[:12])
        else:
            fail(f"row number {r[:20]!r} is not valid")
        st.col = 0
        st.max_row = max(st.max_row, st.row)
        if st.row > lim.max_rows:
            fail(f"has a row {st.row:,}, over the limit of {lim.max_rows:,} rows (ITOPS_MAX_ROWS)")
    elif name == "c":
        ref = attrs.get("r", "")
        m = _COORD.match(ref) if ref else None
        if ref and m is None:
            fail(f"cell reference {ref[:20]!r} is not valid")
        st.col = column_number(m.group(1)) if m else st.col + 1
        if m and int(m.group(2)) > lim.max_rows:
            fail(f"has a cell {ref[:20]}, beyond row {lim.max_rows:,} (ITOPS_MAX_ROWS)")
        st.cells += 1
        st.max_col = max(st.max_col, st.col)
        if st.col > lim.max_columns:
            fail(
                f"has a cell in column {st.col:,} (row {st.row}), over the limit of "
                f"{lim.max_columns} columns (ITOPS_MAX_COLUMNS)"
            )
        if st.cells > lim.max_cells or st.max_row * st.max_col > lim.max_cells:
            fail(
                f"spans more than {lim.max_cells:,} cells ({st.max_row:,} rows x "
                f"{st.max_col} columns so far; ITOPS_MAX_CELLS)"
            )
    elif name in _SHEET_TEXT:
        st.text = 0
        st.in_text = st.depth


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Why the XML part ``info`` is refused, or None; non-XML parts (images) are skipped."""
    with zf.open(info) as fh:
        first = fh.read(CHUNK)
        if first.startswith(_ODD_XML):
            return "is XML in an unsupported encoding (use UTF-8)"
        if not first.lstrip(b" \t\r\n").startswith(_XML_SIGNS):
            return None
        st = _Part(info.filename, limits)
        parser = _parser(st)
        try:
            chunk = first
            while chunk:
                parser.Parse(chunk, False)
                chunk = fh.read(CHUNK)
            parser.Parse(b"", True)
        except _Stop:
            return st.problems[0]
        except expat.ExpatError as exc:
            return f"is not well-formed XML: {expat.ErrorString(exc.code)} (line {exc.lineno})"
        except (ValueError, LookupError) as exc:
            return f"cannot be read as XML: {str(exc)[:80]}"
    return None


def check_xlsx(path: Path, limits: Limits | None = None, label: str | None = None) -> None:
    """Refuse ``path`` with :class:`XlsxRefused` unless it is a workbook within the limits."""
    lim = limits or Limits.from_env()
    name = label or path.name
    key = _cache_key(path, lim)
    if key is not None and key in _checked:
        return
    size = path.stat().st_size
    if size > lim.max_file_bytes:
        raise XlsxRefused(
            name,
            f"the file is {size / 2**20:,.1f} MiB, over the limit of {lim.max_file_mb} MiB "
            "(raise it with ITOPS_MAX_FILE_MB)",
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_directory(name, infos, lim)
            for info in infos:
                if info.is_dir():
                    continue
                problem = _check_part(zf, info, lim)
                if problem:
                    raise XlsxRefused(name, f"part {info.filename[:60]!r}: {problem}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise XlsxRefused(
            name, f"cannot read the file as an XLSX workbook: {str(exc)[:80]}"
        ) from None
    except RuntimeError as exc:  # an encrypted part
        raise XlsxRefused(
            name, f"cannot read the file as an XLSX workbook: {str(exc)[:80]}"
        ) from None
    if key is not None:
        if len(_checked) > 64:
            _checked.clear()
        _checked.add(key)


def _check_directory(name: str, infos: list[zipfile.ZipInfo], lim: Limits) -> None:
    if len(infos) > MAX_PARTS:
        raise XlsxRefused(name, f"the zip holds {len(infos):,} parts, over {MAX_PARTS:,}")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > lim.max_zip_ratio:
            raise XlsxRefused(
                name,
                f"part {info.filename[:60]!r} unzips {ratio:,.0f} times its size, over the "
                f"limit of {lim.max_zip_ratio} (a zip bomb? raise it with ITOPS_MAX_ZIP_RATIO)",
            )
    if total > lim.max_unzipped_bytes:
        raise XlsxRefused(
            name,
            f"the workbook unzips to {total / 2**20:,.0f} MiB, over the limit of "
            f"{lim.max_unzipped_mb} MiB (raise it with ITOPS_MAX_UNZIPPED_MB)",
        )


_checked: set[tuple[object, ...]] = set()
"""Files already found good (path, size, mtime, inode, limits): an import opens one 3 times."""


def _cache_key(path: Path, lim: Limits) -> tuple[object, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, lim)
