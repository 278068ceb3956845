"""Bad input: a clear message naming file, sheet, row and column; exit code 1; nothing stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from kape_itops.cli import cli
from tests.functional.quote_helpers import SPECS, copy_rfq


@pytest.fixture
def db(runner: CliRunner, sqlite_url: str) -> str:
    result = runner.invoke(cli, ["--db", sqlite_url, "init"])
    assert result.exit_code == 0, result.output
    return sqlite_url


def stored(runner: CliRunner, db: str) -> list[object]:
    result = runner.invoke(cli, ["--db", db, "quote", "history", "--json"])
    assert result.exit_code == 0, result.output
    rows: list[object] = json.loads(result.output)
    return rows


def edit_xlsx(path: Path, **cells: object) -> None:
    wb = load_workbook(path)
    for ref, value in cells.items():
        wb["Quotation"][ref] = value
    wb.save(path)


def score(runner: CliRunner, db: str, folder: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        cli,
        ["--db", db, "quote", "score", str(folder), "--spec", str(SPECS / "laptop.yaml"), *extra],
    )
    return result.exit_code, result.output


def missing_column(f: Path) -> str:
    edit_xlsx(f / "a-angkor-digital.xlsx", F11="Remarks")
    return "a-angkor-digital.xlsx, sheet 'Quotation', row 11: lines table is missing column(s): Unit price"


def text_in_price(f: Path) -> str:
    edit_xlsx(f / "b-mekong-it.xlsx", F12="call us")
    return (
        "b-mekong-it.xlsx, sheet 'Quotation', row 12, column 'F (Unit price)': "
        "text in a price cell: expected a number (value 'call us')"
    )


def negative_quantity(f: Path) -> str:
    edit_xlsx(f / "c-sokha-computer.xlsx", D13=-24)
    return (
        "c-sokha-computer.xlsx, sheet 'Quotation', row 13, column 'D (Quantity)': "
        "negative quantity (value '-24')"
    )


def not_a_quotation(f: Path) -> str:
    wb = Workbook()
    wb.active.title = "Inventory"
    wb.active.append(["asset_tag", "kind", "school"])
    wb.active.append(["KPT-0001", "laptop", "KPT-PSP"])
    wb.save(f / "z-inventory.xlsx")
    return "z-inventory.xlsx, sheet 'Inventory': not a quotation"


def unreadable_workbook(f: Path) -> str:
    (f / "z-broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip file")
    return "z-broken.xlsx: cannot read the workbook"


def missing_header(f: Path) -> str:
    edit_xlsx(f / "d-phnom-penh-office.xlsx", B5=None)
    return (
        "d-phnom-penh-office.xlsx, sheet 'Quotation', row 5, column 'B (Valid until)': "
        "missing header field 'Valid until'"
    )


def bad_date(f: Path) -> str:
    edit_xlsx(f / "d-phnom-penh-office.xlsx", B4="soon")
    return "d-phnom-penh-office.xlsx, sheet 'Quotation', row 4, column 'B (Date)': not a date"


CASES: dict[str, Callable[[Path], str]] = {
    "missing_column": missing_column,
    "text_in_price": text_in_price,
    "negative_quantity": negative_quantity,
    "not_a_quotation": not_a_quotation,
    "unreadable_workbook": unreadable_workbook,
    "missing_header": missing_header,
    "bad_date": bad_date,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_quotation_is_rejected_and_nothing_stored(
    runner: CliRunner, db: str, tmp_path: Path, case: str
) -> None:
    folder = copy_rfq("laptop", tmp_path)
    expected = CASES[case](folder)
    code, output = score(runner, db, folder)
    assert code == 1, output
    assert expected in " ".join(output.split()), output
    assert str(folder) in output
    assert stored(runner, db) == []


def test_csv_text_in_price_names_row_and_column(runner: CliRunner, db: str, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path, csv=True)
    path = folder / "a-angkor-digital.csv"
    text = path.read_text().replace("pcs,645,15840", "pcs,TBA,15840")
    path.write_text(text)
    code, output = score(runner, db, folder)
    assert code == 1
    assert "a-angkor-digital.csv, row 12, column 'F (Unit price)': text in a price cell" in output
    assert "sheet" not in output.split("a-angkor-digital.csv")[1].split("\n")[0]
    assert stored(runner, db) == []


def test_every_bad_file_is_reported_at_once(runner: CliRunner, db: str, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    text_in_price(folder)
    negative_quantity(folder)
    code, output = score(runner, db, folder)
    assert code == 1
    assert "b-mekong-it.xlsx" in output and "c-sokha-computer.xlsx" in output
    assert "2 error(s)" in output


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "unit: GB\n    level: mandatory",
            "unit: GBX\n    level: mandatory",
            "laptop.yaml:24 at requirements[1].unit: unknown unit 'GBX'",
        ),
        (
            'operator: "<="\n    value: 1.8',
            'operator: "≤"\n    value: 1.8',
            "at requirements[16].operator: unknown operator '≤'",
        ),
    ],
)
def test_bad_spec_is_rejected_and_nothing_stored(
    runner: CliRunner, db: str, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = (SPECS / "laptop.yaml").read_text()
    assert old in text
    spec = tmp_path / "laptop.yaml"
    spec.write_text(text.replace(old, new, 1))
    folder = copy_rfq("laptop", tmp_path / "q")
    result = runner.invoke(cli, ["--db", db, "quote", "score", str(folder), "--spec", str(spec)])
    assert result.exit_code == 1
    assert expected in " ".join(result.output.split())
    assert stored(runner, db) == []


def test_khr_quote_without_rate_is_an_error(runner: CliRunner, db: str, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    rfq = folder / "rfq.yaml"
    lines = rfq.read_text().splitlines()
    start = lines.index("rate:")
    rfq.write_text("\n".join(lines[:start] + lines[start + 5 :]) + "\n")
    code, output = score(runner, db, folder)
    assert code == 1
    assert "b-mekong-it.xlsx, sheet 'Quotation': quotation in KHR but no exchange rate" in output
    assert stored(runner, db) == []
    ok, _ = score(runner, db, folder, "--rate", "KHR=4100@2026-11-02", "--json")
    assert ok == 0
    assert len(stored(runner, db)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "KHR=4100"], "must be stated and dated"),
        (["--weights", "80:30"], "summing to 100"),
        (["--vat", "x"], "is not a percentage"),
        (["--report", "out.pdf"], "use .html, .md, .xlsx or .json"),
    ],
)
def test_bad_options_exit_2(
    runner: CliRunner, db: str, tmp_path: Path, args: list[str], message: str
) -> None:
    folder = copy_rfq("laptop", tmp_path)
    code, output = score(runner, db, folder, *args)
    assert code == 2
    assert message in output
    assert stored(runner, db) == []
