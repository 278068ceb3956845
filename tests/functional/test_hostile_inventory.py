"""Hostile inventory files: every one is refused with a located one-line error, in bounds.

XLSX bombs run through the real CLI in a child process whose memory is capped and measured
(tests/hostile/bounded.py); JSON and CSV files through click, on both database backends where
something could be written.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.functional.test_import import seed_folder, snapshot
from tests.hostile import inventory_files as inv
from tests.hostile import xlsx_bombs
from tests.hostile.bounded import run_itops

PEAK_MIB = 400
"""Peak memory any refusal may take (the interpreter, SQLAlchemy and openpyxl are ~80 MiB)."""
SECONDS = 30
LINE = 300
"""Longest line a refusal may print (values are quoted as a short prefix)."""


def itops(
    runner: CliRunner, url: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", url, "--actor", "hostile", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def assert_clear(err: str, name: str) -> list[str]:
    """A headline naming the file, then one line per issue: short, located, no traceback."""
    lines = [x for x in err.splitlines() if not x.startswith("created database")]
    assert "Traceback" not in err
    assert lines[0].startswith("error: ") and name in lines[0], err[:2000]
    issues = lines[1:]
    assert issues and all(x.startswith(("  error: ", "  warning: ")) for x in issues), err[:2000]
    assert all(len(x) <= LINE for x in lines), err[:2000]
    return issues


@pytest.mark.parametrize("bomb", sorted(xlsx_bombs.BOMBS))
def test_hostile_workbooks_are_refused_in_bounded_memory_and_time(
    tmp_path: Path, bomb: str
) -> None:
    path = xlsx_bombs.BOMBS[bomb](tmp_path)
    db = f"sqlite:///{tmp_path / 'itops.db'}"
    run = run_itops(["--db", db, "inventory", "import", str(path)], timeout=120)
    assert run.code == 1, run.stderr[-2000:]
    [issue] = assert_clear(run.stderr, path.name)
    assert issue.startswith(f"  error: {path.name}: ") and "cannot be read" in run.stderr
    assert 0 < run.peak_mib < PEAK_MIB, f"{bomb}: peak {run.peak_mib:.0f} MiB"
    assert run.seconds < SECONDS, f"{bomb}: {run.seconds:.1f} s"


def test_a_harmless_workbook_still_imports(store: Store, runner: CliRunner, tmp_path: Path) -> None:
    itops(runner, store.url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    code, _out, err = itops(
        runner, store.url, "inventory", "import", str(xlsx_bombs.good(tmp_path, 20))
    )
    assert code == 0, err
    with store.session() as s:
        assert InventoryRepo(s).device("D21").kind == "laptop"


def test_limits_are_settings(runner: CliRunner, sqlite_url: str, tmp_path: Path) -> None:
    itops(runner, sqlite_url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    path = xlsx_bombs.good(tmp_path, 20)
    code, _, err = itops(
        runner, sqlite_url, "inventory", "import", str(path), env={"ITOPS_MAX_ROWS": "10"}
    )
    assert code == 1 and "over the limit of 10 rows (ITOPS_MAX_ROWS)" in err
    code, _, err = itops(
        runner, sqlite_url, "inventory", "import", str(path), env={"ITOPS_MAX_ROWS": "many"}
    )
    assert code == 2 and "ITOPS_MAX_ROWS must be a positive whole number" in err
    big = tmp_path / "devices.csv"
    big.write_text("asset_tag,school,kind\n" + "D1,KPT-PSP,laptop\n" * 70_000)
    code, _, err = itops(
        runner, sqlite_url, "inventory", "import", str(big), env={"ITOPS_MAX_FILE_MB": "1"}
    )
    assert code == 1 and "over the limit of 1 MiB (raise it with ITOPS_MAX_FILE_MB)" in err
    code, _, err = itops(
        runner, sqlite_url, "inventory", "import", str(big), env={"ITOPS_MAX_ROWS": "1000"}
    )
    assert code == 1 and "more than 1,000 rows" in err


@pytest.mark.parametrize("case", sorted(inv.JSON_FILES))
def test_hostile_json_is_refused(
    runner: CliRunner, sqlite_url: str, tmp_path: Path, case: str
) -> None:
    make, words = inv.JSON_FILES[case]
    path = make(tmp_path)
    code, _, err = itops(runner, sqlite_url, "inventory", "import", str(path))
    assert code == 1, err
    assert_clear(err, path.name)
    assert words in err


@pytest.mark.parametrize("case", sorted(inv.CSV_FILES))
def test_hostile_csv_is_refused(
    runner: CliRunner, sqlite_url: str, tmp_path: Path, case: str
) -> None:
    make, words = inv.CSV_FILES[case]
    path = make(tmp_path)
    code, _, err = itops(runner, sqlite_url, "inventory", "import", str(path))
    assert code == 1, err
    assert_clear(err, path.name)
    assert words in err


def _prices(folder: Path, prices: list[str]) -> Path:
    rows = [f'D{n},KPT-PSP,laptop,"{p}"' for n, p in enumerate(prices, 10)]
    path = folder / "devices.csv"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([inv.HEADER, *rows]) + "\n")
    return path


def test_prices_are_read_exactly_or_refused_with_the_cell_named(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    itops(runner, store.url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    before = snapshot(store)
    bad = list(inv.BAD_PRICES)
    code, _, err = itops(
        runner, store.url, "inventory", "import", str(_prices(tmp_path / "bad", bad))
    )
    assert code == 1 and "Traceback" not in err
    for row, (text, words) in enumerate(inv.BAD_PRICES.items(), 2):
        line = next(x for x in err.splitlines() if f"row {row}, column 'unit_price'" in x)
        assert words in line, (text, line)
        assert len(line) <= LINE
    assert snapshot(store) == before
    good = list(inv.GOOD_PRICES)
    path = _prices(tmp_path / "good", good)
    code, out, err = itops(runner, store.url, "inventory", "import", str(path))
    assert code == 0, err
    with store.session() as s:
        repo = InventoryRepo(s)
        stored = [str(repo.device(f"D{n}").unit_price) for n in range(10, 10 + len(good))]
    assert stored == list(inv.GOOD_PRICES.values())
    # the largest amount survives the database exactly: importing again changes nothing
    code, out, err = itops(runner, store.url, "inventory", "import", str(path))
    assert code == 0 and "no changes: the database already matches" in out, out


def _notes(text: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return {r["asset_tag"]: r["notes"] for r in rows if r["asset_tag"].startswith("N")}


def test_list_csv_neutralises_formulas_exactly_as_export(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    itops(runner, store.url, "inventory", "import", str(seed_folder(tmp_path / "seed")))
    # cells in the export's encoding: ''=x stores the text '=x, and '=1+1 stores =1+1
    cells = ["''=x", "'=1+1", "'''=x", "'+5 cm", "'@SUM(A1)", "plain"]
    source = tmp_path / "in" / "devices.csv"
    source.parent.mkdir()
    rows = [f'N{n},KPT-PSP,laptop,"{c}"' for n, c in enumerate(cells, 10)]
    source.write_text("\n".join(["asset_tag,school,kind,notes", *rows]) + "\n")
    code, _, err = itops(runner, store.url, "inventory", "import", str(source))
    assert code == 0, err
    with store.session() as s:
        stored = {d.asset_tag: d.notes for d in InventoryRepo(s).iter_devices()}
    assert stored["N10"] == "'=x" and stored["N11"] == "=1+1"
    code, listed, err = itops(runner, store.url, "inventory", "list", "--csv")
    assert code == 0, err
    code, _, err = itops(runner, store.url, "inventory", "export", str(tmp_path / "export"))
    assert code == 0, err
    exported = (tmp_path / "export" / "devices.csv").read_text("utf-8-sig")
    assert _notes(listed) == _notes(exported) == {f"N{n}": c for n, c in enumerate(cells, 10)}
    # and the listed CSV imports back to exactly what was stored
    again = tmp_path / "again" / "devices.csv"
    again.parent.mkdir()
    again.write_text(listed)
    code, out, err = itops(runner, store.url, "inventory", "import", str(again))
    assert code == 0 and "no changes" in out, err + out
    with store.session() as s:
        assert {d.asset_tag: d.notes for d in InventoryRepo(s).iter_devices()} == stored
