"""The generated schedule, run for real: cron lines through /bin/sh, units through systemd-analyze."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.reports import sample
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, systemd_units
from kape_itops.store.db import Store

STUB = """\
import sys
with open({log!r}, "a", encoding="utf-8") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
sys.exit({{"probe": 2, "db": 0}}.get(sys.argv[1], 0))
"""
"""A stand-in for ``itops``: logs its arguments; ``probe run`` exits 2 (CRITICAL), as it mostly does."""


def _spec(tmp_path: Path, command: tuple[str, ...], report: str | None) -> ScheduleSpec:
    return ScheduleSpec(
        every=dt.timedelta(minutes=5),
        report=report,
        command=command,
        workdir=tmp_path,
        reports_dir=tmp_path / "reports dir",
        environment=(("ITOPS_DB", f"sqlite:///{tmp_path / 'itops.db'}"),),
        utc_offset=dt.timedelta(hours=7),
    )


def _run_cron_line(line: str) -> subprocess.CompletedProcess[str]:
    """Run a crontab line's command as cron does: /bin/sh, with ``\\%`` meaning ``%``."""
    command = line.split(" ", 5)[5].replace("\\%", "%")
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=120
    )


def test_cron_prunes_after_a_critical_probe_round(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    stub = tmp_path / "itops_stub.py"
    stub.write_text(STUB.format(log=str(log)), encoding="utf-8")
    lines = cron_lines(_spec(tmp_path, (sys.executable, str(stub)), None))
    done = _run_cron_line(lines[1])
    assert done.returncode == 0, done.stderr
    assert log.read_text(encoding="utf-8").splitlines() == ["probe run", "db prune"]


def test_cron_monthly_report_covers_the_previous_calendar_month(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'itops.db'}")
    store.upgrade()
    sample.seed_inventory(store, schools=1, devices_per_school=3)
    store.dispose()
    lines = cron_lines(_spec(tmp_path, (sys.executable, "-m", "kape_itops"), "monthly"))
    assert lines[3].startswith("0 8 1 * * ")
    done = _run_cron_line(lines[3])
    assert done.returncode == 0, done.stderr
    (html,) = (tmp_path / "reports dir").iterdir()
    assert html.name == f"health-monthly-{dt.date.today().isoformat()}.html"
    first = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert first.strftime("%Y-%m-%d") in html.read_text(encoding="utf-8")


def test_report_health_month(runner: CliRunner, store: Store) -> None:
    sample.seed_inventory(store, schools=1, devices_per_school=3)
    res = runner.invoke(cli, ["--db", store.url, "report", "health", "--month", "last", "--json"])
    assert res.exit_code == 0, res.stderr
    period = json.loads(res.stdout)["period"]
    end = dt.datetime.combine(dt.date.today().replace(day=1), dt.time(), dt.UTC)
    start = (end - dt.timedelta(days=1)).replace(day=1)
    assert (period["start"], period["end"]) == (start.isoformat(), end.isoformat())
    res = runner.invoke(cli, ["--db", store.url, "report", "health", "--month", "2024-02"])
    assert res.exit_code == 0 and "2024-02-01" in res.stdout
    for args, message in [
        (["--month", "2026-13"], "is not a month"),
        (["--month", "last", "--since", "7d"], "one of --since, --from/--to or --month"),
        (["--month", "last", "--from", "2024-01-01"], "one of --since, --from/--to or --month"),
    ]:
        res = runner.invoke(cli, ["--db", store.url, "report", "health", *args])
        assert res.exit_code == 2 and message in res.stderr


def test_schedule_install_times_the_monthly_report_from_the_local_zone(
    runner: CliRunner, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Phnom_Penh")
    try:
        import time

        time.tzset()
        res = runner.invoke(
            cli, ["--db", store.url, "schedule", "install", "--cron", "--report", "monthly"]
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[3].startswith("0 8 1 * * ")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    units = systemd_units(_spec(tmp_path, (sys.executable, "-m", "kape_itops"), "monthly"))
    for name, text in units.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in units)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    svc = units["itops-probe.service"]
    assert "ExecStopPost=" in svc and "ExecStartPost=" not in svc
