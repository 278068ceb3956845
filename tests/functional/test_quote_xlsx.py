"""The fast XLSX reader on workbooks as Excel writes them (shared strings, serial dates)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from kape_itops.errors import DataError
from kape_itops.quotes.readers import read_quotation
from kape_itops.quotes.xlsx import XlsxError, excel_date, read_sheet

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
STRINGS = [
    "Vendor",
    "Kampot Computer & Co.",
    "Date",
    "Valid until",
    "Currency",
    "USD",
    "Item",
    "Quantity",
    "Unit price",
    "Line total",
    "LT-1",
    "ram (GB)",
    "16 GB",
]


def cell(ref: str, value: object) -> str:
    if isinstance(value, str):
        return f'<c r="{ref}" t="s"><v>{STRINGS.index(value)}</v></c>'
    return f'<c r="{ref}" s="1"><v>{value}</v></c>'


def workbook(
    path: Path,
    rows: list[list[object]],
    *,
    sheet_name: str = "Quotation",
    extra: str = "",
    date1904: bool = False,
) -> Path:
    body = "".join(
        f'<row r="{r}">'
        + "".join(cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row) if v is not None)
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    sst = "".join(
        f"<si><t>{s.replace('&', '&amp;')}</t></si>"
        if i != 1
        else "<si><r><t>Kampot Computer </t></r><r><t>&amp; Co.</t></r></si>"
        for i, s in enumerate(STRINGS)
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(
            "xl/workbook.xml",
            f"<workbook {NS} {RNS}>{pr}<sheets>"
            f'<sheet name="Cover" sheetId="1" r:id="rId1"/>'
            f'<sheet name="{sheet_name}" sheetId="2" r:id="rId2"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Target="/xl/worksheets/sheet2.xml"/></Relationships>',
        )
        zf.writestr("xl/sharedStrings.xml", f"{extra}<sst {NS}>{sst}</sst>")
        zf.writestr("xl/worksheets/sheet1.xml", f"<worksheet {NS}><sheetData/></worksheet>")
        zf.writestr(
            "xl/worksheets/sheet2.xml", f"<worksheet {NS}><sheetData>{body}</sheetData></worksheet>"
        )
    return path


ROWS: list[list[object]] = [
    ["Vendor", "Kampot Computer & Co."],
    ["Date", 46325],
    ["Valid until", 46385],
    ["Currency", "USD"],
    [],
    ["Item", "Quantity", "Unit price", "Line total", "ram (GB)"],
    ["LT-1", 24, 645.5, 15492, "16 GB"],
]


def test_shared_strings_serial_dates_and_sheet_choice(tmp_path: Path) -> None:
    path = workbook(tmp_path / "excel.xlsx", ROWS)
    name, rows, date1904 = read_sheet(path)
    assert name == "Quotation" and not date1904
    assert rows[0] == ["Vendor", "Kampot Computer & Co."]
    q = read_quotation(path)
    assert q.vendor == "Kampot Computer & Co."
    assert q.quote_date == dt.date(2026, 10, 30) and q.valid_until == dt.date(2026, 12, 29)
    assert str(q.lines[0].unit_price) == "645.5" and q.lines[0].attributes["ram"] == "16 GB"
    assert q.location.endswith("excel.xlsx, sheet 'Quotation'")


def test_1904_date_system() -> None:
    assert excel_date(0.0 + 1, date1904=True) == dt.date(1904, 1, 2)
    assert excel_date(46325) == dt.date(2026, 10, 30)
    with pytest.raises(ValueError, match="not a date"):
        excel_date(-3)


def test_dtd_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "dtd.xlsx", ROWS, extra='<!DOCTYPE x [<!ENTITY a "aaaa">]>')
    with pytest.raises(XlsxError, match="DTD"):
        read_sheet(path)
    with pytest.raises(DataError, match=r"dtd\.xlsx: xl/sharedStrings\.xml declares an XML DTD"):
        read_quotation(path)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("vendor,price\n")
    with pytest.raises(DataError, match=r"x\.xlsx: cannot read the workbook"):
        read_quotation(path)


def test_other_attribute_order_and_prefixed_tags_use_the_tree_reader() -> None:
    from kape_itops.quotes.xlsx import _rows

    plain = (
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Vendor</t></is></c>'
        '<c r="B1" t="b"><v>1</v></c><c r="C1"><v>2.5</v></c></row></sheetData></worksheet>'
    ).encode()
    reordered = plain.replace(b'<c r="C1">', b'<c s="3" r="C1">')
    prefixed = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Vendor</x:t></x:is></x:c>'
        b'<x:c r="B1" t="b"><x:v>1</x:v></x:c><x:c r="C1"><x:v>2.5</x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    expected = [["Vendor", True, 2.5]]
    assert _rows(plain, []) == _rows(reordered, []) == _rows(prefixed, []) == expected
