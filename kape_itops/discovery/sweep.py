"""Network sweeps (ARP or ping) of a school's subnets; the I/O of ``itops discover``.

The sweep runs with scapy at layer 2 when this process may (root and scapy importable): every
ARP request is sent at once and answers are collected for one bounded window, so dead hosts cost
nothing extra. Otherwise a ping sweep runs, and the kernel's neighbour table adds the MACs of
on-link hosts (also those that answered ARP but not ping). What was seen is compared with the
inventory by the pure :func:`kape_itops.discovery.diff.reconcile`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from kape_itops.discovery.diff import DiscoveryReport, Observation, reconcile
from kape_itops.domain.inventory import Device, School
from kape_itops.errors import ProbeError, UsageError
from kape_itops.probes.base import Target
from kape_itops.probes.icmp.probe import ping_targets
from kape_itops.probes.targets import expand_network

__all__ = ["arp_sweep", "can_arp_sweep", "check_interface", "discover", "neighbours", "ping_sweep"]


def check_interface(name: str) -> None:
    """UsageError unless network interface ``name`` exists here."""
    if not Path("/sys/class/net", name).exists():
        raise UsageError(f"interface '{name}' does not exist on this machine")


def neighbours(subnets: Sequence[str]) -> dict[str, str]:
    """Complete entries of the kernel's IPv4 neighbour table (``/proc/net/arp``) on ``subnets``."""
    nets = [ipaddress.ip_network(s, strict=False) for s in subnets]
    found: dict[str, str] = {}
    try:
        lines = Path("/proc/net/arp").read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or parts[2] == "0x0" or parts[3] == "00:00:00:00:00:00":
            continue
        try:
            addr = ipaddress.ip_address(parts[0])
        except ValueError:
            continue
        if any(addr in n for n in nets):
            found[parts[0]] = parts[3].lower()
    return found


def arp_sweep(
    subnets: Sequence[str], interface: str | None, window_s: float = 2.0, force: bool = False
) -> list[Observation]:
    """Send every ARP request at once with scapy and collect answers for ``window_s``."""
    try:
        from scapy.config import conf
        from scapy.layers.l2 import ARP, Ether
        from scapy.sendrecv import srp
    except ImportError as exc:
        raise ProbeError(f"scapy is not importable: {exc}") from exc
    conf.verb = 0
    addresses = [a for s in subnets for a in expand_network(s, force)]
    if not addresses:
        return []
    if interface is None:
        interface = str(conf.route.route(addresses[0])[0])
    check_interface(interface)
    packets = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=addresses)
    try:
        answered, _ = srp(packets, iface=interface, timeout=window_s, inter=0, retry=0, verbose=0)
    except OSError as exc:
        raise ProbeError(f"ARP sweep on {interface} failed: {exc}") from exc
    seen: dict[str, str] = {}
    for _sent, reply in answered:
        seen.setdefault(str(reply[ARP].psrc), str(reply[ARP].hwsrc).lower())
    return [Observation(ip, mac, "arp") for ip, mac in seen.items()]


def ping_sweep(
    subnets: Sequence[str], timeout_s: float = 1.0, pps: float = 500.0, force: bool = False
) -> list[Observation]:
    """Ping every address once; MACs from the neighbour table for on-link hosts."""
    addresses = [a for s in subnets for a in expand_network(s, force)]
    targets = [Target(a, settings={"count": 1, "timeout_s": timeout_s}) for a in addresses]
    run = asyncio.run(ping_targets(targets, timeout_s=timeout_s, pps=pps))
    up = {a for a, r in zip(addresses, run.results, strict=True) if r.metrics.get("received")}
    macs = neighbours(subnets)
    return [Observation(ip, macs.get(ip), f"ping/{run.method}") for ip in sorted(up | set(macs))]


def can_arp_sweep() -> str | None:
    """None when an ARP sweep is possible, else why not."""
    if os.geteuid() != 0:
        return "ARP sweeps need root"
    if importlib.util.find_spec("scapy") is None:
        return "scapy is not installed"
    return None


def discover(
    school: School,
    devices: Iterable[Device],
    subnets: Sequence[str] = (),
    interface: str | None = None,
    method: str = "auto",
    window_s: float = 2.0,
) -> DiscoveryReport:
    """Sweep the school's subnets (or ``subnets``) and reconcile with its devices."""
    nets = list(subnets) or list(school.subnets)
    if not nets:
        raise UsageError(
            f"school '{school.code}' has no subnets in the inventory: give --subnet CIDR"
        )
    for n in nets:
        try:
            ipaddress.ip_network(n, strict=False)
        except ValueError as exc:
            raise UsageError(f"bad CIDR '{n}': {exc}") from exc
    if interface is not None:
        check_interface(interface)
    notes: list[str] = []
    if method == "auto":
        why = can_arp_sweep()
        method = "arp" if why is None else "ping"
        if why:
            notes.append(f"{why}: using a ping sweep (MACs only for on-link hosts)")
    started = time.monotonic()
    if method == "arp":
        observed = arp_sweep(nets, interface, window_s)
    elif method == "ping":
        observed = ping_sweep(nets)
    else:
        raise UsageError(f"unknown discovery method '{method}' (auto, arp or ping)")
    mine = [d for d in devices if d.school == school.code]
    result = reconcile(observed, mine, nets)
    return DiscoveryReport(
        school.code, nets, method, observed, result, time.monotonic() - started, notes
    )
