"""Network discovery (ARP or ping sweep) and its reconciliation against the inventory.

The sweep runs with scapy at layer 2 when this process may (root and scapy importable): every
ARP request is sent at once and answers are collected for one bounded window, so dead hosts cost
nothing extra. Otherwise a ping sweep runs, and the kernel's neighbour table adds the MACs of
on-link hosts (also those that answered ARP but not ping).

:func:`reconcile` is pure: it compares what was seen with the inventory and lists unknown
devices (with the vendor of their MAC), devices not seen, and IP or MAC changes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import Device, School
from kape_itops.errors import ProbeError, UsageError
from kape_itops.probes.base import Target
from kape_itops.probes.oui import vendor
from kape_itops.probes.ping import ping_targets
from kape_itops.probes.targets import expand_network


@dataclass(frozen=True, slots=True)
class Observation:
    """One host seen on the network."""

    ip: str
    mac: str | None
    method: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """Seen on the network, not in the inventory."""

    ip: str
    mac: str | None
    vendor: str | None


@dataclass(frozen=True, slots=True)
class FieldChange:
    """An inventory device seen with another IP or MAC than recorded."""

    asset_tag: str
    field: str
    old: str | None
    new: str


@dataclass(slots=True)
class Reconciliation:
    """The diff between a sweep and the inventory."""

    matched: list[str] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    missing: list[Device] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether the network matches the inventory."""
        return not (self.unknown or self.missing or self.changes)


def _mac(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_mac(text)
    except FieldError:
        return None


def reconcile(
    observed: Sequence[Observation],
    devices: Sequence[Device],
    subnets: Sequence[str],
) -> Reconciliation:
    """Compare ``observed`` hosts with ``devices`` (one school's) on ``subnets``.

    A host is matched by MAC first, then by IP. A MAC match at another IP is an IP change (only
    for devices with a recorded IP: DHCP clients move freely); an IP match with another MAC is a
    MAC change, unless that MAC belongs to another inventory device. Deployed devices with an IP
    on the subnets that were not seen are missing.
    """
    nets = [ipaddress.ip_network(s, strict=False) for s in subnets]

    def on_subnets(ip: str | None) -> bool:
        if not ip:
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in n for n in nets)

    active = [d for d in devices if d.status not in (DeviceStatus.RETIRED, DeviceStatus.LOST)]
    by_mac = {m: d for d in active if (m := _mac(d.mac))}
    by_ip = {d.ip: d for d in active if d.ip}
    out = Reconciliation()
    seen: set[str] = set()
    rest: list[tuple[Observation, str | None]] = []
    for obs in sorted(observed, key=lambda o: ipaddress.ip_address(o.ip)):
        mac = _mac(obs.mac)
        device = by_mac.get(mac) if mac else None
        if device is None or device.asset_tag in seen:
            rest.append((obs, mac))
            continue
        seen.add(device.asset_tag)
        out.matched.append(device.asset_tag)
        if device.ip and device.ip != obs.ip:
            out.changes.append(FieldChange(device.asset_tag, "ip", device.ip, obs.ip))
    for obs, mac in rest:
        device = by_ip.get(obs.ip)
        if device is None or device.asset_tag in seen or (mac and mac in by_mac):
            out.unknown.append(Unknown(obs.ip, mac, vendor(mac)))
            continue
        seen.add(device.asset_tag)
        out.matched.append(device.asset_tag)
        if mac and _mac(device.mac) != mac:
            out.changes.append(FieldChange(device.asset_tag, "mac", _mac(device.mac), mac))
    out.missing = [
        d
        for d in active
        if d.asset_tag not in seen and d.status == DeviceStatus.DEPLOYED and on_subnets(d.ip)
    ]
    return out


# -- sweeps ------------------------------------------------------------------------------------


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


@dataclass(slots=True)
class DiscoveryReport:
    """A sweep and its reconciliation."""

    school: str
    subnets: list[str]
    method: str
    observed: list[Observation]
    result: Reconciliation
    duration_s: float
    notes: list[str] = field(default_factory=list)


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
