"""Every output on a full disk or into a missing folder: the old file stays, one error line.

The full disk is real: a 256 KiB tmpfs, filled up, then each command writes onto files it
wrote there before. Commands run as a user would run them (``python -m kape_itops``), so any
traceback or "Exception ignored" noise on stderr is seen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.datafiles import shipped_root
from tests.hostile.outputs import digests, fill, leftovers, tmpfs

REPO = Path(__file__).resolve().parents[2]
QUOTES = shipped_root() / "quotes" / "laptop"
INVENTORY = shipped_root() / "inventory"

# name -> the command's arguments, given the folder it writes into
COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "export csv": lambda d: ["inventory", "export", str(d / "inv"), "--format", "csv"],
    "export xlsx": lambda d: ["inventory", "export", str(d / "inv.xlsx")],
    "export json": lambda d: ["inventory", "export", str(d / "inv.json")],
    "labels": lambda d: ["inventory", "labels", "-o", str(d / "labels.html")],
    "report html": lambda d: ["report", "health", "--html", str(d / "health.html")],
    "report md": lambda d: ["report", "health", "--md", str(d / "health.md")],
    "report csv": lambda d: ["report", "health", "--csv", str(d / "health")],
    "quote xlsx": lambda d: ["quote", "score", str(QUOTES), "--no-store", "--report",
                             str(d / "q.xlsx")],
    "quote json": lambda d: ["quote", "score", str(QUOTES), "--no-store", "--report",
                             str(d / "q.json")],
    "quote form": lambda d: ["quote", "template", "--spec", "laptop", "-o", str(d / "form.xlsx")],
    "schedule units": lambda d: ["schedule", "install", "--dir", str(d / "units")],
    "data init": lambda d: ["data", "init", str(d / "data"), "--force"],
}  # fmt: skip


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An environment whose database holds the shipped sample inventory (706 devices)."""
    home = tmp_path_factory.mktemp("hostile-output")
    env = dict(os.environ, ITOPS_DB=f"sqlite:///{home / 'itops.db'}", ITOPS_DATA=str(home))
    got = itops(env, "inventory", "import", str(INVENTORY))
    assert got.returncode == 0, got.stderr
    yield env


def itops(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kape_itops", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_error_line(stderr: str) -> str:
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_full_disk_keeps_every_old_file(name: str, seeded: dict[str, str], tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size="4m") as disk:
        args = COMMANDS[name](disk)
        first = itops(seeded, *args)
        assert first.returncode == 0, first.stderr
        before = digests(disk)
        assert before, "the first run wrote nothing"
        fill(disk)
        again = itops(seeded, *args)
        line = one_error_line(again.stderr)
        assert again.returncode == 1, again.stderr
        assert "no space left on the disk; the old file is unchanged" in line
        assert f"cannot write {disk}/" in line
        assert digests(disk) == before
        assert leftovers(disk) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_full_disk_with_nothing_there_before(
    name: str, seeded: dict[str, str], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "disk", size="4m") as disk:
        fill(disk)
        got = itops(seeded, *COMMANDS[name](disk))
        line = one_error_line(got.stderr)
        assert got.returncode == 1
        assert "no space left on the disk; nothing was written" in line
        assert leftovers(disk) == []
        assert [p for p in disk.rglob("*") if p.is_file() and p.name != "filler"] == []


def test_the_truncated_export_of_the_review_cannot_happen(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    """The review's case: a full disk truncated devices.csv; re-imported, it shortened a
    funding name silently. Now the export fails whole and the re-import changes nothing."""
    with tmpfs(tmp_path / "disk", size="1m") as disk:
        export = ["inventory", "export", str(disk / "inv"), "--format", "csv"]
        assert itops(seeded, *export).returncode == 0
        fill(disk)
        assert itops(seeded, *export).returncode == 1
        again = itops(seeded, "inventory", "import", str(disk / "inv"), "--json")
        assert again.returncode == 0, again.stderr
        assert '"changes": 0' in again.stdout.replace("\n", " ").replace("  ", " ")


# --- a missing folder: named, exit 1, nothing created --------------------------------------


@pytest.mark.parametrize("name", list(COMMANDS))
def test_missing_folder_is_named(name: str, seeded: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    env = {k[len("ITOPS_") :].lower(): v for k, v in seeded.items() if k.startswith("ITOPS_")}
    runner = CliRunner()
    got = runner.invoke(cli, ["--db", env["db"], *COMMANDS[name](missing)])
    assert got.exit_code == 1, got.output
    assert isinstance(got.exception, SystemExit)
    line = one_error_line(got.stderr)
    assert f"{missing} does not exist" in line, line
    assert not missing.exists()


def test_database_on_a_full_disk_is_said_and_stays_whole(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "disk", size="8m") as disk:
        env = dict(seeded, ITOPS_DB=f"sqlite:///{disk / 'itops.db'}")
        assert itops(env, "inventory", "import", str(INVENTORY)).returncode == 0
        fill(disk)
        got = itops(env, "inventory", "set", "KPT-PSP-002", "room=Library")
        assert got.returncode == 1
        assert one_error_line(got.stderr).endswith("; the disk holding it is full")
        (disk / "filler").unlink()
        shown = itops(env, "inventory", "show", "KPT-PSP-002", "--json")
        assert shown.returncode == 0, shown.stderr
        assert '"room": "Server Cabinet"' in shown.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("probe", "run", "--prom", "{missing}/itops.prom"),
        ("probe", "onvif", "127.0.0.1:9", "--user", "u", "--save-snapshot", "{missing}/snaps"),
    ],
    ids=["probe run --prom", "probe onvif --save-snapshot"],
)
def test_probe_outputs_in_a_missing_folder_are_said_before_probing(
    args: tuple[str, ...], sqlite_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder"
    got = CliRunner(env={"ITOPS_ONVIF_PASSWORD": "pw"}).invoke(
        cli, ["--db", sqlite_url, *(a.replace("{missing}", str(missing)) for a in args)]
    )
    assert got.exit_code == 3, got.output  # Nagios UNKNOWN: nothing was probed
    assert f"{missing} does not exist" in one_error_line(got.stderr)
    assert "probe" not in got.stdout.lower() and not missing.exists()
