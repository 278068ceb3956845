"""Export the inventory in exactly the import format: CSV folder, XLSX workbook or JSON.

Values are the canonical field text (:func:`kape_itops.domain.fields.to_text`); an empty cell
means "no change" on import, so export → edit → import changes only what was edited. CSV and
XLSX cells are neutralised against formula injection in a way the import undoes exactly. A
control or bidi character (which imports refuse, but an older database may hold) is written as
its escape (``\\x1b``), so the file re-imports and shows what was there.
Devices are streamed from the database, so memory stays flat.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from kape_itops.atomic import atomic_write, output_folder, save_workbook
from kape_itops.domain.fields import DEVICE_COLUMNS, SCHOOL_COLUMNS, to_text
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.domain.text import reveal
from kape_itops.errors import UsageError
from kape_itops.inventory.cells import to_cell
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

FORMAT_TAG = "kape-itops-inventory"


class ExportFormat(StrEnum):
    """Export file formats."""

    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


@dataclass(slots=True)
class ExportReport:
    """Files written and what they hold."""

    format: ExportFormat
    files: list[str] = field(default_factory=list)
    schools: int = 0
    devices: int = 0


def _school_rows(repo: InventoryRepo) -> Iterator[list[str]]:
    for s in repo.schools():
        yield [reveal(to_text(getattr(s, c))) for c in SCHOOL_COLUMNS]


def _device_rows(repo: InventoryRepo, flt: DeviceFilter | None) -> Iterator[list[str]]:
    for d in repo.iter_devices(flt):
        yield [reveal(to_text(getattr(d, c))) for c in DEVICE_COLUMNS]


def export_inventory(
    store: Store, path: Path, fmt: ExportFormat = ExportFormat.CSV, flt: DeviceFilter | None = None
) -> ExportReport:
    """Write the inventory to ``path``: a folder (csv) or a file (xlsx, json)."""
    report = ExportReport(fmt)
    if fmt == ExportFormat.CSV:
        if path.exists() and not path.is_dir():
            raise UsageError(
                f"{path} is a file; CSV export writes a folder (schools.csv, devices.csv)"
            )
        output_folder(path)
    elif path.is_dir():
        raise UsageError(f"{path} is a folder; {fmt.value} export writes one file")
    with store.session() as session:
        repo = InventoryRepo(session)
        if fmt == ExportFormat.CSV:  # both files are replaced, or neither
            schools, devices = path / "schools.csv", path / "devices.csv"
            with (
                atomic_write(schools, encoding="utf-8-sig", newline="") as sf,
                atomic_write(devices, encoding="utf-8-sig", newline="") as df,
            ):
                _csv(sf, SCHOOL_COLUMNS, _school_rows(repo), report, "schools")
                _csv(df, DEVICE_COLUMNS, _device_rows(repo, flt), report, "devices")
            report.files += [str(schools), str(devices)]
        elif fmt == ExportFormat.XLSX:
            _xlsx(path, repo, flt, report)
        else:
            _json(path, repo, flt, report)
    return report


def export_bytes(
    store: Store, fmt: ExportFormat, flt: DeviceFilter | None = None
) -> tuple[str, bytes]:
    """A download: (file name, bytes). CSV: the devices (UTF-8 with a BOM); XLSX: both sheets."""
    day = dt.date.today().isoformat()
    if fmt == ExportFormat.CSV:
        buffer = io.StringIO(newline="")
        with store.session() as session:
            rows = _device_rows(InventoryRepo(session), flt)
            _csv(buffer, DEVICE_COLUMNS, rows, ExportReport(fmt), "devices")
        return f"devices-{day}.csv", buffer.getvalue().encode("utf-8-sig")
    if fmt != ExportFormat.XLSX:
        raise UsageError(f"no {fmt.value} download: csv or xlsx")
    with tempfile.TemporaryDirectory(prefix="itops-export-") as tmp:
        path = Path(tmp) / "inventory.xlsx"
        export_inventory(store, path, fmt, flt)
        return f"inventory-{day}.xlsx", path.read_bytes()


def _count(report: ExportReport, entity: str, rows: Iterator[list[str]]) -> Iterator[list[str]]:
    for row in rows:
        setattr(report, entity, getattr(report, entity) + 1)
        yield row


def _csv(
    fh: TextIO,
    columns: tuple[str, ...],
    rows: Iterator[list[str]],
    report: ExportReport,
    entity: str,
) -> None:
    """UTF-8 with a BOM (so spreadsheets show Khmer text), one header row."""
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(columns)
    for row in _count(report, entity, rows):
        writer.writerow([to_cell(v) for v in row])


def _xlsx(path: Path, repo: InventoryRepo, flt: DeviceFilter | None, report: ExportReport) -> None:
    """One workbook, sheets ``schools`` and ``devices``, every cell a string."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for entity, columns, rows in (
        ("schools", SCHOOL_COLUMNS, _school_rows(repo)),
        ("devices", DEVICE_COLUMNS, _device_rows(repo, flt)),
    ):
        ws = wb.create_sheet(entity)
        header = []
        for c in columns:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        ws.freeze_panes = "A2"
        for row in _count(report, entity, rows):
            ws.append([_string_cell(ws, to_cell(v)) for v in row])
    save_workbook(wb, path)
    report.files.append(str(path))


def _string_cell(ws: Any, text: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=text or None)
    if text:
        cell.data_type = "s"
    return cell


def _json(path: Path, repo: InventoryRepo, flt: DeviceFilter | None, report: ExportReport) -> None:
    """``{"format": ..., "schools": [...], "devices": [...]}``, one record per line."""
    with atomic_write(path) as fh:
        fh.write(f'{{"format": "{FORMAT_TAG}", "version": 1,\n')
        for n, (entity, columns, rows) in enumerate(
            (
                ("schools", SCHOOL_COLUMNS, _school_rows(repo)),
                ("devices", DEVICE_COLUMNS, _device_rows(repo, flt)),
            )
        ):
            fh.write(f' "{entity}": [')
            sep = "\n  "
            for row in _count(report, entity, rows):
                record = {c: v for c, v in zip(columns, row, strict=True) if v != ""}
                fh.write(sep + json.dumps(record, ensure_ascii=False))
                sep = ",\n  "
            fh.write("\n ]" + (",\n" if n == 0 else "\n"))
        fh.write("}\n")
    report.files.append(str(path))
