"""The inventory CLI: exit codes, tables, JSON/CSV, escaping, edits through the change log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from kape_itops.cli import cli
from kape_itops.domain.inventory import ChangeContext, SchoolUpsert
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.functional.test_store import seed


@pytest.fixture
def db(db_url: str) -> str:
    store = Store(db_url)
    store.upgrade()
    seed(store)
    store.dispose()
    return db_url


def run(runner: CliRunner, db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", db, "--actor", "tester", *args])
    return result.exit_code, result.stdout, result.stderr


def test_init_then_commands_work(runner: CliRunner, sqlite_url: str) -> None:
    code, out, _ = run(runner, sqlite_url, "init")
    assert code == 0 and "created database" in out
    code, out, _ = run(runner, sqlite_url, "init")
    assert code == 0 and "up to date" in out
    code, out, err = run(runner, sqlite_url, "inventory", "list")
    assert code == 0 and err == ""


def test_set_show_history_json(runner: CliRunner, db: str) -> None:
    code, out, _ = run(
        runner, db, "inventory", "set", "KAPE-0001", "ip=10.21.1.9", "room=Library", "--json"
    )
    assert code == 0
    changes = json.loads(out)
    assert {(c["field"], c["new"]) for c in changes} == {("ip", "10.21.1.9"), ("room", "Library")}
    assert all(c["actor"] == "tester" for c in changes)
    code, out, _ = run(runner, db, "inventory", "show", "KAPE-0001", "--json")
    shown = json.loads(out)
    assert shown["device"]["room"] == "Library" and len(shown["history"]) == 3
    code, out, _ = run(runner, db, "inventory", "history", "--json", "--limit", "3")
    assert [(c["entity"], c["field"]) for c in json.loads(out)] == [
        ("device", "ip"),
        ("room", None),
        ("device", "room"),
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["set", "KAPE-0001", "mac=nope"], 2, "not a MAC address"),
        (["set", "KAPE-0001", "purchase_date=2024/01/02"], 2, "ISO date"),
        (["set", "KAPE-0001", "unit_price=-3"], 2, "must not be negative"),
        (["set", "KAPE-0001", "wheels=4"], 2, "'wheels' is not an editable field"),
        (["set", "KAPE-0001", "novalue"], 2, "is not FIELD=VALUE"),
        (["set", "NOPE-1", "notes=x"], 1, "no device with asset tag 'NOPE-1'"),
        (["move", "KAPE-0001", "--school", "ZZZ"], 1, "school 'ZZZ' does not exist"),
        (["retire", "KAPE-0001", "--reason", " "], 2, "--reason is required"),
        (["warranty", "--within", "soon"], 2, "not a duration"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    runner: CliRunner, db: str, args: list[str], code: int, message: str
) -> None:
    _, before, _ = run(runner, db, "inventory", "history", "--json")
    got, _out, err = run(runner, db, "inventory", *args)
    assert got == code, err
    assert message in err
    assert run(runner, db, "inventory", "history", "--json")[1] == before


def test_device_strings_are_escaped_in_tables(runner: CliRunner, sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store)
    store.dispose()
    assert run(runner, sqlite_url, "inventory", "set", "KAPE-0001", "model=[bold red]X[/]")[0] == 0
    code, out, _ = run(runner, sqlite_url, "inventory", "show", "KAPE-0001")
    assert code == 0 and "[bold red]X[/]" in out


def test_csv_listing_neutralises_formulas(runner: CliRunner, sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store)
    store.dispose()
    assert (
        run(runner, sqlite_url, "inventory", "set", "KAPE-0001", 'notes==HYPERLINK("http://x")')[0]
        == 0
    )
    code, out, _ = run(runner, sqlite_url, "inventory", "list", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["notes"] == '\'=HYPERLINK("http://x")'


def test_summary_and_warranty_tables(runner: CliRunner, db: str) -> None:
    code, out, _ = run(runner, db, "inventory", "summary")
    assert code == 0 and "KPT-PSP" in out and "IDEAL" in out
    code, out, _ = run(runner, db, "inventory", "warranty", "--within", "90d", "--json")
    rep = json.loads(out)
    assert [d["asset_tag"] for d in rep["expired"]] == ["KAPE-0001"]
    assert [d["asset_tag"] for d in rep["expiring"]] == ["KAPE-0002"]


def test_module_entry_point() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "kape_itops", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "itops" in out.stdout


def test_show_finds_a_device_by_tag_ip_mac_serial_or_host_name(runner: CliRunner, db: str) -> None:
    assert run(runner, db, "inventory", "set", "KAPE-0001", "ip=10.21.1.9")[0] == 0
    assert run(runner, db, "inventory", "set", "KAPE-0002", "hostname=psp-cam1.school.lan")[0] == 0
    for key, tag in [
        ("kape-0001", "KAPE-0001"),
        ("10.21.1.9", "KAPE-0001"),
        ("AA-BB-CC-00-00-01", "KAPE-0001"),
        ("aabb.cc00.0001", "KAPE-0001"),
        ("sn1", "KAPE-0001"),
        ("PSP-CAM1.school.lan", "KAPE-0002"),
        ("psp-cam1", "KAPE-0002"),
    ]:
        code, out, err = run(runner, db, "inventory", "show", key, "--json")
        assert code == 0, (key, err)
        shown = json.loads(out)
        assert shown["device"]["asset_tag"] == tag, key
        assert shown["history"] and {c["key"] for c in shown["history"]} == {tag}
    code, _, err = run(runner, db, "inventory", "show", "psp-cam")
    assert code == 1 and "no device with asset tag, IP, MAC, serial or host name 'psp-cam'" in err
    code, _, err = run(runner, db, "inventory", "show", "%")
    assert code == 1 and "no device" in err


def test_show_lists_every_match_and_exits_1(runner: CliRunner, db: str) -> None:
    assert run(runner, db, "inventory", "set", "KAPE-0002", "hostname=SN1")[0] == 0
    code, out, err = run(runner, db, "inventory", "show", "sn1")
    assert code == 1 and "2 devices match 'sn1'" in err
    assert "KAPE-0001" in out and "KAPE-0002" in out
    code, out, _ = run(runner, db, "inventory", "show", "sn1", "--json")
    assert code == 1
    assert [d["asset_tag"] for d in json.loads(out)["matches"]] == ["KAPE-0001", "KAPE-0002"]
    code, out, _ = run(runner, db, "inventory", "show", "KAPE-0002", "--json")
    assert code == 0 and json.loads(out)["device"]["hostname"] == "SN1"


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--school", "NOPE"],
        ["list", "--school", "KPT-PSP", "--school", "nope"],
        ["summary", "--school", "NOPE"],
        ["warranty", "--school", "NOPE"],
        ["labels", "--school", "NOPE", "-o", "labels.html"],
    ],
)
def test_an_unknown_school_is_an_error_not_an_empty_table(
    runner: CliRunner, db: str, args: list[str]
) -> None:
    code, out, err = run(runner, db, "inventory", *args)
    assert (code, out) == (1, "")
    assert "school 'NOPE' does not exist; schools: KPT-PSH, KPT-PSP" in err
    code, _, err = run(runner, db, "inventory", "list", "--school", "kpt-ps")
    assert code == 1 and "did you mean KPT-PSP, KPT-PSH?" in err


def test_unknown_top_level_command_suggests_the_closest(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["inventroy", "list"])
    assert result.exit_code == 2 and "Did you mean 'inventory'?" in result.stderr
    result = runner.invoke(cli, ["inventory", "lst"])
    assert result.exit_code == 2 and "'list'" in result.stderr


def test_moving_a_device_out_of_its_subnets_warns_and_moves(runner: CliRunner, db: str) -> None:
    store = Store(db)
    with store.session() as s:
        ctx = ChangeContext("tester", "test", dt.datetime.now(dt.UTC))
        subnets = ("10.22.1.0/24", "10.22.2.0/24")
        InventoryRepo(s).apply_schools([SchoolUpsert("KPT-PSH", {"subnets": subnets})], ctx)
    store.dispose()
    assert run(runner, db, "inventory", "set", "KAPE-0001", "ip=10.21.1.9")[0] == 0
    code, out, err = run(runner, db, "inventory", "move", "KAPE-0001", "--school", "kpt-psh")
    assert code == 0 and "KPT-PSH" in out
    warning = (
        "warning: KAPE-0001's IP 10.21.1.9 is outside KPT-PSH's subnets "
        "(10.22.1.0/24, 10.22.2.0/24); give it a new address with "
        "itops inventory set KAPE-0001 ip=...\n"
    )
    assert err == warning
    code, out, _ = run(runner, db, "inventory", "show", "KAPE-0001", "--json")
    assert json.loads(out)["device"]["school"] == "KPT-PSH"
    code, _, err = run(runner, db, "inventory", "set", "KAPE-0001", "ip=10.22.2.40")
    assert code == 0 and err == ""
    code, _, err = run(runner, db, "inventory", "set", "KAPE-0001", "school=KPT-PSP")
    assert code == 0 and "outside KPT-PSP's subnets (10.21.1.0/24)" in err
    code, _, err = run(runner, db, "inventory", "move", "KAPE-0002", "--school", "KPT-PSH")
    assert code == 0 and err == ""  # no IP: nothing to check


def _seeded(url: str) -> None:
    store = Store(url)
    store.upgrade()
    seed(store)
    night = ChangeContext("tester", "t", dt.datetime(2020, 3, 1, 20, 0, tzinfo=dt.UTC))
    with store.session() as s:  # 03:00 on 2 March in Phnom Penh, 20:00 on 1 March in UTC
        InventoryRepo(s).apply_schools([SchoolUpsert("SRP-NIGHT", {"name": "Night"})], night)
    store.dispose()


def test_tables_show_local_times_and_whole_identifiers_at_80_columns(
    runner: CliRunner, sqlite_url: str
) -> None:
    _seeded(sqlite_url)
    edit = ["set", "KAPE-0001", "ip=10.21.1.109", "model=ThinkPad E14 Gen 5 with a long name"]
    assert run(runner, sqlite_url, "inventory", *edit, "funding=IDEAL primary ICT 2024")[0] == 0

    def show(tz: str, *args: str) -> str:
        env = {"COLUMNS": "80", "ITOPS_TZ": tz}
        result = runner.invoke(cli, ["--db", sqlite_url, "inventory", *args], env=env)
        assert result.exit_code == 0, result.output
        assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80
        return result.stdout

    listed = show("Asia/Phnom_Penh", "list")
    assert "KAPE-0001" in listed and "10.21.1.109" in listed and "KAPE-0002" in listed
    shown = show("Asia/Phnom_Penh", "history")
    night = next(line for line in shown.splitlines() if "SRP-NIGHT" in line)
    assert "when (+07)" in shown and "2020-03-02 03:00:00" in night and "UTC" not in shown
    assert "2020-03-01 20:00:00" in show("UTC", "history")
    # a --since date is a local day: 03:00 on 2 March is in it in Phnom Penh, not in UTC
    assert "SRP-NIGHT" in show("Asia/Phnom_Penh", "history", "--since", "2020-03-02")
    assert "SRP-NIGHT" not in show("UTC", "history", "--since", "2020-03-02")
    bad = runner.invoke(cli, ["--db", sqlite_url, "inventory", "history"], env={"ITOPS_TZ": "X/Y"})
    assert bad.exit_code == 2 and "ITOPS_TZ 'X/Y' is not a known time zone" in bad.output
