"""``itops inventory import/export`` through click: exit codes, dry-run output, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.store.db import Store
from tests.functional.test_import import devices_file, seed_folder, snapshot


def itops(runner: CliRunner, db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", db_url, "--actor", "cli-test", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_dry_run_then_real_then_again(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    folder = seed_folder(tmp_path / "seed")
    code, out, _ = itops(runner, store.url, "inventory", "import", str(folder), "--dry-run")
    assert code == 0
    assert "dry run: nothing written; the import would record" in out
    assert snapshot(store)[1] == []
    code, out, _ = itops(runner, store.url, "inventory", "import", str(folder))
    assert code == 0 and "imported:" in out
    code, out, _ = itops(runner, store.url, "inventory", "import", str(folder))
    assert code == 0 and "no changes: the database already matches" in out


def test_data_errors_exit_1_with_located_messages(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    itops(runner, store.url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    before = snapshot(store)
    path = devices_file(
        tmp_path / "bad", "D3,KPT-PSP,laptop,,zz,,,,,,", "D4,KPT-XXX,laptop,,,,,,,,"
    )
    code, out, err = itops(runner, store.url, "inventory", "import", str(path))
    assert code == 1
    assert "devices.csv, row 2, column 'mac': not a MAC address" in err
    assert "devices.csv, row 3, column 'school': unknown school 'KPT-XXX'" in err
    assert snapshot(store) == before
    code, out, err = itops(runner, store.url, "inventory", "import", str(path), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert {(i["row"], i["column"]) for i in data["issues"]} == {(2, "mac"), (3, "school")}
    code, out, err = itops(
        runner, store.url, "inventory", "import", str(path), "--mode", "skip-invalid"
    )
    assert code == 1 and "2 invalid row(s) skipped" in out
    assert snapshot(store)[1] == before[1]


def test_skip_invalid_json_report(store: Store, runner: CliRunner, tmp_path: Path) -> None:
    itops(runner, store.url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    path = devices_file(tmp_path / "mix", "D3,KPT-PSP,laptop,,,,,,,,", "D4,KPT-XXX,laptop,,,,,,,,")
    code, out, _ = itops(
        runner, store.url, "inventory", "import", str(path), "--mode", "skip-invalid", "--json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["files"][0]["skipped"] == 1 and data["files"][0]["stats"]["created"] == 1
    assert data["mode"] == "skip-invalid" and data["errors"] == 1


def test_usage_errors_exit_2(store: Store, runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = itops(runner, store.url, "inventory", "import", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in err
    code, _, err = itops(runner, store.url, "inventory", "import", str(tmp_path), "--mode", "maybe")
    assert code == 2 and "Invalid value for '--mode'" in err
    code, _, err = itops(runner, store.url, "inventory", "import", str(tmp_path))
    assert code == 2 and "neither schools.csv nor devices.csv" in err
    code, _, err = itops(runner, store.url, "inventory", "export", str(tmp_path), "--format", "pdf")
    assert code == 2


def test_export_cli_round_trip(store: Store, runner: CliRunner, tmp_path: Path) -> None:
    itops(runner, store.url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    for target in ("out", "inv.xlsx", "inv.json"):
        path = tmp_path / target
        code, out, _ = itops(runner, store.url, "inventory", "export", str(path))
        assert code == 0 and "exported 2 school(s) and 2 device(s)" in out
        code, out, _ = itops(runner, store.url, "inventory", "import", str(path))
        assert code == 0 and "no changes" in out
