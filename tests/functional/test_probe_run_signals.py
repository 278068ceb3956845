"""Signals to a real ``itops probe run`` process: results measured so far are kept.

Each device is pinged slowly (real ICMP to loopback, settings from an overrides file) so the
signal lands mid-run; the test waits until the first result is in the database, then signals.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kape_itops.domain.enums import DeviceKind, DeviceStatus, RunStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeRun
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo

REPO = Path(__file__).resolve().parents[2]


def setup(tmp_path: Path, devices: int, count: int) -> tuple[Store, Path]:
    """A migrated SQLite store with ``devices`` desktops on loopback, pinged ``count`` times."""
    store = Store(f"sqlite:///{tmp_path / 'itops.db'}")
    store.upgrade()
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("S1", {"name": "School One"})], ctx)
        repo.apply_devices(
            [
                DeviceUpsert(
                    f"D-{i}",
                    {
                        "school": "S1",
                        "kind": DeviceKind.DESKTOP,
                        "ip": f"127.0.0.{i + 2}",
                        "status": DeviceStatus.DEPLOYED,
                    },
                )
                for i in range(devices)
            ],
            ctx,
        )
    probes = tmp_path / "probes"
    shutil.copytree(REPO / "probes" / "kinds", probes / "kinds")
    shutil.copytree(REPO / "probes" / "schema", probes / "schema")
    (probes / "overrides.yaml").write_text(
        f"schools:\n  S1:\n    ping: {{count: {count}, interval_s: 0.25}}\n"
    )
    return store, probes


def start(store: Store, probes: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ITOPS_DATA": str(probes.parent)}
    env.pop("ITOPS_LAB_STATE", None)
    cmd = [sys.executable, "-m", "kape_itops", "--db", store.url, "probe", "run"]
    cmd += ["--only", "ping", "--concurrency", "1", "--profiles", str(probes), *extra]
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stored(store: Store) -> tuple[list[ProbeRun], int]:
    with store.session() as s:
        repo = ProbeRepo(s)
        runs = repo.runs()
        return runs, sum(len(repo.results(r.id)) for r in runs)


def wait_for_results(store: Store, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if stored(store)[1] >= at_least:
            return
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("no result was stored within 60 s")


def finish(proc: subprocess.Popen[str], within: float) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running {within} s after the signal:\n{out}\n{err}") from None
    return proc.returncode, out, err


def test_sigint_mid_run_keeps_results_and_marks_interrupted(tmp_path: Path) -> None:
    store, probes = setup(tmp_path, devices=4, count=20)  # about 5 s per device
    proc = start(store, probes)
    wait_for_results(store, proc, 1)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, within=15)
    assert code == 3, (out, err)
    assert "run 1 interrupted: every result measured so far is stored" in err
    (run,), results = stored(store)
    assert run.status == RunStatus.INTERRUPTED
    assert run.note == "interrupted (signal)"
    assert run.finished_at is not None
    assert 1 <= results < 4
    assert run.counts is not None and run.counts["results"] == results
    store.dispose()


def test_sigterm_single_run_is_interrupted_too(tmp_path: Path) -> None:
    store, probes = setup(tmp_path, devices=3, count=20)
    proc = start(store, probes, "--json")
    wait_for_results(store, proc, 1)
    proc.send_signal(signal.SIGTERM)
    code, _out, err = finish(proc, within=15)
    assert code == 3
    assert "interrupted" in err
    (run,), results = stored(store)
    assert (run.status, results >= 1) == (RunStatus.INTERRUPTED, True)
    store.dispose()


def test_every_finishes_the_current_round_on_sigterm(tmp_path: Path) -> None:
    store, probes = setup(tmp_path, devices=3, count=4)  # about 1 s per device
    proc = start(store, probes, "--every", "1h")
    wait_for_results(store, proc, 1)
    proc.send_signal(signal.SIGTERM)
    code, out, err = finish(proc, within=30)
    assert code == 0, (out, err)
    assert "run 1: 3 device(s), 3 result(s): ok 3" in out
    (run,), results = stored(store)
    assert (run.status, results) == (RunStatus.COMPLETED, 3)
    store.dispose()


def test_every_round_is_cut_after_the_grace_period(tmp_path: Path) -> None:
    store, probes = setup(tmp_path, devices=4, count=20)
    proc = start(store, probes, "--every", "1h", "--grace", "1s")
    wait_for_results(store, proc, 1)
    proc.send_signal(signal.SIGTERM)
    code, _out, err = finish(proc, within=15)
    assert code == 3
    assert "interrupted" in err
    (run,), results = stored(store)
    assert run.status == RunStatus.INTERRUPTED
    assert results < 4
    store.dispose()


def test_every_second_signal_interrupts_at_once(tmp_path: Path) -> None:
    store, probes = setup(tmp_path, devices=4, count=20)
    proc = start(store, probes, "--every", "1h")
    wait_for_results(store, proc, 1)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    code, _out, _err = finish(proc, within=15)
    assert code == 3
    (run,), results = stored(store)
    assert run.status == RunStatus.INTERRUPTED
    assert results < 4
    store.dispose()


def test_killed_run_is_closed_as_interrupted_by_the_next_run(tmp_path: Path) -> None:
    store, probes = setup(tmp_path, devices=3, count=20)
    proc = start(store, probes)
    wait_for_results(store, proc, 1)
    proc.kill()
    proc.communicate(timeout=15)
    (killed,), kept = stored(store)
    assert killed.status == RunStatus.RUNNING
    assert killed.selection["process"]["pid"] == proc.pid
    again = start(store, probes, "--tag", "D-0")
    code, out, err = finish(again, within=30)
    assert code == 0, (out, err)
    with store.session() as s:
        closed = ProbeRepo(s).run(killed.id)
    assert closed is not None
    assert closed.status == RunStatus.INTERRUPTED
    assert closed.note == f"interrupted: process {proc.pid} ended without closing the run"
    assert closed.counts is not None and closed.counts["results"] == kept
    assert closed.counts["ok"] == kept
    store.dispose()
