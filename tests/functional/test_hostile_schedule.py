"""Hostile folder names, run for real: cron lines through /bin/sh, units as systemd reads them.

A stand-in ``itops`` in a folder with the hostile name logs its arguments, working folder and
environment; nothing may run but it (no ``PWNED`` file anywhere) and every path must arrive
exactly as given.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.config import normalise_db_url
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, systemd_units
from tests.hostile.names import PASSWORDS, QUOTABLE, REFUSED, leaks
from tests.support import schedule_syntax as sx

STUB = """#!{python}
import json, os, sys
with open({log!r}, "a", encoding="utf-8") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(),
                        "db": os.environ.get("ITOPS_DB"),
                        "secrets": os.environ.get("ITOPS_SECRETS")}}) + "\\n")
sys.exit({{"probe": 2}}.get(sys.argv[1], 0))
"""
ANALYZE = shutil.which("systemd-analyze")
NAMES = {k: QUOTABLE[k] for k in ("shell_injection", "mixed", "systemd_specifier", "spaces")}
NAMES["all"] = "rep; touch PWNED # $(touch PWNED) `id` it's %h \\%F ${HOME}"
TODAY = dt.date.today().isoformat()


def _layout(tmp_path: Path, name: str, *, for_systemd: bool = False) -> tuple[ScheduleSpec, Path]:
    """A data folder, reports folder and stand-in itops, each under a folder called ``name``.

    ``for_systemd``: the stand-in lives in ``bin %h $HOME`` instead (systemd runs no program
    whose path holds a quote or a backslash; that refusal is tested on its own).
    """
    root = tmp_path / name
    root.mkdir()
    log = tmp_path / "calls.jsonl"
    stub = (tmp_path / "bin %h $HOME" if for_systemd else root / "bin") / "itops"
    stub.parent.mkdir()
    stub.write_text(STUB.format(python=sys.executable, log=str(log)), encoding="utf-8")
    stub.chmod(0o755)
    spec = ScheduleSpec(
        every=dt.timedelta(minutes=5),
        report="daily",
        command=(str(stub),),
        workdir=root,
        reports_dir=root / name,
        environment=(
            ("ITOPS_DB", f"sqlite:///{root / 'it s.db'}"),
            ("ITOPS_SECRETS", str(tmp_path / "it's %h $HOME.toml")),
        ),
    )
    return spec, log


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short path (cron reads commands of up to 1,000 characters)."""
    folder = Path(tempfile.mkdtemp(prefix="h"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]


def _expected(spec: ScheduleSpec) -> list[dict[str, object]]:
    env = dict(spec.environment)
    html = f"{spec.reports_dir}/health-daily-{TODAY}.html"
    return [
        {
            "argv": argv,
            "cwd": str(spec.workdir),
            "db": env["ITOPS_DB"],
            "secrets": env["ITOPS_SECRETS"],
        }
        for argv in (
            ["probe", "run"],
            ["db", "prune"],
            ["report", "health", "--since", "1d", "--html", html],
        )
    ]


def _no_pwned(*folders: Path) -> None:
    for folder in folders:
        assert not [p for p in folder.rglob("*") if "PWNED" in p.name and p.is_file()]


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_cron_lines_run_by_sh_carry_hostile_paths_intact(short_tmp: Path, name: str) -> None:
    tmp_path = short_tmp
    spec, log = _layout(tmp_path, name)
    home = tmp_path / "home"
    home.mkdir()
    for line in cron_lines(spec)[1::2]:
        command, stdin = sx.cron_command(line.split(" ", 5)[5])
        assert stdin is None
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=home,
            env={"PATH": os.environ["PATH"], "HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert _calls(log) == _expected(spec)
    assert spec.reports_dir.is_dir()
    _no_pwned(tmp_path, home)


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_systemd_units_run_as_systemd_reads_them(tmp_path: Path, name: str) -> None:
    spec, log = _layout(tmp_path, name, for_systemd=True)
    units = systemd_units(spec)
    for unit in ("itops-probe.service", "itops-report.service"):
        settings = sx.unit_settings(units[unit])
        env = sx.environment(units[unit])
        cwd = sx.literal_path(settings["WorkingDirectory"][0])
        for key in ("ExecStart", "ExecStopPost"):
            for raw in settings.get(key, []):
                done = subprocess.run(
                    sx.exec_argv(raw, env),
                    cwd=cwd,
                    env={"PATH": os.environ["PATH"], **env},
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert done.returncode in (0, 2), done.stderr
    assert _calls(log) == _expected(spec)
    _no_pwned(tmp_path)


@pytest.mark.skipif(ANALYZE is None, reason="needs systemd-analyze (apt-get install systemd)")
@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_systemd_analyze_verifies_units_with_hostile_paths(tmp_path: Path, name: str) -> None:
    spec, _ = _layout(tmp_path, name, for_systemd=True)
    folder = tmp_path / "units"
    folder.mkdir()
    units = systemd_units(spec)
    for unit, text in units.items():
        (folder / unit).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [str(ANALYZE), "verify", *(str(folder / u) for u in units)],
        capture_output=True,
        text=True,
        timeout=60,
    )  # it checks that ExecStart's program (the stand-in, under the hostile name) exists
    assert (done.returncode, done.stderr) == (0, "")


def test_cli_report_line_runs_real_itops_under_a_hostile_data_folder(
    tmp_path: Path, runner: CliRunner
) -> None:
    data = tmp_path / NAMES["all"]
    data.mkdir()
    db = data / "it's %h.db"
    res = runner.invoke(
        cli,
        ["--db", str(db), "schedule", "install", "--cron", "--report", "daily",
         "--reports-dir", "rep; touch PWNED #"],
        env={"ITOPS_DATA": str(data)},
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    line = res.stdout.splitlines()[3]
    command, stdin = sx.cron_command(line.split(" ", 5)[5])
    assert stdin is None
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    (html,) = (data / "rep; touch PWNED #").iterdir()
    assert html.name == f"health-daily-{TODAY}.html"
    assert db.is_file()
    _no_pwned(tmp_path)


@pytest.mark.parametrize(
    "name", [REFUSED["newline_unit_injection"], REFUSED["newline_cron_injection"]]
)
@pytest.mark.parametrize("cron", [False, True])
def test_cli_refuses_a_newline_in_itops_data(
    tmp_path: Path, runner: CliRunner, name: str, cron: bool
) -> None:
    units = tmp_path / "units"
    args = ["--cron"] if cron else ["--dir", str(units)]
    res = runner.invoke(
        cli,
        ["--db", str(tmp_path / "x.db"), "schedule", "install", *args],
        env={"ITOPS_DATA": str(tmp_path / name)},
    )
    assert res.exit_code == 2
    assert res.stdout == ""
    (message,) = res.stderr.splitlines()
    assert "the data folder (ITOPS_DATA)" in message and "control character" in message
    assert not units.exists()


@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
def test_a_database_password_goes_to_a_0600_environment_file_only(
    tmp_path: Path, runner: CliRunner, password: str
) -> None:
    from urllib.parse import quote

    url = f"postgresql://itops:{quote(password, safe='')}@127.0.0.1:1/itops?sslpassword=Ss1-{quote(password, safe='')}"
    env_file = tmp_path / "etc it's %h" / "itops.env"
    units = tmp_path / "units"
    res = runner.invoke(
        cli,
        ["--db", url, "schedule", "install", "--dir", str(units), "--env-file", str(env_file)],
        env={"ITOPS_DATA": str(tmp_path)},
    )
    assert res.exit_code == 0, res.stderr
    assert not leaks(res.stdout + res.stderr, password)
    for unit in units.iterdir():
        text = unit.read_text(encoding="utf-8")
        assert not leaks(text, password), unit.name
        assert "ITOPS_DB" not in sx.environment(text)
        if unit.suffix == ".service":
            (raw,) = sx.unit_settings(text)["EnvironmentFile"]
            assert sx.literal_path(raw) == str(env_file)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.stat().st_uid == os.geteuid()
    expected = normalise_db_url(url)
    assert sx.env_file(env_file.read_text(encoding="utf-8")) == {"ITOPS_DB": expected}
    sourced = subprocess.run(
        ["/bin/sh", "-c", 'set -a && . "$1" && set +a && printf %s "$ITOPS_DB"', "sh", env_file],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"]},
    )
    assert sourced.stdout == expected, sourced.stderr
    res = runner.invoke(
        cli,
        ["--db", url, "schedule", "install", "--cron", "--env-file", str(env_file)],
        env={"ITOPS_DATA": str(tmp_path)},
    )
    assert res.exit_code == 0, res.stderr
    assert not leaks(res.stdout + res.stderr, password)
    assert "set -a && . " in res.stdout


def test_an_existing_environment_file_keeps_its_other_lines(
    tmp_path: Path, runner: CliRunner
) -> None:
    env_file = tmp_path / "itops.env"
    env_file.write_text('ITOPS_TZ="UTC"\nITOPS_DB="old"\n', encoding="utf-8")
    env_file.chmod(0o644)
    url = "postgresql+psycopg://itops@127.0.0.1:1/itops?password=Secret-Pw-1"
    res = runner.invoke(cli, ["--db", url, "schedule", "install", "--env-file", str(env_file)])
    assert res.exit_code == 0, res.stderr
    assert sx.env_file(env_file.read_text(encoding="utf-8")) == {"ITOPS_TZ": "UTC", "ITOPS_DB": url}
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
