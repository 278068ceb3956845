"""What this machine lets kape-itops do, and the exact fix for each missing capability.

A capability is *needed* when some probe has no other working method without it. One that is
missing but not needed (raw ICMP while unprivileged ICMP works, ARP sweeps while ping sweeps do,
the tools only the tests and benchmarks use) is information, not a failure.

A service beside the others (``itops doctor`` calls it): it asks the protocol packages and the
lab what they can do here, so it sits above them rather than in the probe engine.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from kape_itops.lab.netns import netns_available
from kape_itops.probes.icmp.client import Method, ping_group_range, probe_methods

SYSCTL_PING = "net.ipv4.ping_group_range = 0 2147483647"


@dataclass(frozen=True, slots=True)
class Check:
    """One capability: whether it is there, what was found, and how to get it."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    needed: bool = True
    """False when another method does the job: missing is then information, not a failure."""


def ready(checks: list[Check]) -> bool:
    """Whether every probe has a working method (no needed capability is missing)."""
    return all(c.ok or not c.needed for c in checks)


def _python() -> str:
    return str(Path(sys.executable).resolve())


def _tool(name: str, what: str, package: str, used_by: str, paths: tuple[str, ...] = ()) -> Check:
    """A program only ``used_by`` the tests or benchmarks: never needed to work."""
    found = shutil.which(name) or next((p for p in paths if Path(p).exists()), None)
    if found:
        return Check(what, True, f"{found}")
    return Check(
        what, False, f"'{name}' not found ({used_by})", f"sudo apt-get install {package}", False
    )


def _ipv6_loopback() -> Check:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.connect(("::1", 9))
        return Check("IPv6", True, "::1 is configured; IPv6 targets can be pinged")
    except OSError as exc:
        return Check(
            "IPv6",
            False,
            f"no IPv6 on this host ({exc.strerror})",
            "enable IPv6: sudo sysctl -w net.ipv6.conf.all.disable_ipv6=0",
        )


def run_checks() -> list[Check]:
    """Every capability check, in the order ``itops doctor`` shows them."""
    methods = probe_methods()
    checks: list[Check] = []
    raw_err = methods[Method.RAW]
    dgram_err = methods[Method.DGRAM]
    checks.append(
        Check("raw ICMP", True, "SOCK_RAW allowed: ping uses raw ICMP sockets")
        if raw_err is None
        else Check(
            "raw ICMP",
            False,
            f"SOCK_RAW refused ({raw_err})"
            + ("; ping uses unprivileged ICMP instead" if dgram_err is None else ""),
            f"run as root, or grant the capability: sudo setcap cap_net_raw+ep {_python()}",
            needed=dgram_err is not None,
        )
    )
    rng = ping_group_range()
    gid = os.getgid()
    shown = f"ping_group_range = {rng[0]} {rng[1]}" if rng else "ping_group_range unreadable"
    fix = (
        f"sudo sysctl -w net.ipv4.ping_group_range='0 2147483647' "
        f"(persist: echo '{SYSCTL_PING}' | sudo tee /etc/sysctl.d/60-itops-ping.conf)"
    )
    if dgram_err is None:
        checks.append(
            Check("unprivileged ICMP", True, f"{shown}; group {gid} may open ICMP datagram sockets")
        )
    else:
        unneeded = "; ping uses raw ICMP instead" if raw_err is None else ""
        checks.append(
            Check(
                "unprivileged ICMP",
                False,
                f"{shown}; group {gid} refused ({dgram_err}){unneeded}",
                fix,
                needed=raw_err is not None,
            )
        )
    checks.append(
        Check(
            "ping method",
            True,
            "raw ICMP"
            if raw_err is None
            else "unprivileged ICMP"
            if dgram_err is None
            else "TCP connect fallback (a refused connection counts as up)",
        )
    )
    checks.append(_ipv6_loopback())
    scapy = importlib.util.find_spec("scapy") is not None
    root = os.geteuid() == 0
    if scapy and (root or raw_err is None):
        checks.append(Check("scapy/ARP sweep", True, "scapy importable and raw sockets allowed"))
    elif not scapy:
        checks.append(
            Check(
                "scapy/ARP sweep",
                False,
                "scapy is not installed (discover falls back to ping sweep)",
                f"{_python()} -m pip install scapy==2.8.0",
                needed=False,
            )
        )
    else:
        checks.append(
            Check(
                "scapy/ARP sweep",
                False,
                "ARP sweeps need root (discover falls back to ping sweep)",
                "run 'sudo itops discover …'",
                needed=False,
            )
        )
    checks.append(_tool("snmpget", "SNMP tools", "snmp", "only the benchmarks use it"))
    checks.append(_tool("fping", "fping", "fping", "only the benchmarks use it"))
    reason = netns_available()
    checks.append(
        Check("ip netns", True, "network namespaces can be built (lab netns mode)")
        if reason is None
        else Check(
            "ip netns",
            False,
            f"{reason} (the lab runs in loopback mode instead)",
            "run 'sudo itops lab up' for the namespace lab"
            if "root" in reason
            else "sudo apt-get install iproute2",
            needed=False,
        )
    )
    tests = "only the tests and benchmarks use it"
    checks.append(_tool("snmpd", "snmpd", "snmpd", tests, ("/usr/sbin/snmpd",)))
    checks.append(_tool("sshd", "sshd", "openssh-server", tests, ("/usr/sbin/sshd",)))
    return checks
