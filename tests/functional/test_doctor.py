"""``itops doctor`` as root and as an unprivileged user (real sockets, real sysctl values)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.probes.doctor import run_checks
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
    if not low <= nogroup <= high:
        dgram = checks["unprivileged ICMP"]
        assert dgram["ok"] is False
        assert "sysctl -w net.ipv4.ping_group_range='0 2147483647'" in str(dgram["fix"])
        assert "TCP connect" in str(checks["ping method"]["detail"])
    assert checks["ip netns"]["ok"] is False and "root" in str(checks["ip netns"]["detail"])
    assert proc.returncode == 1
