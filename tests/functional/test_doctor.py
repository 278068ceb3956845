"""``itops doctor`` as root and as an unprivileged user (real sockets, real sysctl values)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.doctor import run_checks
from kape_itops.lab.netns import run, set_sysctl
from tests.support.netns import new_lab, require_netns
from tests.support.unprivileged import Unprivileged


def _by_name(checks: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(c["name"]): c for c in checks}


def test_doctor_json_lists_every_capability(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["doctor", "--json"])
    assert result.exit_code in (0, 1), result.output
    checks = _by_name(json.loads(result.output)["checks"])
    expected = {
        "raw ICMP",
        "unprivileged ICMP",
        "ping method",
        "IPv6",
        "scapy/ARP sweep",
        "SNMP tools",
        "fping",
        "ip netns",
        "snmpd",
        "sshd",
    }
    assert expected <= set(checks)
    for check in checks.values():
        assert check["ok"] or check["fix"], check
    rng = Path("/proc/sys/net/ipv4/ping_group_range").read_text().split()
    assert f"ping_group_range = {rng[0]} {rng[1]}" in str(checks["unprivileged ICMP"]["detail"])


def test_doctor_as_root_has_raw_icmp() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    checks = {c.name: c for c in run_checks()}
    assert checks["raw ICMP"].ok and checks["ping method"].detail == "raw ICMP"


def test_doctor_unprivileged_gives_setcap_and_sysctl_fixes(unprivileged: Unprivileged) -> None:
    proc = unprivileged.run("doctor", "--json")
    checks = _by_name(json.loads(proc.stdout)["checks"])
    raw = checks["raw ICMP"]
    assert raw["ok"] is False and "setcap cap_net_raw+ep" in str(raw["fix"])
    low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    nogroup = int(
        subprocess.run(["getent", "group", "nogroup"], capture_output=True, text=True).stdout.split(
            ":"
        )[2]
    )
    if not low <= nogroup <= high:  # no ICMP method at all: both are needed
        dgram = checks["unprivileged ICMP"]
        assert dgram["ok"] is False and dgram["needed"] is True and raw["needed"] is True
        assert "sysctl -w net.ipv4.ping_group_range='0 2147483647'" in str(dgram["fix"])
        assert "TCP connect" in str(checks["ping method"]["detail"])
    assert checks["ip netns"]["ok"] is False and "root" in str(checks["ip netns"]["detail"])
    assert checks["ip netns"]["needed"] is False  # the lab runs in loopback mode
    assert proc.returncode == 1 and json.loads(proc.stdout)["ready"] is False


def _doctor_in_namespace(
    ping_group_range: str, unprivileged: Unprivileged | None = None
) -> tuple[int, dict[str, dict[str, object]]]:
    """``itops doctor --json`` in a fresh namespace with its own ping_group_range."""
    require_netns()
    lab = new_lab()
    ns = f"{lab.prefix}-doctor"
    try:
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        set_sysctl(ns, "net.ipv4.ping_group_range", ping_group_range)
        if unprivileged is None:
            cmd = [
                "ip",
                "netns",
                "exec",
                ns,
                sys.executable,
                "-m",
                "kape_itops",
                "doctor",
                "--json",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")
        else:
            proc = unprivileged.run("doctor", "--json", ns=ns)
    finally:
        run("ip", "netns", "del", ns, check=False)
        lab.close()
    doc = json.loads(proc.stdout)
    assert doc["ready"] is (proc.returncode == 0), proc.stderr
    return proc.returncode, _by_name(doc["checks"])


def test_root_with_raw_icmp_is_ready_without_unprivileged_icmp() -> None:
    code, checks = _doctor_in_namespace("1 0")  # no group may open ICMP datagram sockets
    dgram = checks["unprivileged ICMP"]
    assert checks["raw ICMP"]["ok"] is True and checks["ping method"]["detail"] == "raw ICMP"
    assert dgram["ok"] is False and dgram["needed"] is False
    assert "ping uses raw ICMP instead" in str(dgram["detail"]) and dgram["fix"]
    assert checks["IPv6"]["ok"] is True
    assert code == 0


def test_unprivileged_user_with_datagram_icmp_is_ready(unprivileged: Unprivileged) -> None:
    code, checks = _doctor_in_namespace("0 2147483647", unprivileged)
    raw = checks["raw ICMP"]
    assert checks["unprivileged ICMP"]["ok"] is True
    assert raw["ok"] is False and raw["needed"] is False
    assert "ping uses unprivileged ICMP instead" in str(raw["detail"])
    assert checks["ping method"]["detail"] == "unprivileged ICMP"
    for name in ("scapy/ARP sweep", "ip netns"):  # ping sweeps and the loopback lab do the job
        assert checks[name]["ok"] is False and checks[name]["needed"] is False
    assert code == 0


def test_doctor_says_which_data_folder_is_in_use(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ITOPS_DATA", raising=False)
    doc = json.loads(runner.invoke(cli, ["doctor", "--json"]).output)
    assert doc["data_folder"]["local"] is None
    assert doc["data_folder"]["shipped"].endswith("_data")
    (tmp_path / "specs").mkdir()
    result = runner.invoke(cli, ["doctor"], env={"COLUMNS": "200"})
    assert f"data folder: {tmp_path.resolve()} over the shipped defaults" in result.output
