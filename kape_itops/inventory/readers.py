"""Import file readers: CSV (streamed, strict UTF-8), XLSX (streamed), JSON.

A reader turns one table (a CSV file, a workbook sheet, a JSON list) into a header and
numbered rows of cell text. Row numbers are what a person sees: the line of a CSV record, the
sheet row of an XLSX cell, the 1-based position in a JSON list. CSV and XLSX cells have the
export's formula neutralisation undone (:func:`kape_itops.inventory.cells.from_cell`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kape_itops.domain.fields import DEVICE_COLUMNS, SCHOOL_COLUMNS
from kape_itops.errors import Issue, UsageError, ValidationFailed
from kape_itops.inventory.bounds import bounded, check_size, json_depth, reject, too_deep
from kape_itops.inventory.cells import from_cell
from kape_itops.limits import Limits
from kape_itops.xlsxguard import XlsxRefused, check_xlsx

Entity = Literal["schools", "devices"]
Format = Literal["csv", "xlsx", "json"]

ENTITIES: tuple[Entity, ...] = ("schools", "devices")
KEY_COLUMN: dict[Entity, str] = {"schools": "code", "devices": "asset_tag"}
COLUMNS: dict[Entity, tuple[str, ...]] = {"schools": SCHOOL_COLUMNS, "devices": DEVICE_COLUMNS}
HEADER_SCAN_ROWS = 10
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Source:
    """One table to import: a file, and the sheet or JSON key inside it."""

    path: Path
    fmt: Format
    entity: Entity
    part: str | None = None

    @property
    def label(self) -> str:
        """How messages name it: ``devices.csv`` or ``inventory.xlsx [devices]``."""
        return f"{self.path.name} [{self.part}]" if self.part else self.path.name


@dataclass(slots=True)
class Table:
    """An opened table: header and the data rows that follow it."""

    source: Source
    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    notes: list[Issue] = field(default_factory=list)

    def column_name(self, index: int) -> str:
        """A column as a person finds it: the letter in XLSX, the number in CSV/JSON."""
        return _column_name(self.source.fmt, index)


def _column_name(fmt: Format, index: int) -> str:
    if fmt == "xlsx":
        from openpyxl.utils import get_column_letter

        return str(get_column_letter(index + 1)) if index < 16384 else str(index + 1)
    return str(index + 1)


def normalise_header(cell: str) -> str:
    """Header text as a column name: trimmed, lower case, inner spaces and dashes as '_'."""
    return "_".join(cell.strip().lower().replace("-", " ").split())


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _reject(label: str, row: int | None, reason: str) -> ValidationFailed:
    return reject(label, row, reason)


# -- discovery ---------------------------------------------------------------------------------
def discover(path: Path) -> list[Source]:
    """The tables under ``path``: a folder, one CSV, an XLSX workbook or a JSON export."""
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if path.is_dir():
        names = {p.name.lower(): p for p in path.iterdir() if p.is_file()}
        found = [Source(names[f"{e}.csv"], "csv", e) for e in ENTITIES if f"{e}.csv" in names]
        if not found:
            raise UsageError(f"folder {path} holds neither schools.csv nor devices.csv")
        return found
    check_size(path, path.name, Limits.from_env())
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets = _xlsx_sheets(path)
        found = [Source(path, "xlsx", e, sheets[e]) for e in ENTITIES if e in sheets]
        if not found:
            raise _reject(
                path.name,
                None,
                "the workbook needs a sheet named 'schools' and/or 'devices' "
                f"(found: {', '.join(sheets.values()) or 'none'})",
            )
        return found
    if suffix == ".json":
        data = _json_load(path)
        found = [Source(path, "json", e, e) for e in ENTITIES if e in data]
        if not found:
            raise _reject(path.name, None, "the JSON object needs a 'schools' or 'devices' list")
        return found
    if suffix in (".csv", ".txt", ".tsv") or not suffix:
        return [Source(path, "csv", _csv_entity(path))]
    raise UsageError(f"{path.name}: unsupported file type; use a folder, .csv, .xlsx or .json")


def _csv_entity(path: Path) -> Entity:
    """Tell a schools CSV from a devices CSV by its header."""
    with path.open("rb") as fh:
        for n, (_row, cells) in enumerate(_csv_records(_csv_lines(fh, path.name), path.name)):
            names = {normalise_header(c) for c in cells}
            if "asset_tag" in names:
                return "devices"
            if "code" in names:
                return "schools"
            if n >= HEADER_SCAN_ROWS:
                break
    raise _reject(
        path.name,
        None,
        "cannot tell a schools file from a devices file: the header needs an 'asset_tag' "
        "(devices) or a 'code' (schools) column",
    )


# -- opening -----------------------------------------------------------------------------------
@contextmanager
def open_table(source: Source) -> Iterator[Table]:
    """Open a table; rows are streamed (CSV, XLSX) and the file is closed on exit."""
    check_size(source.path, source.label, Limits.from_env())
    if source.fmt == "csv":
        with source.path.open("rb") as fh:
            records = _csv_records(_csv_lines(fh, source.label), source.label)
            yield _table(source, ((r, [_csv_cell(c) for c in cells]) for r, cells in records))
    elif source.fmt == "xlsx":
        wb = _xlsx_open(source.path)
        try:
            ws = wb[source.part]
            ws.reset_dimensions()  # some writers store no or wrong sheet dimensions
            yield _table(source, _xlsx_rows(source.label, ws.iter_rows(values_only=True)))
        finally:
            wb.close()
    else:
        data = _json_load(source.path)
        yield _json_table(source, data.get(source.entity))


def _table(source: Source, records: Iterator[tuple[int, list[str]]]) -> Table:
    """Find the header (the first row holding the key column, within the first rows)."""
    records = bounded(
        records, source.label, Limits.from_env(), lambda i: _column_name(source.fmt, i)
    )
    key = KEY_COLUMN[source.entity]
    skipped: list[int] = []
    for row, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if key in {normalise_header(c) for c in cells}:
            notes = [
                Issue(
                    source.label,
                    r,
                    None,
                    None,
                    "row skipped: it comes before the header row (a title or merged cells?)",
                    "warning",
                )
                for r in skipped
            ]
            return Table(source, row, list(cells), _non_blank(records), notes)
        skipped.append(row)
        if len(skipped) >= HEADER_SCAN_ROWS:
            break
    raise _reject(
        source.label,
        skipped[0] if skipped else None,
        f"no header row with a '{key}' column"
        + (f" in the first {HEADER_SCAN_ROWS} rows" if skipped else " (the table is empty)"),
    )


def _non_blank(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    for row, cells in records:
        if any(c.strip() for c in cells):
            yield row, cells


# -- CSV ---------------------------------------------------------------------------------------
def _csv_lines(lines: Iterable[bytes], label: str) -> Iterator[str]:
    """Decode physical lines as strict UTF-8 (a leading BOM is dropped, CRLF is kept for csv).

    UTF-8 never uses the newline byte inside a character, so decoding line by line is exact
    and the failing byte offset and line can be named.
    """
    offset = 0
    for lineno, raw in enumerate(lines, 1):
        data = raw
        if lineno == 1 and data.startswith(BOM):
            data = data[len(BOM) :]
            offset += len(BOM)
        if lineno == 1 and data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _reject(
                label, 1, "the file is UTF-16 (Excel 'Unicode Text'); save it as 'CSV UTF-8'"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _reject(
                label,
                lineno,
                f"not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset "
                f"{offset + exc.start} (line {lineno}) cannot be decoded; "
                "save the file as 'CSV UTF-8'",
            ) from exc
        offset += len(data)
        yield text


def _delimiter(first: str) -> str:
    """Comma, or the semicolon/tab some spreadsheet locales write, judged by the first line."""
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _csv_records(lines: Iterator[str], label: str) -> Iterator[tuple[int, list[str]]]:
    head: list[str] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    delimiter = _delimiter(head[-1]) if head else ","
    reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _reject(label, reader.line_num, f"not valid CSV: {exc}") from exc
        yield start, cells


def _csv_cell(text: str) -> str:
    """A CSV cell as text: CRLF line breaks inside a quoted cell become LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return from_cell(text) if text[:1] == "'" else text


# -- XLSX --------------------------------------------------------------------------------------
_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, OverflowError)
"""What openpyxl raises on a damaged workbook (bad XML, values, references), beyond its own."""


def _xlsx_open(path: Path) -> Any:
    """The workbook, read-only, after :func:`~kape_itops.xlsxguard.check_xlsx` let it through."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        check_xlsx(path)
        return openpyxl.load_workbook(path, read_only=True, data_only=False)
    except XlsxRefused as exc:
        raise _reject(path.name, None, exc.reason) from None
    except (InvalidFileException, SyntaxError, OSError, *_XLSX_ERRORS) as exc:
        raise _reject(
            path.name, None, f"cannot read the file as an XLSX workbook: {str(exc)[:100]}"
        ) from None


def _xlsx_sheets(path: Path) -> dict[str, str]:
    """Sheet names by their lower-case, trimmed form."""
    wb = _xlsx_open(path)
    try:
        return {str(n).strip().lower(): str(n) for n in wb.sheetnames}
    finally:
        wb.close()


def _xlsx_rows(label: str, rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, list[str]]]:
    it = iter(rows)
    for n in itertools.count(1):
        try:
            values = next(it)
        except StopIteration:
            return
        except (SyntaxError, *_XLSX_ERRORS) as exc:
            raise _reject(label, n, f"the sheet cannot be read: {str(exc)[:100]}") from None
        yield n, [from_cell(xlsx_text(v)) for v in values]


def xlsx_text(value: object) -> str:
    """A cell value as text (a spreadsheet may have turned text into numbers or dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# -- JSON --------------------------------------------------------------------------------------
def _json_load(path: Path) -> dict[str, Any]:
    """The JSON object; numbers stay their exact text (no float rounding, no digit limit)."""
    limits = Limits.from_env()
    check_size(path, path.name, limits)
    try:
        data = json.loads(
            path.read_bytes().decode("utf-8-sig"),
            parse_float=str,
            parse_int=str,
            parse_constant=str,
        )
    except UnicodeDecodeError as exc:
        raise _reject(
            path.name, None, f"not UTF-8 text: byte offset {exc.start} cannot be decoded"
        ) from exc
    except json.JSONDecodeError as exc:
        raise _reject(path.name, exc.lineno, f"not valid JSON: {exc.msg}") from exc
    except RecursionError:
        raise too_deep(path.name, limits) from None
    if json_depth(data, limits.max_depth) > limits.max_depth:
        raise too_deep(path.name, limits)
    if not isinstance(data, dict):
        raise _reject(path.name, None, "expected a JSON object with 'schools' and/or 'devices'")
    return data


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_json_text(v) for v in value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _json_table(source: Source, items: object) -> Table:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _reject(source.label, None, f"'{source.entity}' must be a list of objects")
    limits = Limits.from_env()
    if len(items) > limits.max_rows:
        raise _reject(
            source.label,
            None,
            f"{len(items):,} items, over the limit of {limits.max_rows:,} rows "
            "(raise it with ITOPS_MAX_ROWS)",
        )
    seen: dict[str, None] = {} if items else dict.fromkeys(COLUMNS[source.entity])
    for n, item in enumerate(items, 1):
        seen.update(dict.fromkeys(item))
        if len(seen) > limits.max_columns:
            raise _reject(
                source.label,
                n,
                f"more than {limits.max_columns} different fields "
                "(raise the limit with ITOPS_MAX_COLUMNS)",
            )
    header = list(seen)
    rows = ((n, [_json_text(item.get(k)) for k in header]) for n, item in enumerate(items, 1))
    if KEY_COLUMN[source.entity] not in {normalise_header(h) for h in header} and items:
        raise _reject(source.label, None, f"no '{KEY_COLUMN[source.entity]}' field")
    checked = bounded(rows, source.label, limits, lambda i: _column_name("json", i))
    return Table(source, 0, header, _non_blank(checked))
