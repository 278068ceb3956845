"""``itops lab``: loopback and namespace modes, the state file, components, clean teardown."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.errors import ProbeError, UsageError
from kape_itops.lab.lab import (
    LabDevice,
    devices_from_csv,
    lab_down,
    lab_lock,
    lab_status,
    lab_up,
    plan_behaviour,
)
from kape_itops.lab.netns import namespace_exists, pid_alive, route_device, routes_overlapping
from kape_itops.probes.addressmap import load_address_map
from kape_itops.probes.base import Target
from kape_itops.probes.icmp.probe import ping_targets
from tests.support.netns import LINK_SPACE, free_prefix, require_netns
from tests.support.unprivileged import Unprivileged, stage_tree

REPO = Path(__file__).resolve().parents[2]
DEVICES = [
    LabDevice("T-RTR", "KPT-PSP", "router", "10.30.1.1"),
    LabDevice("T-PRN", "KPT-PSP", "printer", "10.30.1.20"),
    LabDevice("T-OLD", "KPT-PSP", "printer", "10.30.1.21", status="in_repair"),
    LabDevice("T-CAM", "KPT-PSH", "camera", "10.30.2.31"),
]
COMPONENT = "tests.support.lab_component:listeners"


def _ping(addresses: list[str]) -> dict[str, dict[str, object]]:
    run = asyncio.run(
        ping_targets(
            [Target(a, settings={"count": 3, "interval_s": 0.02}) for a in addresses], timeout_s=1.0
        )
    )
    return {
        a: {"status": r.status.value, **r.metrics}
        for a, r in zip(addresses, run.results, strict=True)
    }


def test_sample_inventory_csv_feeds_the_lab() -> None:
    devices = devices_from_csv(REPO / "inventory" / "devices.csv")
    assert len(devices) > 200
    assert all(d.ip.startswith("10.30.") for d in devices)
    plans = [plan_behaviour(d) for d in devices]
    assert any(p.down for p in plans) and any(not p.down for p in plans)
    assert any(p.loss > 0 for p in plans) and max(p.delay_ms for p in plans) > 50


def test_loopback_mode_maps_and_answers(tmp_path: Path) -> None:
    state_path = tmp_path / "state.json"
    state, started = lab_up(DEVICES, state_path, "loopback", [COMPONENT])
    try:
        assert started and state.mode == "loopback"
        amap = load_address_map(state_path)
        assert amap.lookup("10.30.1.20") is not None
        assert amap.entries["10.30.1.20"].address == "127.30.1.20"
        port = amap.entries["10.30.1.1"].ports["echo"]
        socket.create_connection(("127.30.1.1", port), timeout=2).close()
        assert _ping(["127.30.1.1"])["127.30.1.1"]["status"] == "ok"
        assert lab_status(state_path).up
        again, started_again = lab_up(DEVICES, state_path, "loopback", [COMPONENT])
        assert not started_again and again.pids == state.pids
    finally:
        done = lab_down(state_path)
    assert not state_path.exists() and any("stopped process" in d for d in done)
    assert not any(pid_alive(p) for p in state.pids)
    with pytest.raises(OSError):
        socket.create_connection(("127.30.1.1", port), timeout=2).close()


def test_failed_component_leaves_nothing_behind(tmp_path: Path) -> None:
    state_path = tmp_path / "state.json"
    with pytest.raises(ProbeError, match="simulated component failure"):
        lab_up(DEVICES, state_path, "loopback", ["tests.support.lab_component:broken"])
    assert not state_path.exists()
    with pytest.raises(Exception, match="cannot be loaded"):
        lab_up(DEVICES, state_path, "loopback", ["tests.support.nope:missing"])


def test_no_devices_and_bad_mode(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no devices to simulate"):
        lab_up([], tmp_path / "s.json", "loopback")
    with pytest.raises(UsageError, match="unknown lab mode 'cloud'"):
        lab_up(DEVICES, tmp_path / "s.json", "cloud")


def test_netns_mode_routes_delay_down_and_teardown(tmp_path: Path) -> None:
    require_netns()
    with lab_lock():
        if routes_overlapping("10.30.0.0/16"):
            pytest.skip("another lab already routes 10.30.0.0/16 on this machine")
        _netns_lab_round_trip(tmp_path)


def _netns_lab_round_trip(tmp_path: Path) -> None:
    state_path = tmp_path / "state.json"
    prefix = f"itops-t{os.getpid()}-lab"
    expected = plan_behaviour(DEVICES[0])
    assert not expected.down  # the router of this test is planned up
    state, _ = lab_up(
        DEVICES,
        state_path,
        "netns",
        [COMPONENT],
        prefix=prefix,
        link=free_prefix(LINK_SPACE, 29, set()),
    )
    try:
        host_if = state.interfaces[0]
        assert state.namespaces == [f"{prefix}-0"] and namespace_exists(state.namespaces[0])
        assert state.routes == ["10.30.1.0/24", "10.30.2.0/24"]
        assert route_device("10.30.2.31") == host_if
        assert (
            json.loads(state_path.read_text())["address_map"]["10.30.1.1"]["address"] == "10.30.1.1"
        )
        results = _ping(["10.30.1.1", "10.30.1.21"])
        assert results["10.30.1.1"]["status"] in ("ok", "warn")
        assert results["10.30.1.1"]["rtt_min_ms"] >= expected.delay_ms - expected.jitter_ms - 0.5
        assert results["10.30.1.21"]["received"] == 0  # in repair: simulated down
        port = state.address_map["10.30.1.1"]["ports"]["echo"]
        socket.create_connection(("10.30.1.1", port), timeout=2).close()
        assert "echo" not in state.address_map["10.30.1.21"]["ports"]  # down: no simulators
        assert lab_status(state_path).up
    finally:
        lab_down(state_path)
    assert not namespace_exists(f"{prefix}-0")
    assert route_device("10.30.1.1") != host_if
    assert not any(pid_alive(p) for p in state.pids)


def test_cli_up_status_down_loopback(tmp_path: Path) -> None:
    runner = CliRunner()
    state = tmp_path / "lab" / "state.json"
    env = {"ITOPS_DATA": str(REPO)}
    db = ["--db", str(tmp_path / "none.db")]
    result = runner.invoke(
        cli, [*db, "lab", "up", "--mode", "loopback", "--state", str(state)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "loopback mode" in result.output and "inventory/devices.csv" in result.output
    result = runner.invoke(cli, [*db, "lab", "status", "--json", "--state", str(state)], env=env)
    assert result.exit_code == 0 and json.loads(result.output)["up"] is True
    result = runner.invoke(cli, [*db, "lab", "down", "--state", str(state)], env=env)
    assert result.exit_code == 0 and "removed" in result.output
    result = runner.invoke(cli, [*db, "lab", "status", "--state", str(state)], env=env)
    assert result.exit_code == 3 and "lab is down" in result.output


def test_unprivileged_user_gets_loopback_mode(unprivileged: Unprivileged) -> None:
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="itops-lab-nobody-"))
    work.chmod(0o777)
    state = work / "state.json"
    data = work / "data"  # the sample data, where nobody can read it
    for area in ("inventory", "probes", "specs", "quotes"):
        stage_tree(REPO / area, data / area)
    for top, _, _ in os.walk(data):
        Path(top).chmod(0o755)
    env = {"ITOPS_DATA": str(data)}

    def itops(*args: str) -> subprocess.CompletedProcess[str]:
        return unprivileged.run("--db", str(work / "none.db"), *args, cwd=work, env=env)

    try:
        proc = itops("lab", "up", "--no-simulators", "--json", "--state", str(state))
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert (
            doc["mode"] == "loopback" and doc["address_map"]["10.30.1.1"]["address"] == "127.30.1.1"
        )
        assert not doc["namespaces"]
        proc = itops("probe", "ping", "127.30.1.1", "-c", "1", "--json")
        assert proc.returncode == 0 and json.loads(proc.stdout)["results"][0]["status"] == "ok"
        proc = itops("lab", "up", "--mode", "netns", "--state", str(work / "n.json"))
        assert proc.returncode == 2
        assert "--mode netns is not possible here: network namespaces need root" in proc.stderr
    finally:
        itops("lab", "down", "--state", str(state))
        shutil.rmtree(work, ignore_errors=True)
    assert not state.exists()


def test_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = CliRunner().invoke(cli, ["lab", "status", "--state", str(state)])
    assert result.exit_code == 2 and f"lab state file {state} is unreadable" in result.output
    state.write_text(json.dumps({"mode": "cloud"}))
    result = CliRunner().invoke(cli, ["lab", "down", "--state", str(state)])
    assert result.exit_code == 2 and "not a lab state (no mode netns|loopback)" in result.output
