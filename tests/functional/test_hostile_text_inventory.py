"""Control and bidi characters in the inventory: refused on the way in, revealed on the way out.

Imports, edits and ``--actor`` refuse them, naming the file, row, column and character. Rows an
older version (or another tool) stored with them are shown as escapes by every output: tables,
``--json`` (same data, ``\\uXXXX`` escapes), ``--csv``, export files and the label sheet. Both
database backends.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.fields import DEVICE_COLUMNS
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.hostile.text import HOSTILE, KHMER, STORABLE, assert_clean

SHORT = {k: v for k, v in STORABLE.items() if k != "long_line"}
"""Storable hostile strings that fit any column."""
FIELDS = ("manufacturer", "model", "serial", "funding", "vendor", "platform", "credential")
HOSTILE_DEVICE = "KAPE-0666"


def run(runner: CliRunner, db: str, *args: str, actor: str = "tester") -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", db, "--actor", actor, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(db_url: str) -> str:
    """A school and a device whose text fields hold hostile strings, written past the parsers
    (as an older version could have), by a hostile actor from a hostile source."""
    store = Store(db_url)
    store.upgrade()
    names = list(SHORT.values())
    ctx = ChangeContext(
        SHORT["clear_screen"] + "bob", "import " + SHORT["rlo"], dt.datetime.now(dt.UTC)
    )
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [SchoolUpsert("KPT-EVL", {"name": "Evil " + SHORT["osc_title"], "name_km": KHMER})],
            ctx,
        )
        values: dict[str, object] = {
            "school": "KPT-EVL",
            "kind": DeviceKind.PRINTER,
            "status": DeviceStatus.DEPLOYED,
            "room": "Lab " + SHORT["blink"],
            "notes": STORABLE["long_line"][-1500:] + "\n" + "".join(names),
            "warranty_until": dt.date.today() + dt.timedelta(days=10),
        }
        values.update({f: f"{f} {names[i % len(names)]}"[:60] for i, f in enumerate(FIELDS)})
        repo.apply_devices([DeviceUpsert(HOSTILE_DEVICE, values)], ctx)
    store.dispose()
    return db_url


def _stored(db: str) -> dict[str, object]:
    store = Store(db)
    with store.session() as s:
        device = InventoryRepo(s).device(HOSTILE_DEVICE)
    store.dispose()
    assert device is not None
    return {c: getattr(device, c) for c in DEVICE_COLUMNS}


@pytest.mark.parametrize(
    "args",
    [
        ["inventory", "list"],
        ["inventory", "list", "--search", "model"],
        ["inventory", "show", HOSTILE_DEVICE],
        ["inventory", "summary"],
        ["inventory", "history"],
        ["inventory", "history", HOSTILE_DEVICE],
        ["inventory", "warranty"],
        ["inventory", "list", "--csv"],
    ],
    ids=lambda a: "-".join(a[1:]),
)
def test_stored_hostile_text_is_shown_as_escapes(
    runner: CliRunner, db: str, args: list[str]
) -> None:
    code, out, err = run(runner, db, *args)
    assert code == 0, err
    assert_clean(out, " ".join(args))
    assert_clean(err, "stderr")
    assert "\\x" in out or "\\u" in out  # the evidence is there, visibly


@pytest.mark.parametrize(
    "args",
    [
        ["inventory", "list", "--json"],
        ["inventory", "show", HOSTILE_DEVICE, "--json"],
        ["inventory", "history", "--json"],
        ["inventory", "summary", "--json"],
        ["inventory", "warranty", "--json"],
    ],
    ids=lambda a: "-".join(a[1:]),
)
def test_json_escapes_hidden_characters_and_keeps_the_data(
    runner: CliRunner, db: str, args: list[str]
) -> None:
    code, out, err = run(runner, db, *args)
    assert code == 0, err
    assert_clean(out, " ".join(args))
    json.loads(out)  # valid JSON
    if args[1] == "list":
        (device,) = json.loads(out)
        assert device["model"] == _stored(db)["model"] and device["notes"] == _stored(db)["notes"]


def test_export_files_and_labels_are_clean(runner: CliRunner, db: str, tmp_path: Path) -> None:
    for fmt, target in (("csv", tmp_path / "csv"), ("json", tmp_path / "inv.json")):
        code, out, err = run(runner, db, "inventory", "export", str(target), "--format", fmt)
        assert code == 0, err
        assert_clean(out + err)
    for f in [*(tmp_path / "csv").glob("*.csv"), tmp_path / "inv.json"]:
        assert_clean(f.read_text("utf-8-sig"), f.name)
    code, _, err = run(runner, db, "inventory", "export", str(tmp_path / "inv.xlsx"))
    assert code == 0, err
    wb = load_workbook(tmp_path / "inv.xlsx")
    cells = [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c]
    assert_clean("\n".join(cells), "inv.xlsx")
    assert any("\\u202e" in c for c in cells)
    code, _, err = run(runner, db, "inventory", "labels", "-o", str(tmp_path / "labels.html"))
    assert code == 0, err
    html = (tmp_path / "labels.html").read_text("utf-8")
    assert_clean(html, "labels.html")
    assert "Evil \\x1b]0;owned\\x07" in html


def test_exported_file_reimports_with_the_escapes_as_text(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    code, _, err = run(runner, db, "inventory", "export", str(tmp_path / "out"))
    assert code == 0, err
    code, out, err = run(runner, db, "inventory", "import", str(tmp_path / "out"), "--json")
    assert code == 0, err
    assert_clean(out + err)
    model = str(_stored(db)["model"])
    assert "\x1b" not in model and "\u202e" not in model and "\\" in model


def _devices_csv(path: Path, notes: str) -> Path:
    path.mkdir()
    with (path / "schools.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["code", "name"], ["KPT-NEW", "New school"]])
    with (path / "devices.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [["asset_tag", "school", "kind", "notes"], ["KAPE-0777", "KPT-NEW", "laptop", notes]]
        )
    return path


@pytest.mark.parametrize("name", sorted(k for k in HOSTILE if k not in ("long_line",)))
def test_import_refuses_hidden_characters_naming_the_cell(
    runner: CliRunner, db: str, tmp_path: Path, name: str
) -> None:
    if name == "lone_surrogate":  # not UTF-8: a JSON file can still carry one as \udcff
        src = tmp_path / "inv.json"
        src.write_text(
            json.dumps(
                {
                    "format": "kape-itops-inventory",
                    "version": 1,
                    "schools": [{"code": "KPT-NEW", "name": "New"}],
                    "devices": [
                        {
                            "asset_tag": "KAPE-0777",
                            "school": "KPT-NEW",
                            "kind": "laptop",
                            "notes": HOSTILE[name],
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
    else:
        src = _devices_csv(tmp_path / "in", "ok " + HOSTILE[name])
    code, out, err = run(runner, db, "inventory", "import", str(src))
    assert code == 1
    assert_clean(out + err, "import report")
    assert "notes" in out + err and "U+" in out + err
    code, out, _ = run(runner, db, "inventory", "show", "KAPE-0777")
    assert code == 1  # nothing written


def test_import_accepts_khmer_joiners(runner: CliRunner, db: str, tmp_path: Path) -> None:
    code, _, err = run(runner, db, "inventory", "import", str(_devices_csv(tmp_path / "in", KHMER)))
    assert code == 0, err
    code, out, _ = run(runner, db, "inventory", "show", "KAPE-0777", "--json")
    assert json.loads(out)["device"]["notes"] == KHMER


@pytest.mark.parametrize(
    "args",
    [
        ["set", HOSTILE_DEVICE, "notes=x" + HOSTILE["rlo"]],
        ["set", HOSTILE_DEVICE, "model=" + HOSTILE["c1_csi"]],
        ["move", HOSTILE_DEVICE, "--room", "Lab" + HOSTILE["clear_screen"]],
        ["retire", HOSTILE_DEVICE, "--reason", "gone" + HOSTILE["del"]],
    ],
    ids=["set-notes", "set-model", "move-room", "retire-reason"],
)
def test_edits_refuse_hidden_characters(runner: CliRunner, db: str, args: list[str]) -> None:
    _, before, _ = run(runner, db, "inventory", "history", "--json")
    code, out, err = run(runner, db, "inventory", *args)
    assert code == 2, out + err
    assert_clean(out + err)
    assert "U+" in err
    _, after, _ = run(runner, db, "inventory", "history", "--json")
    assert after == before


@pytest.mark.parametrize(
    "actor", [HOSTILE["clear_screen"], "bob" + HOSTILE["rlo"], "x\x9b2J", "d" * 101]
)
def test_actor_with_hidden_characters_is_refused(runner: CliRunner, db: str, actor: str) -> None:
    code, out, err = run(runner, db, "inventory", "set", HOSTILE_DEVICE, "room=Office", actor=actor)
    assert code == 2
    assert_clean(out + err)
    assert "--actor" in err


def test_actor_from_the_environment_is_checked(runner: CliRunner, db: str) -> None:
    result = runner.invoke(
        cli, ["--db", db, "inventory", "list"], env={"ITOPS_ACTOR": "eve\x1b]0;x\x07"}
    )
    assert result.exit_code == 2
    assert_clean(result.stdout + result.stderr)
    assert "ITOPS_ACTOR" in result.stderr and "U+001B" in result.stderr
