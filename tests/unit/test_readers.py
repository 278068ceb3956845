"""Readers and row validation without a database: decoding, headers, cells, checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import Device
from kape_itops.errors import ValidationFailed
from kape_itops.inventory.readers import discover, normalise_header, open_table, xlsx_text
from kape_itops.inventory.validate import DeviceChecker, Lookups, map_header, parse_row


def table_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    [source] = discover(path)
    with open_table(source) as t:
        return t.header, list(t.rows)


def test_csv_rows_keep_line_numbers_across_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes(b'\xef\xbb\xbf\r\nasset_tag,notes\r\nA,"x\r\ny"\r\n\r\nB,\'=1+1\r\n')
    header, rows = table_rows(p)
    assert header == ["asset_tag", "notes"]
    assert rows == [(3, ["A", "x\ny"]), (6, ["B", "=1+1"])]


@pytest.mark.parametrize(
    ("data", "line", "offset"),
    [(b"asset_tag\n\xff\n", 2, 10), (b"\xef\xbb\xbfasset_tag\nA\nB\xc3(\n", 3, 16)],
)
def test_non_utf8_is_located(tmp_path: Path, data: bytes, line: int, offset: int) -> None:
    p = tmp_path / "devices.csv"
    p.write_bytes(data)
    with pytest.raises(ValidationFailed) as info:
        table_rows(p)
    [issue] = info.value.issues
    assert issue.file == "devices.csv" and issue.row == line
    assert f"at byte offset {offset} (line {line})" in issue.reason


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b'asset_tag,notes\nA,"unclosed\nB,x\n', 3, "unexpected end of data"),
        (b'asset_tag,notes\nA,"x"y\n', 2, "',' expected after '\"'"),
    ],
)
def test_broken_quoting_is_reported_as_bad_csv(
    tmp_path: Path, data: bytes, line: int, reason: str
) -> None:
    p = tmp_path / "devices.csv"
    p.write_bytes(data)
    with pytest.raises(ValidationFailed) as info:
        table_rows(p)
    [issue] = info.value.issues
    assert issue.row == line and f"not valid CSV: {reason}" in issue.reason


def test_header_names_are_normalised() -> None:
    assert normalise_header("  Asset Tag ") == "asset_tag"
    assert normalise_header("WARRANTY-UNTIL") == "warranty_until"
    assert normalise_header("") == ""


def test_xlsx_values_become_text() -> None:
    assert xlsx_text(None) == ""
    assert xlsx_text(720.0) == "720" and xlsx_text(62.5) == "62.5" and xlsx_text(3) == "3"
    assert xlsx_text(dt.datetime(2024, 1, 15)) == "2024-01-15"
    assert xlsx_text(dt.date(2024, 1, 15)) == "2024-01-15"
    assert xlsx_text(True) == "TRUE"


def header_map(*cols: str):  # type: ignore[no-untyped-def]
    hmap, issues = map_header("devices", "d.csv", 1, list(cols), lambda i: str(i + 1))
    return hmap, issues


def test_parse_row_blank_clear_and_errors() -> None:
    hmap, issues = header_map("asset_tag", "school", "kind", "notes", "mac", "status")
    assert issues == []
    row = parse_row("devices", "d.csv", 2, ["A1", "kpt-psp", "Laptop", "-", "", "-"], hmap, str)
    assert row.values == {"school": "KPT-PSP", "kind": DeviceKind.LAPTOP, "notes": None}
    assert [(i.column, i.reason) for i in row.issues] == [("status", "status cannot be cleared")]
    short = parse_row("devices", "d.csv", 3, ["A2"], hmap, str)
    assert short.ok and short.values == {}


def test_checker_tracks_renames_and_released_keys_in_file_order() -> None:
    hmap, _ = header_map("asset_tag", "school", "kind", "serial", "new_asset_tag")
    old = Device("A", DeviceKind.LAPTOP, "S1", serial="SN-A")
    look = Lookups({"A": old}, {"SN-A": "A"}, {})
    checker = DeviceChecker("d.csv", {"S1": ("10.30.1.0/24",)})
    rows = [
        parse_row("devices", "d.csv", n, cells, hmap, str)
        for n, cells in [
            (2, ["A", "", "", "-", "B"]),  # rename A -> B and clear its serial
            (3, ["A", "S1", "tablet", "SN-A", ""]),  # new device A takes the freed tag and serial
            (4, ["C", "S1", "tablet", "SN-A", ""]),  # but only once
        ]
    ]
    issues = checker.check(rows, look)
    assert [(i.row, i.column, i.reason) for i in issues] == [
        (4, "serial", "duplicate serial (also in row 3)")
    ]
    assert checker.barriers == {3} and checker.invalid == {4}


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, sep: str) -> None:
    p = tmp_path / "devices.csv"
    p.write_text(f"asset_tag{sep}notes{sep}room\nA{sep}a, b{sep}Lab\n", encoding="utf-8")
    header, rows = table_rows(p)
    assert header == ["asset_tag", "notes", "room"] and rows == [(2, ["A", "a, b", "Lab"])]


def test_utf16_gets_a_hint(tmp_path: Path) -> None:
    p = tmp_path / "devices.csv"
    p.write_bytes("asset_tag\nA\n".encode("utf-16"))
    with pytest.raises(ValidationFailed) as info:
        table_rows(p)
    assert "UTF-16" in info.value.issues[0].reason and info.value.issues[0].row == 1
