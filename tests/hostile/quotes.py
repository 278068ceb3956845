"""Hostile quotations: formulas whose cached value lies, numbers no vendor writes, bad
shared-string indices, DTDs, far and wide cells, unclosed cells, CSV oddities.

Each generator writes one file under ``folder`` and returns ``(path, expected)``: ``expected``
is a fragment of the one-line refusal (file, cell and reason). The workbooks are built part by
part (no openpyxl) so every byte is explicit; the quotation has one sheet, "Quotation", with
the header block in rows 1-4, the lines-table header in row 6 and the line LT-1 in row 7
(unit price in column E, line total in F).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from tests.hostile.xlsx_bombs import WORKBOOK, shared_strings, sheet, workbook

QUOTE_WORKBOOK = WORKBOOK.replace('name="devices"', 'name="Quotation"')
HEADER: list[list[object]] = [
    ["Vendor", "Hostile Trading"],
    ["Date", "2026-10-30"],
    ["Valid until", "2026-12-31"],
    ["Currency", "USD"],
    [],
    ["Item", "Description", "Quantity", "Unit", "Unit price", "Line total"],
]
LINE: list[object] = ["LT-1", "Laptop", 2, "pcs", 600, 1200]
LINE2: list[object] = ["LT-2", "Mouse", 2, "pcs", 10, 20]
WHERE = "sheet 'Quotation', row"


class Raw(str):
    """A cell given as raw XML; ``{ref}`` is replaced by the cell's reference."""


def letter(col: int) -> str:
    out, n = "", col + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def cell(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Raw):
        return value.replace("{ref}", ref)
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{html.escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def rows_xml(rows: Sequence[Sequence[object]], start: int = 1) -> str:
    return "".join(
        f'<row r="{r}">' + "".join(cell(f"{letter(c)}{r}", v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=start)
    )


def quotation(
    folder: Path,
    name: str,
    lines: Sequence[Sequence[object]] = (LINE,),
    *,
    header: Sequence[Sequence[object]] = HEADER,
    extra: str | Callable[[], Iterable[bytes]] = "",
    prolog: str = "",
    strings: Sequence[str] = ("unused",),
) -> Path:
    """A quotation workbook; ``extra`` rows (XML, or a chunk generator) follow the lines."""
    body = rows_xml([*header, *lines])
    if callable(extra):
        head, tail = sheet(body + "@@", "A1", prolog).split("@@")

        def chunks() -> Iterable[bytes]:
            yield head.encode()
            yield from extra()
            yield tail.encode()

        return workbook(
            folder / name,
            sheet=chunks,
            strings=shared_strings(strings),
            **{"xl/workbook.xml": QUOTE_WORKBOOK},
        )
    return workbook(
        folder / name,
        sheet=sheet(body + extra, "A1", prolog),
        strings=shared_strings(strings),
        **{"xl/workbook.xml": QUOTE_WORKBOOK},
    )


def _line(**cells: object) -> list[object]:
    """LINE with some cells replaced (keys: column letters)."""
    out = list(LINE)
    for col, value in cells.items():
        out[ord(col) - 65] = value
    return out


Case = Callable[[Path], tuple[Path, str]]


# -- formulas: the cached value is what a reader sees, the formula what Excel shows ---------


def formula_price(folder: Path) -> tuple[Path, str]:
    """Unit price =C7*1.1 with a cached 100 (Excel shows 2.20)."""
    path = quotation(
        folder, "formula-price.xlsx", [_line(E=Raw('<c r="{ref}"><f>C7*1.1</f><v>100</v></c>'))]
    )
    return path, (
        f"{WHERE} 7, column 'E (Unit price)': cell E7 (unit price of LT-1) holds a formula "
        "(=C7*1.1); send the quotation with values, not formulas"
    )


def formula_shared_total(folder: Path) -> tuple[Path, str]:
    """Line totals from one shared formula; the second cell's cache says 1."""
    master = Raw('<c r="{ref}"><f t="shared" ref="F7:F8" si="0">C7*E7</f><v>1200</v></c>')
    child = Raw('<c r="{ref}"><f t="shared" si="0"/><v>1</v></c>')
    lines = [_line(F=master), [*LINE2[:5], child]]
    path = quotation(folder, "formula-shared.xlsx", lines)
    return path, "cell F8 (line total of LT-2) holds a formula (=C8*E8)"


def formula_array(folder: Path) -> tuple[Path, str]:
    """An array formula over E8:E9, stated in a row without an item: E9 (the line LT-2) carries
    no <f> of its own, only the cached value 1."""
    master = Raw('<c r="{ref}"><f t="array" ref="E8:E9">F8:F9/C8:C9</f><v>0</v></c>')
    lines = [
        LINE,
        [None, None, None, None, master],
        [*LINE2[:4], Raw('<c r="{ref}"><v>1</v></c>'), 20],
    ]
    path = quotation(folder, "formula-array.xlsx", lines)
    return path, (
        "row 9, column 'E (Unit price)': cell E9 (unit price of LT-2) holds a formula "
        "(=F8:F9/C8:C9 (array formula over E8:E9))"
    )


def formula_today(folder: Path) -> tuple[Path, str]:
    """Quote date =TODAY(): the cache is the day it was saved, Excel shows today."""
    header = [list(r) for r in HEADER]
    header[1][1] = Raw('<c r="{ref}"><f>TODAY()</f><v>46325</v></c>')
    path = quotation(folder, "formula-today.xlsx", header=header)
    return path, f"{WHERE} 2, column 'B (Date)': cell B2 (Date) holds a formula (=TODAY())"


def formula_hides_line(folder: Path) -> tuple[Path, str]:
    """An item code computed to "" in the cache: the line would vanish from the evaluation."""
    item = Raw('<c r="{ref}" t="str"><f>IF(NOW()&gt;1,"LT-2","")</f><v></v></c>')
    path = quotation(folder, "formula-item.xlsx", [LINE, [item, *LINE2[1:]]])
    return path, 'cell A8 (item code) holds a formula (=IF(NOW()>1,"LT-2",""))'


def formula_prefixed(folder: Path) -> tuple[Path, str]:
    """The formula in a sheet with prefixed tags (read by expat, not the regular expressions)."""
    out = folder / "formula-prefixed.xlsx"
    xml = sheet(rows_xml([*HEADER, _line(E=Raw('<c r="{ref}"><f>C7*1.1</f><v>100</v></c>'))]), "A1")
    prefixed = xml.replace("<", "<x:").replace("<x:/", "</x:").replace("<x:?", "<?")
    prefixed = prefixed.replace('xmlns="', 'xmlns:x="')
    workbook(out, sheet=prefixed, **{"xl/workbook.xml": QUOTE_WORKBOOK})
    return out, "cell E7 (unit price of LT-1) holds a formula (=C7*1.1)"


# -- numbers no vendor writes ---------------------------------------------------------------


def _price(folder: Path, name: str, raw: str) -> Path:
    return quotation(folder, name, [_line(E=Raw('<c r="{ref}"><v>' + raw + "</v></c>"))])


def price_inf(folder: Path) -> tuple[Path, str]:
    return _price(folder, "inf.xlsx", "inf"), f"{WHERE} 7, column 'E': not a number (value 'inf')"


def price_nan(folder: Path) -> tuple[Path, str]:
    return _price(folder, "nan.xlsx", "NaN"), f"{WHERE} 7, column 'E': not a number (value 'NaN')"


def price_overflow(folder: Path) -> tuple[Path, str]:
    return _price(folder, "1e999.xlsx", "1e999"), f"{WHERE} 7, column 'E': the number is too large"


def price_1e308(folder: Path) -> tuple[Path, str]:
    path = _price(folder, "1e308.xlsx", "1e308")
    return path, f"{WHERE} 7, column 'E (Unit price)': the number is too large"


def price_40_digits(folder: Path) -> tuple[Path, str]:
    path = _price(folder, "digits.xlsx", "1234567890" * 4)
    return path, f"{WHERE} 7, column 'E (Unit price)': the number is too large"


def price_5000_digits(folder: Path) -> tuple[Path, str]:
    path = _price(folder, "digits5000.xlsx", "9" * 5000)
    return path, f"{WHERE} 7, column 'E': the number has 5000 characters"


def price_text_40_digits(folder: Path) -> tuple[Path, str]:
    path = quotation(folder, "text-digits.xlsx", [_line(E="1234567890" * 4)])
    return path, f"{WHERE} 7, column 'E (Unit price)': the number is too large"


def quantity_1e308(folder: Path) -> tuple[Path, str]:
    path = quotation(folder, "qty.xlsx", [_line(C=Raw('<c r="{ref}"><v>1E+308</v></c>'))])
    return path, f"{WHERE} 7, column 'C (Quantity)': the number is too large"


# -- shared strings, DTDs, far and wide cells ---------------------------------------------


def _shared(folder: Path, name: str, index: str) -> Path:
    item = Raw('<c r="{ref}" t="s"><v>' + index + "</v></c>")
    return quotation(folder, name, [_line(A=item)], strings=("LT-1", "other"))


def shared_index_too_big(folder: Path) -> tuple[Path, str]:
    path = _shared(folder, "sst-99.xlsx", "99")
    return path, f"{WHERE} 7, column 'A': refers to shared string '99', which the workbook"


def shared_index_negative(folder: Path) -> tuple[Path, str]:
    """Python would read index -1 as the last string."""
    path = _shared(folder, "sst-neg.xlsx", "-1")
    return path, f"{WHERE} 7, column 'A': refers to shared string '-1', which the workbook"


def shared_index_text(folder: Path) -> tuple[Path, str]:
    path = _shared(folder, "sst-text.xlsx", "one")
    return path, "refers to shared string 'one'"


def dtd_in_sheet(folder: Path) -> tuple[Path, str]:
    """The price is an entity defined in the sheet's own DTD."""
    prolog = '<!DOCTYPE worksheet [<!ENTITY price "1">]>'
    lines = [_line(E=Raw('<c r="{ref}"><v>&price;</v></c>'))]
    path = quotation(folder, "dtd.xlsx", lines, prolog=prolog)
    return path, "dtd.xlsx: xl/worksheets/sheet1.xml declares an XML DTD"


def far_cell(folder: Path) -> tuple[Path, str]:
    """One cell at row 99,999,999 (a 6 KB file once made a reader take 3.9 GB)."""
    path = quotation(
        folder, "far.xlsx", extra='<row r="99999999"><c r="A99999999"><v>1</v></c></row>'
    )
    return path, f"{WHERE} 99999999, column 'A': the sheet is too large (99,999,999 rows"


def last_column(folder: Path, rows: int = 150_000) -> tuple[Path, str]:
    """A cell in column XFD on every row (~5 MB unzipped; once over 2 minutes)."""

    def extra() -> Iterable[bytes]:
        for start in range(8, rows, 10_000):
            stop = min(start + 10_000, rows)
            yield "".join(
                f'<row r="{n}"><c r="XFD{n}"><v>{n}</v></c></row>' for n in range(start, stop)
            ).encode()

    path = quotation(folder, "lastcol.xlsx", extra=extra)
    return path, f"{WHERE} 8, column 'XFD': the sheet is too large (16,384 columns"


def wide_and_tall(folder: Path) -> tuple[Path, str]:
    """Within the row and column limits, but rows x columns over the cell limit."""
    extra = '<row r="99000"><c r="GR99000"><v>1</v></c></row>'
    path = quotation(folder, "wide.xlsx", extra=extra)
    return path, "column 'GR': the sheet is too large (19,800,000 cells"


def unclosed_cells(folder: Path) -> tuple[Path, str]:
    """50,000 cells that never close (a backtracking regular expression took minutes)."""
    extra = '<row r="8">' + '<c r="A8" s="1">' * 50_000 + "</row>"
    path = quotation(folder, "unclosed.xlsx", extra=extra)
    return path, f"{WHERE} 8, column 'A': the cell holds more than 10,000 XML elements"


def long_text(folder: Path) -> tuple[Path, str]:
    """A description of a million characters."""
    path = quotation(folder, "long.xlsx", [_line(B="x" * 1_000_000)])
    return path, f"{WHERE} 7, column 'B': the text is too large (1,000,000 characters"


def utf7_sheet(folder: Path) -> tuple[Path, str]:
    """A sheet declared UTF-7, in which '+ADw-' is '<': markup hidden from byte scans."""
    xml = sheet(rows_xml([*HEADER, LINE]), "A1").replace('encoding="UTF-8"', 'encoding="UTF-7"')
    path = workbook(folder / "utf7.xlsx", sheet=xml, **{"xl/workbook.xml": QUOTE_WORKBOOK})
    return path, "utf7.xlsx: cannot read the workbook"


XLSX: dict[str, Case] = {
    "formula_price": formula_price,
    "formula_shared_total": formula_shared_total,
    "formula_array": formula_array,
    "formula_today": formula_today,
    "formula_hides_line": formula_hides_line,
    "formula_prefixed": formula_prefixed,
    "price_inf": price_inf,
    "price_nan": price_nan,
    "price_overflow": price_overflow,
    "price_1e308": price_1e308,
    "price_40_digits": price_40_digits,
    "price_5000_digits": price_5000_digits,
    "price_text_40_digits": price_text_40_digits,
    "quantity_1e308": quantity_1e308,
    "shared_index_too_big": shared_index_too_big,
    "shared_index_negative": shared_index_negative,
    "shared_index_text": shared_index_text,
    "dtd_in_sheet": dtd_in_sheet,
    "far_cell": far_cell,
    "last_column": last_column,
    "wide_and_tall": wide_and_tall,
    "unclosed_cells": unclosed_cells,
    "long_text": long_text,
    "utf7_sheet": utf7_sheet,
}
"""Every hostile quotation workbook, by name: each is refused naming file and cell."""


# -- CSV -------------------------------------------------------------------------------------

CSV_HEAD = (
    "Vendor,Hostile Trading\nDate,2026-10-30\nValid until,2026-12-31\nCurrency,USD\n\n"
    "Item,Description,Quantity,Unit,Unit price,Line total\n"
)


def _csv(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def csv_inf(folder: Path) -> tuple[Path, str]:
    path = _csv(folder, "inf.csv", CSV_HEAD + "LT-1,Laptop,2,pcs,inf,1200\n")
    return path, "inf.csv, row 7, column 'E (Unit price)': text in a price cell"


def csv_40_digits(folder: Path) -> tuple[Path, str]:
    path = _csv(folder, "digits.csv", CSV_HEAD + f"LT-1,Laptop,2,pcs,{'1234567890' * 4},1\n")
    return path, "digits.csv, row 7, column 'E (Unit price)': the number is too large"


def csv_nul(folder: Path) -> tuple[Path, str]:
    path = _csv(folder, "nul.csv", CSV_HEAD + "LT-1,Lap\x00top,2,pcs,600,1200\n")
    return path, "nul.csv, line 7: not valid CSV"


def csv_huge_field(folder: Path) -> tuple[Path, str]:
    path = _csv(folder, "field.csv", CSV_HEAD + f'LT-1,"{"x" * 200_000}",2,pcs,600,1200\n')
    return path, "field.csv, line 7: not valid CSV"


def csv_wide(folder: Path) -> tuple[Path, str]:
    path = _csv(folder, "wide.csv", CSV_HEAD + "LT-1" + "," * 5000 + "\n")
    return path, "wide.csv, row 7: the row is too large (5,001 columns"


def csv_tall(folder: Path) -> tuple[Path, str]:
    path = _csv(folder, "tall.csv", CSV_HEAD + "\n" * 200_000)
    return path, "tall.csv, row 100001: the file is too large (100,001 rows"


CSV: dict[str, Case] = {
    "csv_inf": csv_inf,
    "csv_40_digits": csv_40_digits,
    "csv_nul": csv_nul,
    "csv_huge_field": csv_huge_field,
    "csv_wide": csv_wide,
    "csv_tall": csv_tall,
}
"""Every hostile quotation CSV, by name."""
