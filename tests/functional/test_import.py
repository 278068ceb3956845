"""Import on both backends: every bad-input case names file/row/column and changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from kape_itops.domain.enums import DeviceStatus
from kape_itops.errors import Issue, UsageError, ValidationFailed
from kape_itops.inventory.importer import ImportReport, Mode, import_inventory
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

SCHOOLS_CSV = (
    "code,name,name_km,province,district,level,subnets,contact\n"
    "KPT-PSP,Prey Speu Primary School,សាលាបឋមសិក្សាព្រៃស្ពឺ,Kampot,Chhuk,primary,10.30.1.0/24,Sok Dara\n"
    "KPT-PSH,Prek Sdey High School,វិទ្យាល័យព្រែកស្ដី,Kampot,Kampong Trach,secondary,10.30.2.0/24,Chea Sophal\n"
)
DEVICE_HEADER = "asset_tag,school,kind,serial,mac,ip,status,purchase_date,unit_price,currency,notes"
DEVICES_CSV = (
    DEVICE_HEADER + "\n"
    "D1,KPT-PSP,laptop,S1,aa:bb:cc:00:00:01,,deployed,2024-01-15,720.00,USD,\n"
    "D2,KPT-PSP,camera,S2,aa:bb:cc:00:00:02,10.30.1.31,deployed,2024-02-01,62.00,USD,gate\n"
)


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``folder/name`` (creating the folder); returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def devices_file(folder: Path, *rows: str, header: str = DEVICE_HEADER) -> Path:
    """A devices.csv with the given header and rows."""
    return write(folder, "devices.csv", "\n".join([header, *rows]) + "\n")


def seed_folder(folder: Path) -> Path:
    """A folder with two schools and two devices."""
    write(folder, "schools.csv", SCHOOLS_CSV)
    write(folder, "devices.csv", DEVICES_CSV)
    return folder


def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything import may change: schools, devices, the change log."""
    with store.session() as s:
        repo = InventoryRepo(s)
        return (repo.schools(), list(repo.iter_devices()), repo.history())


def run(store: Store, path: Path, **kw: Any) -> ImportReport:
    return import_inventory(store, path, "tester", **kw)


def seeded(store: Store, tmp_path: Path) -> Path:
    """Import the seed folder; returns a fresh folder for the test's own files."""
    run(store, seed_folder(tmp_path / "seed"))
    return tmp_path / "case"


def rejected(store: Store, path: Path, **kw: Any) -> list[Issue]:
    """Import must fail with nothing written; returns the issues."""
    before = snapshot(store)
    with pytest.raises(ValidationFailed) as info:
        run(store, path, **kw)
    assert snapshot(store) == before
    return info.value.issues


def find(issues: list[Issue], row: int | None, column: str | None, reason: str) -> Issue:
    for i in issues:
        if i.row == row and i.column == column and reason in i.reason and i.severity == "error":
            return i
    raise AssertionError(f"no error at row {row}, column {column} with {reason!r} in {issues}")


BAD_ROWS = [
    # (rows after the header, row, column, reason)
    (["D3,KPT-PSP,,S3,,,,,,,"], 2, "kind", "kind is required to create device D3"),
    (["D3,,laptop,S3,,,,,,,"], 2, "school", "school is required to create device D3"),
    ([",KPT-PSP,laptop,S3,,,,,,,"], 2, "asset_tag", "asset_tag is required"),
    (["D3,KPT-XXX,laptop,S3,,,,,,,"], 2, "school", "unknown school 'KPT-XXX'"),
    (["D3,KPT-PSP,toaster,S3,,,,,,,"], 2, "kind", "unknown value; expected one of: laptop"),
    (
        ["D3,KPT-PSP,laptop,S3,,,broken,,,,"],
        2,
        "status",
        "unknown value; expected one of: in_stock",
    ),
    (
        ["D3,KPT-PSP,laptop,S3,,,,,,,", "D3,KPT-PSP,tablet,S4,,,,,,,"],
        3,
        "asset_tag",
        "duplicate asset tag (also in row 2)",
    ),
    (
        ["D3,KPT-PSP,laptop,S3,,,,,,,", "D4,KPT-PSP,tablet,S3,,,,,,,"],
        3,
        "serial",
        "duplicate serial (also in row 2)",
    ),
    (
        [
            "D3,KPT-PSP,laptop,,aa:bb:cc:00:00:09,,,,,,",
            "D4,KPT-PSP,tablet,,AA-BB-CC-00-00-09,,,,,,",
        ],
        3,
        "mac",
        "duplicate mac (also in row 2)",
    ),
    (
        ["D3,KPT-PSP,laptop,S1,,,,,,,"],
        2,
        "serial",
        "duplicate serial: device D1 in the database has it",
    ),
    (
        ["D3,KPT-PSP,laptop,,AABB.CC00.0002,,,,,,"],
        2,
        "mac",
        "duplicate mac: device D2 in the database has it",
    ),
    (["D2,,,S1,,,,,,,"], 2, "serial", "duplicate serial: device D1 in the database has it"),
    (["D3,KPT-PSP,laptop,,zz:bb:cc:00:00:09,,,,,,"], 2, "mac", "not a MAC address"),
    (["D3,KPT-PSP,laptop,,,10.30.1.300,,,,,"], 2, "ip", "not an IPv4 or IPv6 address"),
    (["D3,KPT-PSP,laptop,,,,,01/02/2024,,,"], 2, "purchase_date", "not an ISO date YYYY-MM-DD"),
    (["D3,KPT-PSP,laptop,,,,,2024-02-30,,,"], 2, "purchase_date", "not a valid date"),
    (["D3,KPT-PSP,laptop,,,,,,-5.00,USD,"], 2, "unit_price", "must not be negative"),
    (
        ["D3,KPT-PSP,laptop,,,,,,5.00,EUR,"],
        2,
        "currency",
        "unknown value; expected one of: USD, KHR",
    ),
    (["D1,-,,,,,,,,,"], 2, "school", "school cannot be cleared"),
    (["D1,,-,,,,,,,,"], 2, "kind", "kind cannot be cleared"),
    (["D1,,,,,,-,,,,"], 2, "status", "status cannot be cleared"),
    (
        ["D3,KPT-PSP,laptop,,,,,,,,,surplus"],
        2,
        "column 12",
        "value in a column without a header cell",
    ),
]


@pytest.mark.parametrize(("rows", "row", "column", "reason"), BAD_ROWS)
def test_bad_device_rows_are_located_and_change_nothing(
    store: Store, tmp_path: Path, rows: list[str], row: int, column: str | None, reason: str
) -> None:
    case = seeded(store, tmp_path)
    issues = rejected(store, devices_file(case, *rows))
    issue = find(issues, row, column, reason)
    assert issue.file == "devices.csv"
    assert "devices.csv, row" in str(issue)


def test_new_tag_already_in_the_database(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    path = devices_file(case, "D1,D2", header="asset_tag,new_asset_tag")
    issues = rejected(store, path)
    find(issues, 1, "school", "required column is missing")
    path = devices_file(case, "D1,,,D2", header="asset_tag,school,kind,new_asset_tag")
    find(
        rejected(store, path),
        2,
        "new_asset_tag",
        "asset tag D2 is already used by a device in the database",
    )


def test_missing_required_columns_and_unknown_columns(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    issues = rejected(store, devices_file(case, "D3,laptop,red", header="asset_tag,kind,colour"))
    find(issues, 1, "school", "required column is missing")
    unknown = [i for i in issues if i.column == "colour"]
    assert unknown and unknown[0].severity == "warning" and "unknown column" in unknown[0].reason


def test_all_errors_are_reported_at_once(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    path = devices_file(
        case,
        "D3,KPT-PSP,laptop,,zz,,,,,,",
        "D4,KPT-XXX,laptop,,,,,,,,",
        "D5,KPT-PSP,laptop,,,,,2024/01/01,-1,EUR,",
        "D3,KPT-PSP,laptop,,,,,,,,",
    )
    issues = rejected(store, path)
    find(issues, 2, "mac", "not a MAC")
    find(issues, 3, "school", "unknown school")
    find(issues, 4, "purchase_date", "ISO date")
    find(issues, 4, "unit_price", "negative")
    find(issues, 4, "currency", "unknown value")
    find(issues, 5, "asset_tag", "duplicate asset tag (also in row 2)")


def test_bad_school_rows(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    header = "code,name,level,subnets"
    text = "\n".join(
        [
            header,
            "KPT-NEW,,primary,",
            "KPT-B,B school,college,",
            "KPT-C,C,primary,10.30.5.1/24",
            "KPT-PSP,-,,",
            "KPT-D,D,,",
            "KPT-D,D again,,",
        ]
    )
    issues = rejected(store, write(case, "schools.csv", text + "\n"))
    find(issues, 2, "name", "name is required to create school KPT-NEW")
    find(issues, 3, "level", "unknown value")
    find(issues, 4, "subnets", "not a network in CIDR form")
    find(issues, 5, "name", "name cannot be cleared")
    find(issues, 7, "code", "duplicate school code (also in row 6)")
    assert all(i.file == "schools.csv" for i in issues)


def test_not_utf8_names_file_line_and_offset(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    text = DEVICE_HEADER + "\nD3,KPT-PSP,laptop,,,,,,,,Salle équipée\n"
    path = write(case, "devices.csv", text, encoding="latin-1")
    issues = rejected(store, path)
    assert len(issues) == 1
    offset = len((DEVICE_HEADER + "\nD3,KPT-PSP,laptop,,,,,,,,Salle ").encode())
    assert issues[0].file == "devices.csv" and issues[0].row == 2
    assert f"byte 0xe9 at byte offset {offset} (line 2)" in issues[0].reason
    assert "UTF-8" in issues[0].reason


def test_bom_and_crlf_are_accepted(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    text = "\ufeff" + DEVICE_HEADER + '\r\nD3,KPT-PSP,laptop,S3,,,,,,,"two\r\nlines"\r\n'
    write(case, "devices.csv", text)
    report = run(store, case)
    assert report.files[0].stats.created == 1
    with store.session() as s:
        d = InventoryRepo(s).device("D3")
    assert d is not None and d.serial == "S3" and d.notes == "two\nlines"


def test_skip_invalid_writes_valid_rows_and_reports_skipped(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    path = devices_file(
        case,
        "D3,KPT-PSP,laptop,S3,,,,,,,",
        "D4,KPT-XXX,laptop,S4,,,,,,,",
        "D5,KPT-PSP,laptop,S3,,,,,,,",
        "D6,KPT-PSP,tablet,S6,,,,,,,",
    )
    with pytest.raises(ValidationFailed):
        run(store, path)
    report = run(store, path, mode=Mode.SKIP_INVALID)
    assert report.files[0].skipped == 2 and report.files[0].stats.created == 2
    assert {(i.row, i.column) for i in report.issues if i.severity == "error"} == {
        (3, "school"),
        (4, "serial"),
    }
    with store.session() as s:
        repo = InventoryRepo(s)
        assert repo.device("D3") and repo.device("D6")
        assert repo.device("D4") is None and repo.device("D5") is None


def test_skip_invalid_still_refuses_unreadable_files(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    path = devices_file(case, "D3,laptop", header="asset_tag,kind")
    find(rejected(store, path, mode=Mode.SKIP_INVALID), 1, "school", "required column is missing")


def test_reimport_changes_nothing_and_says_so(store: Store, tmp_path: Path) -> None:
    folder = seed_folder(tmp_path / "seed")
    first = run(store, folder)
    assert first.changes > 0
    before = snapshot(store)
    again = run(store, folder)
    assert again.changes == 0
    assert [f.stats.unchanged for f in again.files] == [2, 2]
    assert snapshot(store) == before


def test_changes_carry_file_source_and_sha256(store: Store, tmp_path: Path) -> None:
    folder = seed_folder(tmp_path / "seed")
    run(store, folder)
    digest = hashlib.sha256((folder / "devices.csv").read_bytes()).hexdigest()
    with store.session() as s:
        changes = InventoryRepo(s).history()
    device_changes = [c for c in changes if c.entity == "device"]
    assert device_changes and all(c.source == "import: devices.csv" for c in device_changes)
    assert all(c.source_sha256 == digest for c in device_changes)
    assert all(c.actor == "tester" for c in changes)
    assert any(c.source == "import: schools.csv" for c in changes)


def test_dry_run_reports_but_writes_nothing(store: Store, tmp_path: Path) -> None:
    folder = seed_folder(tmp_path / "seed")
    before = snapshot(store)
    report = run(store, folder, dry_run=True)
    assert report.dry_run and report.changes > 0
    assert [f.stats.created for f in report.files] == [2, 2]
    assert snapshot(store) == before


def test_blank_keeps_and_marker_clears(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    run(store, devices_file(case, "D2,,,,,,,,-,-,-"))
    with store.session() as s:
        d = InventoryRepo(s).device("D2")
    assert d is not None
    assert (d.serial, d.ip, d.status) == ("S2", "10.30.1.31", DeviceStatus.DEPLOYED)
    assert (d.unit_price, d.currency, d.notes) == (None, None, None)


def test_own_serial_and_mac_are_not_duplicates(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    report = run(store, devices_file(case, "D1,KPT-PSP,laptop,S1,AA:BB:CC:00:00:01,,in_repair,,,,"))
    assert report.errors == 0 and report.files[0].stats.updated == 1


def test_rename_frees_the_old_tag_and_released_keys_can_move(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    path = devices_file(
        case,
        "D1,,,,,,,,,,renamed,D9",
        "D1,KPT-PSH,tablet,S7,,,,,,,new device with the freed tag,",
        "D2,,,-,-,,,,,,,",
        "D5,KPT-PSP,laptop,S2,aa:bb:cc:00:00:02,,,,,,takes D2's serial and MAC,",
        header=DEVICE_HEADER + ",new_asset_tag",
    )
    report = run(store, path)
    assert report.errors == 0
    with store.session() as s:
        repo = InventoryRepo(s)
        d9, d1, d2, d5 = (repo.device(t) for t in ("D9", "D1", "D2", "D5"))
    assert d9 is not None and d9.serial == "S1" and d9.kind == "laptop"
    assert d1 is not None and d1.serial == "S7" and d1.school == "KPT-PSH"
    assert d2 is not None and d2.serial is None and d2.mac is None
    assert d5 is not None and (d5.serial, d5.mac) == ("S2", "aa:bb:cc:00:00:02")
    assert report.files[0].stats.renamed == 1


def test_rename_into_a_tag_of_the_same_file_is_a_duplicate(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    path = devices_file(
        case,
        "D3,KPT-PSP,laptop,,,,,,,,,",
        "D1,,,,,,,,,,,D3",
        header=DEVICE_HEADER + ",new_asset_tag",
    )
    find(rejected(store, path), 3, "new_asset_tag", "duplicate asset tag (also in row 2)")


def test_ip_outside_subnets_is_a_warning(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    report = run(
        store, devices_file(case, "D3,KPT-PSP,printer,,,192.168.1.20,,,,,", "D2,,,,,10.30.2.5,,,,,")
    )
    warnings = [(i.row, i.column, i.severity) for i in report.issues]
    assert warnings == [(2, "ip", "warning"), (3, "ip", "warning")]
    assert "outside school KPT-PSP's subnets (10.30.1.0/24)" in report.issues[0].reason
    assert report.files[0].stats.created == 1


def test_schools_of_the_same_import_serve_its_devices(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "new"
    write(folder, "schools.csv", "code,name,subnets\nkep-khs,Kep High School,10.30.7.0/24\n")
    devices_file(folder, "K1,KEP-KHS,router,,,10.30.7.1,deployed,,,,")
    report = run(store, folder)
    assert report.errors == 0 and report.warnings == 0
    with store.session() as s:
        d = InventoryRepo(s).device("K1")
    assert d is not None and d.school == "KEP-KHS"


def test_single_csv_is_told_apart_by_header(store: Store, tmp_path: Path) -> None:
    schools = write(tmp_path / "a", "list.csv", SCHOOLS_CSV)
    assert run(store, schools).files[0].entity == "schools"
    devices = write(
        tmp_path / "b", "export 2024.csv", DEVICES_CSV.replace("asset_tag", " Asset Tag ")
    )
    assert run(store, devices).files[0].entity == "devices"
    other = write(tmp_path / "c", "x.csv", "name,colour\na,b\n")
    issues = rejected(store, other)
    assert "cannot tell a schools file from a devices file" in issues[0].reason


def test_usage_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run(store, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"neither schools\.csv nor devices\.csv"):
        run(store, tmp_path / "empty")
    with pytest.raises(UsageError, match="unsupported file type"):
        run(store, write(tmp_path, "x.pdf", "x"))


def test_formula_quote_is_undone_on_import(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    run(
        store,
        devices_file(
            case,
            'D3,KPT-PSP,laptop,,,,,,,,\'=HYPERLINK("http://x")',
            "D4,KPT-PSP,laptop,,,,,,,,'plain",
        ),
    )
    with store.session() as s:
        repo = InventoryRepo(s)
        d3, d4 = repo.device("D3"), repo.device("D4")
    assert d3 is not None and d3.notes == '=HYPERLINK("http://x")'
    assert d4 is not None and d4.notes == "'plain"


def test_json_import_locates_items(store: Store, tmp_path: Path) -> None:
    case = seeded(store, tmp_path)
    case.mkdir()
    path = write(
        case, "inv.json", '{"devices": [{"asset_tag": "J1", "school": "KPT-PSP", "kind": "nas"}]}'
    )
    issues = rejected(store, path)
    find(issues, 1, "kind", "unknown value")
    assert issues[0].file == "inv.json [devices]"
    path = write(case, "inv.json", '{"devices": [{"asset_tag": "J1", "kind": "tablet"}]}')
    find(rejected(store, path), None, "school", "required column is missing")
    path = write(case, "inv.json", '{"devices": [1, 2]}')
    assert "must be a list of objects" in rejected(store, path)[0].reason
    path = write(case, "inv.json", '{"devices": [')
    assert "not valid JSON" in rejected(store, path)[0].reason
