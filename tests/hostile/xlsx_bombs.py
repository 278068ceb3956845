"""Hostile XLSX workbooks: zip bombs, entity bombs, XXE, sparse and huge sheets.

Each generator writes one small file under ``folder`` and returns its path. The workbooks are
built part by part (no openpyxl), so every byte the attacker controls is explicit. The sheet
is named ``devices`` with an ``asset_tag, school, kind`` header, so an inventory import gets as
far as it would with a real file.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="devices" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="s"><v>2</v></c></row>'
)
STRINGS = ("asset_tag", "school", "kind", "D1", "KPT-PSP", "laptop")
DATA_ROW = (
    '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c>'
    '<c r="C2" t="s"><v>5</v></c></row>'
)

Part = str | bytes | Callable[[], Iterable[bytes]]
"""A part's text, bytes, or a function yielding its bytes in chunks (for huge parts)."""


def sheet(rows: str = HEADER_ROW + DATA_ROW, dimension: str = "A1:C2", prolog: str = "") -> str:
    """A worksheet part with ``rows`` as its sheetData."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def shared_strings(strings: Iterable[str] = STRINGS, prolog: str = "") -> str:
    """A shared-strings part; each string is written as given (it may hold entity refs)."""
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<sst xmlns="{MAIN}">{items}</sst>'


def workbook(path: Path, **parts: Part) -> Path:
    """Write a workbook; keyword parts (``sheet``, ``strings``, or a zip name) replace defaults."""
    members: dict[str, Part] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": parts.pop("sheet", sheet()),
        "xl/sharedStrings.xml": parts.pop("strings", shared_strings()),
    }
    members.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, body in members.items():
            if callable(body):
                with zf.open(name, "w", force_zip64=True) as out:
                    for chunk in body():
                        out.write(chunk)
            else:
                zf.writestr(name, body.encode() if isinstance(body, str) else body)
    return path


def good(folder: Path, rows: int = 1) -> Path:
    """A harmless workbook with ``rows`` device rows (the control case)."""
    cells = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>D{n}</t></is></c>'
        f'<c r="B{n}" t="s"><v>4</v></c><c r="C{n}" t="s"><v>5</v></c></row>'
        for n in range(2, rows + 2)
    )
    return workbook(folder / "good.xlsx", sheet=sheet(HEADER_ROW + cells, f"A1:C{rows + 1}"))


LAUGHS = (
    '<!DOCTYPE sst [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def billion_laughs(folder: Path) -> Path:
    """Shared strings whose one entity expands to 10^9 'lol's (under 1 KB of XML)."""
    strings = shared_strings([*STRINGS[:5], "&lol9;"], prolog=LAUGHS)
    return workbook(folder / "laughs.xlsx", strings=strings)


def xxe(folder: Path) -> Path:
    """A sheet with an external entity reading /etc/passwd into a cell."""
    prolog = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    rows = HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    return workbook(folder / "xxe.xlsx", sheet=sheet(rows, prolog=prolog))


def laughs_in_workbook(folder: Path) -> Path:
    """The entity bomb in ``xl/workbook.xml`` (parsed whole, not streamed), used as a name."""
    text = WORKBOOK.replace("<workbook ", LAUGHS.replace("sst", "workbook") + "<workbook ", 1)
    return workbook(
        folder / "wblaughs.xlsx", **{"xl/workbook.xml": text.replace('"devices"', '"&lol9;"')}
    )


def xxe_in_content_types(folder: Path) -> Path:
    """An external entity in ``[Content_Types].xml``, the first part any reader parses."""
    prolog = '<!DOCTYPE Types [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    text = CONTENT_TYPES.replace("<Types ", prolog + "<Types ", 1).replace(
        'Extension="xml"', 'Extension="&xxe;"'
    )
    return workbook(folder / "ctxxe.xlsx", **{"[Content_Types].xml": text})


def utf16_doctype(folder: Path) -> Path:
    """The entity bomb again, in a UTF-16 part (a byte scan for '<!DOCTYPE' misses it)."""
    text = shared_strings([*STRINGS[:5], "&lol9;"], prolog=LAUGHS).replace("UTF-8", "UTF-16")
    return workbook(folder / "utf16.xlsx", strings=text.encode("utf-16"))


def zip_bomb(folder: Path, mib: int = 300) -> Path:
    """One shared string of ``mib`` MiB of 'A' (about 0.3 MB zipped): a 1 GB+ load."""
    head = shared_strings(STRINGS).removesuffix("</sst>").encode() + b"<si><t>"

    def body() -> Iterable[bytes]:
        yield head
        block = b"A" * (1 << 20)
        for _ in range(mib):
            yield block
        yield b"</t></si></sst>"

    return workbook(folder / "zipbomb.xlsx", strings=body)


def lying_sizes(folder: Path, mib: int = 64) -> Path:
    """The zip bomb with its zip directory claiming the strings part is 1 KB unzipped."""
    path = zip_bomb(folder, mib).rename(folder / "lying.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/sharedStrings.xml")
        directory = zf.start_dir
    # the local header: sizes in its zip64 extra field (the part was streamed)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    _patch_sizes(data, info.header_offset + 30 + name_len, extra_len, info.file_size)
    # its central directory record
    at = directory
    while data[at : at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + name_len] == info.filename.encode():
            if struct.unpack_from("<I", data, at + 24)[0] == 0xFFFFFFFF:
                _patch_sizes(data, at + 46 + name_len, extra_len, info.file_size)
            else:
                struct.pack_into("<I", data, at + 24, 1024)
        at += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/sharedStrings.xml").file_size == 1024
    return path


def _patch_sizes(data: bytearray, start: int, length: int, real: int) -> None:
    """Replace the 8-byte size ``real`` by 1024 in a zip64 extra field."""
    at = bytes(data[start : start + length]).find(struct.pack("<Q", real))
    assert at >= 0, "no zip64 size field"
    struct.pack_into("<Q", data, start + at, 1024)


def far_cell(folder: Path) -> Path:
    """One cell at row 99,999,999 (a 1 KB file; readers used to yield 10^8 empty rows)."""
    rows = HEADER_ROW + '<row r="99999999"><c r="A99999999"><v>1</v></c></row>'
    return workbook(folder / "far.xlsx", sheet=sheet(rows))


def last_column(folder: Path, rows: int = 150_000) -> Path:
    """A cell in column XFD (16384) on every row, ~5 MB unzipped: rows of 16384 cells."""
    cells = "".join(f'<row r="{n}"><c r="XFD{n}"><v>{n}</v></c></row>' for n in range(2, rows))
    return workbook(folder / "lastcol.xlsx", sheet=sheet(HEADER_ROW + cells, dimension="A1"))


def rows_without_numbers(folder: Path, rows: int = 150_000) -> Path:
    """150,000 empty ``<row/>`` elements without ``r`` (each one still a row; under 1 MiB)."""
    return workbook(folder / "norownum.xlsx", sheet=sheet(HEADER_ROW + "<row/>" * rows))


def deep_xml(folder: Path, depth: int = 100_000) -> Path:
    """A cell nested inside 100,000 elements."""
    rows = HEADER_ROW + '<row r="2"><c r="A2">' + "<x>" * depth + "</x>" * depth + "</c></row>"
    return workbook(folder / "deep.xlsx", sheet=sheet(rows))


def long_cell(folder: Path, chars: int = 1_000_000) -> Path:
    """A shared string of a million characters."""
    return workbook(folder / "longcell.xlsx", strings=shared_strings([*STRINGS, "B" * chars]))


def odd_encoding(folder: Path) -> Path:
    """A sheet declared as UTF-7 (an encoding that can hide markup from byte scans)."""
    text = sheet().replace('encoding="UTF-8"', 'encoding="UTF-7"')
    return workbook(folder / "utf7.xlsx", sheet=text)


def not_a_zip(folder: Path) -> Path:
    """Text with an .xlsx name."""
    path = folder / "notzip.xlsx"
    path.write_bytes(b"asset_tag,school,kind\n" * 10)
    return path


def truncated(folder: Path) -> Path:
    """A good workbook cut in half."""
    path = good(folder, 50)
    data = path.read_bytes()
    out = folder / "truncated.xlsx"
    out.write_bytes(data[: len(data) // 2])
    return out


BOMBS: dict[str, Callable[[Path], Path]] = {
    "billion_laughs": billion_laughs,
    "xxe": xxe,
    "laughs_in_workbook": laughs_in_workbook,
    "xxe_in_content_types": xxe_in_content_types,
    "utf16_doctype": utf16_doctype,
    "zip_bomb": zip_bomb,
    "lying_sizes": lying_sizes,
    "far_cell": far_cell,
    "last_column": last_column,
    "rows_without_numbers": rows_without_numbers,
    "deep_xml": deep_xml,
    "long_cell": long_cell,
    "odd_encoding": odd_encoding,
    "not_a_zip": not_a_zip,
    "truncated": truncated,
}
"""Every hostile workbook, by name; each must be refused with a one-line error."""
