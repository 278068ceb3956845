"""Inventory services the web pages call, on both backends: search, form edits checked as an
import row, move/retire/repair with a reason, discovery's add-to-inventory, downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from kape_itops.discovery.service import DiscoveryService
from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.errors import NotFoundError, UsageError, ValidationFailed
from kape_itops.inventory.exporter import ExportFormat
from kape_itops.inventory.importer import Mode
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import record_sweeps
from tests.functional.test_import import devices_file, run, seeded, snapshot


def _inv(store: Store, tmp_path: Path) -> Inventory:
    seeded(store, tmp_path)
    return Inventory(store, "sokha")


def _errors(info: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {str(i.column): i.reason for i in info.value.issues if i.severity == "error"}


def test_search_each_key_ignoring_case(store: Store, tmp_path: Path) -> None:
    inv = _inv(store, tmp_path)
    inv.set("D2", {"hostname": "Gate-Cam.psp.lan", "model": "IPC-HFW1230"})
    tags = lambda text: [d.asset_tag for d in inv.search(text).devices]  # noqa: E731
    assert tags("d1") == ["D1"]  # tag
    assert tags("s2") == ["D2"]  # serial
    assert tags("AA:BB:CC:00:00:02") == ["D2"] and tags("aabbcc000002") == ["D2"]  # MAC
    assert tags("AA-BB-CC-00-00-0") == ["D1", "D2"]
    assert tags("10.30.1.3") == ["D2"]  # IP, a part of it
    assert tags("GATE-CAM") == ["D2"] and tags("hfw1230") == ["D2"]  # host name, model
    assert tags("") == ["D1", "D2"] and tags("%") == [] and tags("nothing") == []
    assert inv.search("d", flt=DeviceFilter(schools=("KPT-PSH",))).total == 0


def test_search_pages_of_fifty_exact_tag_first(store: Store, tmp_path: Path) -> None:
    inv = _inv(store, tmp_path)
    rows = [f"X{n:03d},KPT-PSH,laptop,SX{n},,,,,,," for n in range(120)]
    run(store, devices_file(tmp_path / "many", *rows))
    first = inv.search("x")
    assert (first.total, first.pages, len(first.devices)) == (120, 3, 50)
    last = inv.search("x", page=3)
    assert [d.asset_tag for d in last.devices][-1] == "X119" and len(last.devices) == 20
    assert inv.search("x100").devices[0].asset_tag == "X100"
    assert next(d.asset_tag for d in inv.search("sx11").devices) == "X011"
    assert inv.search("X", page=99).devices == ()


def test_edit_logs_the_user_and_refuses_every_error_at_once(store: Store, tmp_path: Path) -> None:
    inv = _inv(store, tmp_path)
    before = snapshot(store)
    with pytest.raises(ValidationFailed) as info:
        inv.edit(
            "d2",
            {
                "mac": "not-a-mac",
                "purchase_date": "04/12/2026",
                "serial": "S1",  # D1's
                "kind": "",  # cannot be cleared
                "school": "KPT-PSH",
                "colour": "red",
            },
        )
    errors = _errors(info)
    assert set(errors) == {"mac", "purchase_date", "serial", "kind", "school", "colour"}
    assert "not a MAC address" in errors["mac"] and "ISO date" in errors["purchase_date"]
    assert "device D1 in the database has it" in errors["serial"]
    assert "Move" in errors["school"]
    assert snapshot(store) == before
    done = inv.edit("D2", {"ip": "10.99.0.5", "notes": "", "serial": "S2", "asset_tag": "CAM-1"})
    assert done.tag == "CAM-1"
    assert {(c.field, c.old, c.new) for c in done.changes} == {
        ("asset_tag", "D2", "CAM-1"),
        ("ip", "10.30.1.31", "10.99.0.5"),
        ("notes", "gate", None),
    }
    assert {(c.actor, c.source) for c in done.changes} == {("sokha", "web: inventory edit")}
    assert [(w.column, w.severity) for w in done.warnings] == [("ip", "warning")]  # subnet
    with pytest.raises(ValidationFailed) as info:
        inv.edit("CAM-1", {"status": "retired"})
    assert "Retire" in _errors(info)["status"]
    with pytest.raises(NotFoundError):
        inv.edit("nope", {"ip": "10.0.0.1"})


def test_edit_keeps_what_another_user_changed_meanwhile(store: Store, tmp_path: Path) -> None:
    inv = _inv(store, tmp_path)
    shown = {"ip": "10.30.1.31", "model": ""}  # the form as the user loaded it
    Inventory(store, "dara").set("D2", {"ip": "10.30.1.40"})
    done = inv.edit("D2", {"ip": "10.30.1.31", "model": "DS-2CD"}, shown)
    assert [(c.field, c.new) for c in done.changes] == [("model", "DS-2CD")]
    assert inv.device("D2").ip == "10.30.1.40"


def test_move_retire_repair_keep_the_reason(store: Store, tmp_path: Path) -> None:
    inv = _inv(store, tmp_path)
    with pytest.raises(UsageError, match="reason is required"):
        inv.move("D1", "KPT-PSH", "Lab", reason="  ", source="web: inventory move")
    changes = inv.move("d1", "KPT-PSH", "Lab 2", reason="new lab", source="web: inventory move")
    day = dt.date.today().isoformat()
    assert {c.field for c in changes} == {"school", "room", "notes"}
    assert inv.device("D1").notes == f"Moved {day} from KPT-PSP to KPT-PSH/Lab 2: new lab"
    with pytest.raises(UsageError, match="there already"):
        inv.move("D1", "KPT-PSH", "Lab 2", reason="again")
    out = inv.repair("D1", "screen broken", source="web: inventory repair")
    assert ("status", "deployed", "in_repair") in {(c.field, c.old, c.new) for c in out}
    assert {c.source for c in out} == {"web: inventory repair"}
    with pytest.raises(UsageError, match="in_repair"):
        inv.repair("D1", "again")
    inv.repair("D1", "new screen", done=True)
    assert inv.device("D1").status == DeviceStatus.DEPLOYED
    with pytest.raises(UsageError, match="not in repair"):
        inv.repair("D1", "x", done=True)
    inv.retire("D1", "stolen", source="web: inventory retire")
    notes = (inv.device("D1").notes or "").splitlines()
    assert [n.split(" ", 1)[0] for n in notes] == ["Moved", "In", "Back", "Retired"]
    log = inv.history("D1")
    assert log[-1].source == "web: inventory retire" and log[-1].actor == "sokha"
    inv.edit("D2", {"notes": "n" * 1990})
    with pytest.raises(UsageError, match="longer than 2000"):
        inv.repair("D2", "too long now")
    with pytest.raises(UsageError, match="control character"):
        inv.repair("D2", "bad\x1b[2J")


def _sweep(store: Store) -> None:
    hosts = (
        SweepHost("10.30.1.77", "aa:bb:cc:00:00:77", "Hikvision\x1b", None, HostState.UNKNOWN),
        SweepHost("10.30.1.31", "aa:bb:cc:00:00:02", None, "D2", HostState.KNOWN),
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    rec = SweepRecord("KPT-PSP", at, 2.0, "arp", ("10.30.1.0/24",), "collector", hosts)
    record_sweeps(store, [rec])


def test_add_an_unknown_device_from_the_latest_sweep(store: Store, tmp_path: Path) -> None:
    seeded(store, tmp_path)
    _sweep(store)
    disc = DiscoveryService(store, "sokha")
    with pytest.raises(NotFoundError):
        disc.add_unknown("KPT-PSP", "aa:bb:cc:00:00:02", {"asset_tag": "N1", "kind": "camera"})
    with pytest.raises(ValidationFailed) as info:
        disc.add_unknown("kpt-psp", "AA-BB-CC-00-00-77", {"asset_tag": "d1", "kind": "toaster"})
    errors = _errors(info)
    assert set(errors) == {"asset_tag", "kind"} and "already in use" in errors["asset_tag"]
    with pytest.raises(ValidationFailed) as info:
        disc.add_unknown("KPT-PSP", "aabbcc000077", {"asset_tag": "", "hostname": "a b"})
    assert set(_errors(info)) == {"asset_tag", "hostname"}
    made = disc.add_unknown(
        "KPT-PSP", "aabbcc000077", {"asset_tag": "CAM-77", "kind": "camera", "room": "Gate"}
    )
    device = Inventory(store, "x").device("CAM-77")
    assert (device.mac, device.ip, device.room, device.status) == (
        "aa:bb:cc:00:00:77",
        "10.30.1.77",
        "Gate",
        DeviceStatus.DEPLOYED,
    )
    assert device.manufacturer is None  # the vendor held a control character
    assert {(c.actor, c.source, c.action) for c in made.changes if c.entity == "device"} == {
        ("sokha", "web: discovery add", "create")
    }


def test_downloads_are_formula_safe(store: Store, tmp_path: Path) -> None:
    inv = _inv(store, tmp_path)
    inv.set("D2", {"notes": '=HYPERLINK("http://x")'})
    name, data = inv.export_download(ExportFormat.CSV)
    assert name.startswith("devices-") and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "asset_tag" and [r[0] for r in rows[1:]] == ["D1", "D2"]
    notes = rows[0].index("notes")
    assert rows[2][notes] == '\'=HYPERLINK("http://x")'
    name, data = inv.export_download(ExportFormat.XLSX)
    assert name.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = [list(r) for r in wb["devices"].iter_rows(values_only=True)]
    assert cells[2][notes] == '\'=HYPERLINK("http://x")' and wb.sheetnames == ["schools", "devices"]
    back = tmp_path / "back.xlsx"
    back.write_bytes(data)
    assert inv.import_file(back, Mode.ALL_OR_NOTHING).changes == 0  # round trip
