"""The grid of a quotation file (XLSX or CSV), read within :class:`~kape_itops.limits.Limits`.

XLSX is read by the fast reader (:mod:`.xlsx`); a workbook it does not understand goes through
:func:`~kape_itops.xlsxguard.check_xlsx` and then openpyxl. Both see formulas: a quotation is
scored on values, and a cell's cached value may differ from what its formula computes (what
Excel shows), so :mod:`.readers` refuses a formula in any cell it reads. Hostile content (a DTD,
a cell at row 99,999,999, a bad shared-string index, ``inf``) is refused naming file and cell.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from pathlib import Path

from kape_itops.domain.text import reveal
from kape_itops.errors import DataError, Issue, ValidationFailed
from kape_itops.limits import Limits, too_big
from kape_itops.quotes.khmer import visible
from kape_itops.quotes.xlsx import Formula, SheetRefused, XlsxError, read_cells
from kape_itops.quotes.xlsxcells import Cells
from kape_itops.xlsxguard import XlsxRefused as GuardRefused
from kape_itops.xlsxguard import check_xlsx

__all__ = [
    "Sheet",
    "column_letter",
    "formula_text",
    "read_csv",
    "read_formulas",
    "read_xlsx",
    "shown",
]

Span = tuple[int, int, int, int, Formula]
"""An array formula's range: first row, first column, last row, last column (rows from 1)."""

SHOWN = 40
"""Characters of an offending value quoted in a message."""


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def shown(text: str) -> str:
    """At most :data:`SHOWN` characters of ``text``."""
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def formula_text(f: Formula, ref: str) -> str:
    """The formula as the cell at ``ref`` states it (shared formulas moved to it), shortened."""
    text = f.text
    if f.shared and f.shared != ref and text != "=":
        from openpyxl.formula.translate import Translator, TranslatorError

        try:
            text = str(Translator(text, origin=f.shared).translate_formula(ref))
        except (TranslatorError, ValueError):
            text = f"{text} (shared from {f.shared})"
    if f.span:
        return f"{shown(text)} (array formula over {f.span})"
    return shown(text)


class Sheet:
    """Rows of one sheet with the naming used in messages, and the formula of any cell."""

    def __init__(
        self,
        path: Path,
        sheet: str | None,
        rows: list[list[object]],
        date1904: bool = False,
        formulas: Mapping[tuple[int, int], Formula] | None = None,
        ranges: Sequence[Span] = (),
    ) -> None:
        self.date1904 = date1904
        self.path = path
        self.sheet = sheet
        self.rows = rows
        self.where = _where(path, sheet)
        self.formulas = formulas or {}
        self.ranges = ranges

    def issue(
        self, row: int | None, col: int | None, header: str, value: object, why: str
    ) -> Issue:
        column = f"{column_letter(col)} ({header})" if col is not None else header or None
        text = None if value is None else _text(value)
        return Issue(self.where, row, column, None if text is None else shown(text), why)


def _where(path: Path, sheet: str | None) -> str:
    """``path, sheet 'name'`` with control and bidi characters shown as escapes."""
    return reveal(f"{path}, sheet '{sheet}'" if sheet else str(path), newlines=False)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return reveal(visible(str(value)).strip(), newlines=False)


def _from_cells(path: Path, name: str, rows: list[list[object]], d1904: bool, c: Cells) -> Sheet:
    return Sheet(path, name, rows, d1904, c.formulas, c.ranges)


def read_formulas(
    sheet: Sheet, last_head: int, item_col: int | None, labelled: Sequence[int], items: list[int]
) -> list[tuple[int, int, Formula]]:
    """(row, column, formula) of each formula in a cell the evaluation reads: any cell of rows
    up to ``last_head``, the item column below it, and the ``labelled`` columns of the rows
    with an item (``items``, ascending). An array formula counts once, at its first such cell;
    time grows with the formulas, not with the cells they cover."""
    with_item = set(items)
    hits = {
        (r, c): f
        for (r, c), f in sheet.formulas.items()
        if r <= last_head or c == item_col or (c in labelled and r in with_item)
    }
    for r1, c1, r2, c2, f in sheet.ranges:
        hit: tuple[int, int] | None = None
        cols = [c for c in labelled if c1 <= c <= c2]
        if r1 <= last_head:
            hit = (r1, c1)
        elif item_col is not None and c1 <= item_col <= c2:
            hit = (r1, item_col)
        elif cols:
            i = bisect_left(items, r1)
            hit = (items[i], cols[0]) if i < len(items) and items[i] <= r2 else None
        if hit is not None:
            hits.setdefault(hit, f)
    return [(r, c, f) for (r, c), f in sorted(hits.items(), key=lambda kv: kv[0])]


def read_xlsx(path: Path, limits: Limits) -> Sheet:
    """The fast reader first; openpyxl (after the guard) for workbooks it does not understand."""
    try:
        got = read_cells(path, limits=limits)
    except SheetRefused as exc:
        if exc.ref is None:
            raise DataError(f"{path}: {exc.reason}") from None
        where = _where(path, exc.sheet)
        row = int("".join(ch for ch in exc.ref if ch.isdigit())[:12] or 0)
        col = "".join(ch for ch in exc.ref if ch.isalpha())[:4]
        issue = Issue(where, row, col, None if exc.value is None else shown(exc.value), exc.reason)
        raise ValidationFailed([issue], f"{where}: refused") from None
    except XlsxError as fast_error:
        try:
            check_xlsx(path, limits, str(path))
        except GuardRefused as exc:
            raise DataError(f"{path}: cannot read the workbook: {exc.reason}") from None
        try:
            return _read_openpyxl(path, limits)
        except DataError as exc:
            if isinstance(exc, ValidationFailed):
                raise
            fast = shown(str(fast_error))
            raise DataError(f"{path}: cannot read the workbook ({fast}; {exc})") from fast_error
    return _from_cells(path, got.name, got.rows, got.date1904, got.cells)


class _OpenpyxlError(DataError):
    """openpyxl could not read the workbook either."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"openpyxl: {type(exc).__name__}: {shown(str(exc))}")


class _StrictStrings(list[str]):
    """A shared-string table that refuses negative indices (Python would count from the end)."""

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        if not isinstance(i, int) or i < 0:
            raise IndexError(f"shared string {i} does not exist")
        return super().__getitem__(i)


def _read_openpyxl(path: Path, limits: Limits) -> Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    bad = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, IndexError)
    rows: list[list[object]] = []
    cells = Cells([], limits)
    name = ""
    for data_only in (True, False):
        try:
            wb = load_workbook(path, read_only=True, data_only=data_only)
        except bad as exc:
            raise _OpenpyxlError(exc) from exc
        try:
            names = wb.sheetnames
            name = next((n for n in names if n.strip().lower() in ("quotation", "quote")), names[0])
            ws = wb[name]
            # openpyxl indexes its shared-string list directly: make "-1" an error, not the last
            ws._shared_strings = _StrictStrings(ws._shared_strings)
            it = ws.iter_rows(max_row=limits.max_rows, max_col=limits.max_columns)
            for r, row in enumerate(it, start=1):
                if data_only:
                    rows.append(_values(path, name, r, row, limits))
                    continue
                for cell in row:
                    v = cell.value
                    if getattr(cell, "data_type", None) != "f" or v is None:
                        continue
                    ref = f"{column_letter(cell.column - 1)}{r}"
                    f = {"": str(v)[1:]} if isinstance(v, str) else {"": ""}
                    if isinstance(v, ArrayFormula):
                        f = {"": str(v.text or "")[1:], "t": "array", "ref": str(v.ref)}
                    elif isinstance(v, DataTableFormula):
                        f = {"": "", "t": "dataTable", "ref": str(v.ref)}
                    cells.add(ref, "n", None, None, f)
        except SheetRefused as exc:
            raise DataError(f"{_where(path, name)}: {exc}") from None
        except bad as exc:
            raise _OpenpyxlError(exc) from exc
        finally:
            wb.close()
    while rows and not rows[-1]:
        rows.pop()
    return _from_cells(path, name, rows, False, cells)


def _values(path: Path, sheet: str, r: int, row: tuple[object, ...], lim: Limits) -> list[object]:
    out = [getattr(c, "value", None) for c in row]
    while out and out[-1] is None:
        out.pop()
    for c, v in enumerate(out):
        if isinstance(v, float) and not math.isfinite(v):
            where = _where(path, sheet)
            issue = Issue(where, r, column_letter(c), shown(str(v)), "not a finite number")
            raise ValidationFailed([issue], f"{where}: refused")
        if isinstance(v, str) and len(v) > lim.max_cell_chars:
            raise DataError(
                f"{_where(path, sheet)}, cell {column_letter(c)}{r}: "
                + too_big("the text", len(v), lim.max_cell_chars, "max_cell_chars", " characters")
            )
    return out


def read_csv(path: Path, limits: Limits) -> Sheet:
    """A CSV quotation (UTF-8); quoted cells keep their line breaks."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise DataError(
                f"{path}: "
                + too_big("the file", size, limits.max_file_bytes, "max_file_mb", " bytes")
            )
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the CSV file ({exc})") from exc
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise DataError(f"{path}, line {line}: not valid CSV (a NUL character; not a text file?)")
    rows: list[list[object]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            n = len(rows) + 1
            if n > limits.max_rows:
                raise DataError(
                    f"{path}, row {n}: "
                    + too_big("the file", n, limits.max_rows, "max_rows", " rows")
                )
            if len(record) > limits.max_columns:
                raise DataError(
                    f"{path}, row {n}: "
                    + too_big("the row", len(record), limits.max_columns, "max_columns", " columns")
                )
            for c, value in enumerate(record):
                if len(value) > limits.max_cell_chars:
                    raise DataError(
                        f"{path}, row {n}, column {column_letter(c)}: "
                        + too_big(
                            "the text",
                            len(value),
                            limits.max_cell_chars,
                            "max_cell_chars",
                            " characters",
                        )
                    )
            rows.append(list(record))
    except csv.Error as exc:
        raise DataError(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from None
    return Sheet(path, None, rows)
