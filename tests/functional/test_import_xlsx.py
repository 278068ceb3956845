"""XLSX import on both backends: sheets, title rows, merged or empty header cells, bad files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.functional.test_import import find, rejected, run, seeded

HEADER = ["asset_tag", "school", "kind", "serial", "notes"]


def workbook(path: Path, rows: list[list[object]], sheet: str = "devices") -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(path)
    return wb


def test_title_rows_and_empty_rows_above_the_header_are_skipped(
    store: Store, tmp_path: Path
) -> None:
    case = seeded(store, tmp_path)
    case.mkdir()
    path = case / "inv.xlsx"
    wb = workbook(
        path, [["Devices of Prey Speu, 2026"], [], HEADER, ["X1", "KPT-PSP", "tablet", "SX1", 5]]
    )
    ws = wb.active
    ws.merge_cells("A1:E1")
    wb.save(path)
    report = run(store, path)
    assert report.files[0].stats.created == 1
    notes = [i for i in report.issues if i.severity == "warning"]
    assert [(i.file, i.row) for i in notes] == [("inv.xlsx [devices]", 1)]
    assert "before the header row" in notes[0].reason
    with store.session() as s:
        d = InventoryRepo(s).device("X1")
    assert d is not None and d.notes == "5"


def test_merged_header_cells_are_rejected_clearly(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    case.mkdir()
    path = case / "inv.xlsx"
    wb = workbook(
        path,
        [
            ["asset_tag", "school", "kind", "identity", None],
            ["X1", "KPT-PSP", "tablet", "SX1", "aa:bb:cc:dd:ee:01"],
        ],
    )
    wb.active.merge_cells("D1:E1")
    wb.save(path)
    issues = rejected(store, path)
    issue = find(issues, 2, "column E", "column without a header cell (merged or missing header?)")
    assert issue.file == "inv.xlsx [devices]" and issue.value == "aa:bb:cc:dd:ee:01"
    assert any(i.column == "identity" and i.severity == "warning" for i in issues)


def test_sheet_without_a_header_row(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    case.mkdir()
    path = case / "inv.xlsx"
    workbook(path, [["just a title"]] + [[f"row {i}"] for i in range(12)])
    issues = rejected(store, path)
    assert issues[0].file == "inv.xlsx [devices]" and issues[0].row == 1
    assert "no header row with a 'asset_tag' column in the first 10 rows" in issues[0].reason
    workbook(path, [])
    assert "the table is empty" in rejected(store, path)[0].reason


def test_workbook_needs_known_sheets_and_must_be_xlsx(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    case.mkdir()
    path = case / "inv.xlsx"
    workbook(path, [HEADER], sheet="Sheet1")
    issues = rejected(store, path)
    assert "needs a sheet named 'schools' and/or 'devices' (found: Sheet1)" in issues[0].reason
    path.write_bytes(b"PK\x03\x04 not really a zip")
    issues = rejected(store, path)
    assert (
        issues[0].file == "inv.xlsx"
        and "cannot read the file as an XLSX workbook" in issues[0].reason
    )


def test_both_sheets_in_one_workbook(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "all.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Devices"
    ws.append(HEADER)
    ws.append(["K1", "KEP-KHS", "router", "R1", None])
    schools = wb.create_sheet("Schools")
    schools.append(["Code", "Name", "Subnets"])
    schools.append(["KEP-KHS", "Kep High School", "10.30.7.0/24"])
    wb.save(path)
    report = run(store, path)
    assert [(f.file, f.stats.created) for f in report.files] == [
        ("all.xlsx [Schools]", 1),
        ("all.xlsx [Devices]", 1),
    ]


@pytest.mark.parametrize("value", ["2024-13-01", "15/01/2024"])
def test_xlsx_bad_dates_are_located(store: Store, tmp_path: Path, value: str) -> None:
    case = seeded(store, tmp_path)
    case.mkdir()
    path = case / "inv.xlsx"
    workbook(path, [[*HEADER, "purchase_date"], ["X1", "KPT-PSP", "tablet", "SX1", None, value]])
    issue = find(rejected(store, path), 2, "purchase_date", "date")
    assert issue.value == value
