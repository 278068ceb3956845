"""A joined site's schedule runs ``itops sync`` after each probe round, before pruning."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.reports import sample
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, systemd_units
from kape_itops.store.db import Store
from kape_itops.sync.local import LocalTransport
from kape_itops.sync.server import SyncServer
from kape_itops.sync.site import SyncSite

STUB = """\
import sys
with open({log!r}, "a", encoding="utf-8") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
sys.exit({{"probe": 2, "sync": 3, "db": 0}}.get(sys.argv[1], 0))
"""
"""``itops`` stand-in: the round is CRITICAL (2) and the link is down (sync exits 3)."""


def _spec(tmp_path: Path, command: tuple[str, ...], sync: bool) -> ScheduleSpec:
    return ScheduleSpec(
        every=dt.timedelta(minutes=5),
        report=None,
        command=command,
        workdir=tmp_path,
        reports_dir=tmp_path / "reports",
        environment=(("ITOPS_DB", f"sqlite:///{tmp_path / 'itops.db'}"),),
        sync=sync,
    )


def test_cron_syncs_after_the_round_and_prunes_even_when_the_link_is_down(
    tmp_path: Path,
) -> None:
    log = tmp_path / "calls.log"
    stub = tmp_path / "itops_stub.py"
    stub.write_text(STUB.format(log=str(log)), encoding="utf-8")
    line = cron_lines(_spec(tmp_path, (sys.executable, str(stub)), True))[1]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    done = subprocess.run(
        ["/bin/sh", "-c", line.split(" ", 5)[5].replace("\\%", "%")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert log.read_text(encoding="utf-8").splitlines() == ["probe run", "sync", "db prune"]
    plain = cron_lines(_spec(tmp_path, (sys.executable, str(stub)), False))[1]
    assert " sync;" not in plain


def test_systemd_unit_syncs_before_pruning_and_ignores_a_link_failure(tmp_path: Path) -> None:
    units = systemd_units(_spec(tmp_path, (sys.executable, "-m", "kape_itops"), True))
    lines = units["itops-probe.service"].splitlines()
    posts = [x for x in lines if x.startswith("ExecStopPost=")]
    assert posts[0].startswith("ExecStopPost=-") and posts[0].endswith(" sync")
    assert posts[1].endswith(" db prune")
    if shutil.which("systemd-analyze"):
        for name, text in units.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        done = subprocess.run(
            ["systemd-analyze", "verify", *(str(tmp_path / n) for n in units)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (done.returncode, done.stderr) == (0, "")


def test_schedule_install_adds_sync_on_a_joined_site_only(tmp_path: Path) -> None:
    server_store = Store(f"sqlite:///{tmp_path / 'server.db'}")
    server_store.upgrade()
    sample.seed_inventory(server_store, schools=1, devices_per_school=2)
    server = SyncServer(server_store)
    token = server.enroll("KPT-PSP").token
    site_db = tmp_path / "site.db"
    runner = CliRunner()

    def cron(*extra: str) -> str:
        res = runner.invoke(
            cli, ["--db", str(site_db), "schedule", "install", "--cron", "--report", "none", *extra]
        )
        assert res.exit_code == 0, res.stderr
        return res.stdout

    assert " sync;" not in cron()
    assert not site_db.exists()  # looking did not create it
    site_store = Store(f"sqlite:///{site_db}")
    site_store.upgrade()
    SyncSite(site_store, "test", tmp_path / "secrets.toml").join(
        "http://127.0.0.1:9", token, LocalTransport(server)
    )
    site_store.dispose()
    server_store.dispose()
    assert "-m kape_itops sync;" in cron()
    assert " sync;" not in cron("--no-sync")
