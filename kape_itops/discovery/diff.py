"""What a discovery found compared with the inventory; pure (no I/O).

:func:`reconcile` compares an ARP/ping sweep with one school's devices: unknown devices (with
the vendor of their MAC), devices not seen, and IP or MAC changes. :func:`diff_inventory`
compares the ONVIF devices that answered WS-Discovery with the inventory's cameras and NVRs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from kape_itops.discovery.oui import vendor
from kape_itops.discovery.wsd_messages import Discovered
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import Device

CAMERA_KINDS = (DeviceKind.CAMERA, DeviceKind.NVR)


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


# -- ONVIF WS-Discovery ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscoveryDiff:
    """Devices found versus the inventory's cameras and NVRs."""

    known: tuple[tuple[Device, Discovered], ...] = ()
    unknown: tuple[Discovered, ...] = ()
    """Answered, but no inventory device has that address."""
    missing: tuple[Device, ...] = ()
    """Deployed cameras/NVRs in the inventory that did not answer."""
    not_cameras: tuple[tuple[Device, Discovered], ...] = field(default_factory=tuple)
    """Answered at the address of an inventory device that is not a camera or NVR."""


def diff_inventory(found: Sequence[Discovered], devices: Sequence[Device]) -> DiscoveryDiff:
    """Compare what answered with the inventory, by IP address."""
    by_ip = {d.ip: d for d in devices if d.ip}
    known: list[tuple[Device, Discovered]] = []
    others: list[tuple[Device, Discovered]] = []
    unknown: list[Discovered] = []
    seen: set[str] = set()
    for item in found:
        device = by_ip.get(item.address)
        if device is None:
            unknown.append(item)
            continue
        seen.add(device.asset_tag)
        (known if device.kind in CAMERA_KINDS else others).append((device, item))
    missing = [
        d
        for d in devices
        if d.kind in CAMERA_KINDS
        and d.ip
        and d.status == DeviceStatus.DEPLOYED
        and d.asset_tag not in seen
    ]
    return DiscoveryDiff(tuple(known), tuple(unknown), tuple(missing), tuple(others))
