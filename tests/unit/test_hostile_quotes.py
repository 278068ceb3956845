"""Hostile quotations are refused naming file and cell; formulas never decide a price."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from kape_itops.errors import DataError, ValidationFailed
from kape_itops.limits import Limits
from kape_itops.quotes.readers import read_quotation
from kape_itops.quotes.spec import load_spec
from kape_itops.quotes.template import write_form
from kape_itops.quotes.units import UnitError, parse_quantity
from tests.hostile import quotes as hq

REPO = Path(__file__).resolve().parents[2]
LINE_MAX = 300


def refusal(path: Path, limits: Limits | None = None) -> list[str]:
    """The refusal of ``path`` as printed: the headline, then one line per issue."""
    started = time.monotonic()
    with pytest.raises(DataError) as info:
        read_quotation(path) if limits is None else read_quotation(path, limits)
    assert time.monotonic() - started < 10
    exc = info.value
    issues = [str(i) for i in exc.issues] if isinstance(exc, ValidationFailed) else []
    lines = [str(exc), *issues]
    assert all(len(x) < LINE_MAX and "\n" not in x for x in lines), lines
    return lines


@pytest.mark.parametrize("case", sorted(hq.XLSX) + sorted(hq.CSV))
def test_hostile_quotation_is_refused_naming_file_and_cell(tmp_path: Path, case: str) -> None:
    path, expected = {**hq.XLSX, **hq.CSV}[case](tmp_path)
    lines = refusal(path)
    assert str(path) in lines[0]
    assert len(lines) <= 3, lines
    assert any(expected in x for x in lines), lines


def test_formulas_in_cells_the_evaluation_does_not_read_are_accepted(tmp_path: Path) -> None:
    """A grand-total row (no item) and a note beyond the table may hold formulas."""
    total = hq.Raw('<c r="{ref}"><f>SUM(F7:F7)</f><v>1200</v></c>')
    note = hq.Raw('<c r="{ref}" t="str"><f>"thank you"</f><v>thank you</v></c>')
    extra = hq.rows_xml([[None, None, None, None, "Grand total", total, None, None, note]], 8)
    q = read_quotation(hq.quotation(tmp_path, "total.xlsx", extra=extra))
    assert [ln.item for ln in q.lines] == ["LT-1"] and str(q.lines[0].unit_price) == "600"


def test_array_formulas_are_checked_in_time_that_grows_with_formulas_not_cells(
    tmp_path: Path,
) -> None:
    """50,000 array formulas, each over H8:GR9999 (outside the table): accepted, quickly."""
    cell = '<c r="H{r}"><f t="array" ref="H8:GR9999">1</f><v>1</v></c>'
    extra = "".join(f'<row r="{r}">{cell.format(r=r)}</row>' for r in range(8, 50_008))
    started = time.monotonic()
    q = read_quotation(hq.quotation(tmp_path, "arrays.xlsx", extra=extra))
    assert [ln.item for ln in q.lines] == ["LT-1"]
    assert time.monotonic() - started < 10


def test_csv_quoted_cells_keep_their_line_breaks(tmp_path: Path) -> None:
    """A line break inside a quoted cell stays in the cell (CRLF read as LF); U+2028 no longer
    splits the row (it is kept, shown as an escape)."""
    text = (
        hq.CSV_HEAD
        + 'LT-1,"Laptop\r\nwith bag\nand mouse",2,pcs,600,1200\n'
        + 'LT-2,"Mouse\u2028pad",1,pcs,10,10\n'
    )
    path = tmp_path / "multiline.csv"
    path.write_text(text, encoding="utf-8", newline="")
    q = read_quotation(path)
    assert [ln.description for ln in q.lines] == ["Laptop\nwith bag\nand mouse", "Mouse\\u2028pad"]
    assert [ln.row for ln in q.lines] == [7, 8]
    assert [str(ln.line_total) for ln in q.lines] == ["1200", "10"]


def test_limits_are_settings(tmp_path: Path) -> None:
    extra = hq.rows_xml([["LT-2", "Mouse", 1, "pcs", 10, 10]], 300)
    path = hq.quotation(tmp_path, "long.xlsx", extra=extra)
    lines = refusal(path, Limits(max_rows=200))
    assert "raise it with ITOPS_MAX_ROWS" in " ".join(lines)
    assert len(read_quotation(path, Limits(max_rows=300)).lines) == 2
    assert "ITOPS_MAX_CELL_CHARS" in " ".join(refusal(path, Limits(max_cell_chars=5)))


def test_the_vendor_form_is_protected_and_still_read(tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    write_form(load_spec(REPO / "specs" / "laptop.yaml"), form)
    wb = load_workbook(form)
    ws = wb["Quotation"]
    assert ws.protection.sheet and not ws.protection.password
    assert wb["Requirements"].protection.sheet
    head = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Item")
    assert ws["A1"].protection.locked and ws.cell(head, 6).protection.locked  # labels
    assert not ws["B1"].protection.locked and not ws["B4"].protection.locked  # header values
    for col in ("A", "D", "F", "G"):  # lines-table columns, new rows included
        assert not ws.column_dimensions[col].protection.locked
    # a vendor fills it in
    ws["B1"], ws["B4"], ws["B5"], ws["B6"] = "Kampot Computer", "2026-10-30", "2026-12-31", "USD"
    for col, value in zip("ABCDEFG", ["LT-1", "Laptop", "", 2, "pcs", 600, 1200], strict=True):
        ws[f"{col}{head + 1}"] = value
    wb.save(form)
    q = read_quotation(form)
    assert q.vendor == "Kampot Computer" and str(q.lines[0].line_total) == "1200"


def _hide_workbook_part(path: Path) -> Path:
    """Move xl/workbook.xml elsewhere (found through _rels/.rels): only openpyxl reads that."""
    out = path.with_name("moved-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            name = info.filename
            if name == "xl/workbook.xml":
                name = "xl/book.xml"
            elif name == "xl/_rels/workbook.xml.rels":
                name = "xl/_rels/book.xml.rels"
            data = data.replace(b"xl/workbook.xml", b"xl/book.xml").replace(
                b"/xl/workbook.xml", b"/xl/book.xml"
            )
            dst.writestr(name, data)
    return out


def _openpyxl_quotation(path: Path, price: object) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Quotation"
    for row in [*hq.HEADER, [*hq.LINE[:4], price, 1200]]:
        ws.append(list(row))
    wb.save(path)
    return _hide_workbook_part(path)


def test_the_openpyxl_fallback_sees_formulas_too(tmp_path: Path) -> None:
    plain = _openpyxl_quotation(tmp_path / "plain.xlsx", 600)
    assert str(read_quotation(plain).lines[0].unit_price) == "600"  # the fallback reads it
    path = _openpyxl_quotation(tmp_path / "formula.xlsx", "=C7*1.1")
    lines = refusal(path)
    assert any(
        "row 7, column 'E (Unit price)': cell E7 (unit price of LT-1) holds a formula (=C7*1.1)"
        in x
        for x in lines
    ), lines


def test_the_openpyxl_fallback_refuses_what_the_guard_refuses(tmp_path: Path) -> None:
    path = _openpyxl_quotation(tmp_path / "far.xlsx", 600)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    far = b'<row r="99999999"><c r="A99999999"><v>1</v></c></row></sheetData>'
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"</sheetData>", far)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    lines = refusal(path)
    assert "cannot read the workbook" in lines[0] and "ITOPS_MAX_ROWS" in lines[0], lines


def test_the_openpyxl_fallback_refuses_a_negative_shared_string_index(tmp_path: Path) -> None:
    """openpyxl indexes its string list directly: "-1" would be the last string."""
    path = _hide_workbook_part(hq.shared_index_negative(tmp_path)[0])
    lines = refusal(path)
    assert "cannot read the workbook" in lines[0] and "shared string -1 does not exist" in lines[0]


@pytest.mark.parametrize(
    "text", ["9" * 400 + " GB", "9" * 5000 + " x 2 GB", "2 x " + "9" * 400 + " GB", "9" * 20]
)
def test_a_quoted_value_with_more_than_15_digits_cannot_be_verified(text: str) -> None:
    """It once read as inf (passing every 'at least' rule) or crashed int() on 5,000 digits."""
    with pytest.raises(UnitError, match="more than 15 digits") as info:
        parse_quantity(text, "GB")
    assert len(str(info.value)) < 100
    assert parse_quantity("999,999,999,999,999 GB", "GB").value == 999_999_999_999_999
