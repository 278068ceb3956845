"""The inventory CLI: exit codes, tables, JSON/CSV, escaping, edits through the change log."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.store.db import Store
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
    code, out, err = run(runner, sqlite_url, "inventory", "list")
    assert code == 1 and "itops init" in err
    assert run(runner, sqlite_url, "init")[0] == 0
    code, out, _ = run(runner, sqlite_url, "init")
    assert code == 0 and "up to date" in out


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
