"""WS-Discovery for ONVIF devices: one multicast Probe on ONE given interface, replies parsed.

The probe is sent to 239.255.255.250:3702 out of the named interface only (``IP_MULTICAST_IF``
set to the interface's address, TTL 1, and ``SO_BINDTODEVICE`` when allowed), so nothing leaves
by another network. Parsing the ProbeMatches and the comparison with the inventory are pure.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import socket
import struct
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Device
from kape_itops.errors import UsageError

WSD_GROUP = "239.255.255.250"
WSD_PORT = 3702
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NVT = "http://www.onvif.org/ver10/network/wsdl"
MAX_DATAGRAM = 65535
CAMERA_KINDS = (DeviceKind.CAMERA, DeviceKind.NVR)


@dataclass(frozen=True, slots=True)
class Discovered:
    """One device that answered the probe."""

    source: str
    """The address the reply came from."""
    endpoint: str
    """The device's stable endpoint reference (``urn:uuid:…``)."""
    xaddrs: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def scope(self, key: str) -> str | None:
        """An ONVIF scope value, e.g. ``name``, ``hardware``, ``location`` (URL-decoded)."""
        prefix = f"onvif://www.onvif.org/{key}/"
        for s in self.scopes:
            if s.casefold().startswith(prefix):
                return unquote(s[len(prefix) :])
        return None

    @property
    def address(self) -> str:
        """The device's IP: the host of its first XAddr, else the reply's source."""
        for x in self.xaddrs:
            host = urlsplit(x).hostname
            if host:
                return host
        return self.source


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


def build_probe(message_id: str | None = None) -> tuple[str, bytes]:
    """A WS-Discovery Probe for ONVIF video transmitters: (message id, datagram)."""
    mid = message_id or f"urn:uuid:{uuid.uuid4()}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:dn="{NVT}">'
        f"<s:Header><a:Action>{WSD}/Probe</a:Action><a:MessageID>{mid}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    )
    return mid, xml.encode("utf-8")


def parse_matches(data: bytes, source: str, message_id: str | None = None) -> list[Discovered]:
    """The ProbeMatch entries of one reply; [] for anything else (or a reply to another probe)."""
    try:
        root = ET.fromstring(data)  # noqa: S314 - expat resolves no external entities
    except ET.ParseError:
        return []
    if message_id is not None:
        relates = root.findtext(f"{{{SOAP12}}}Header/{{{WSA}}}RelatesTo")
        if relates is not None and relates.strip() != message_id:
            return []
    found = []
    for match in root.iter(f"{{{WSD}}}ProbeMatch"):
        endpoint = (match.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address") or "").strip()
        xaddrs = tuple((match.findtext(f"{{{WSD}}}XAddrs") or "").split())
        scopes = tuple((match.findtext(f"{{{WSD}}}Scopes") or "").split())
        types = tuple((match.findtext(f"{{{WSD}}}Types") or "").split())
        if endpoint or xaddrs:
            found.append(Discovered(source, endpoint or xaddrs[0], xaddrs, scopes, types))
    return found


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


def interface_ipv4(name: str) -> str:
    """The IPv4 address of interface ``name`` (SIOCGIFADDR); a clear error when it has none."""
    if not name or len(name) > 15 or "/" in name:
        raise UsageError(f"bad interface name {name!r}")
    if not Path("/sys/class/net", name).exists():
        available = ", ".join(sorted(p.name for p in Path("/sys/class/net").iterdir()))
        raise UsageError(f"no interface {name!r} (available: {available})")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()))
        except OSError as exc:
            raise UsageError(f"interface {name!r} has no IPv4 address") from exc
    return socket.inet_ntoa(packed[20:24])


def default_interface() -> str | None:
    """The interface of the IPv4 default route, from /proc/net/route."""
    try:
        lines = Path("/proc/net/route").read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            return fields[0]
    return None


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.found: dict[str, Discovered] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        for item in parse_matches(data[:MAX_DATAGRAM], str(addr[0]), self.message_id):
            self.found.setdefault(item.endpoint, item)


def _socket(interface: str, source: str, dest: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with contextlib.suppress(PermissionError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        if ipaddress.IPv4Address(dest).is_multicast:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.bind((source, 0))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def discover(
    interface: str,
    timeout_s: float = 3.0,
    dest: tuple[str, int] = (WSD_GROUP, WSD_PORT),
    repeats: int = 2,
) -> list[Discovered]:
    """Send the Probe out of ``interface`` (``repeats`` times, as UDP is lossy) and collect
    ProbeMatches for ``timeout_s``. ``dest`` may name one device (a directed probe)."""
    if not 0 < timeout_s <= 60:
        raise UsageError("discovery timeout must be between 0 and 60 s")
    source = interface_ipv4(interface)
    message_id, datagram = build_probe()
    loop = asyncio.get_running_loop()
    sock = _socket(interface, source, dest[0])
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Collector(message_id), sock=sock
    )
    try:
        deadline = time.monotonic() + timeout_s
        for i in range(max(1, min(repeats, 5))):
            transport.sendto(datagram, dest)
            if i + 1 < repeats:
                await asyncio.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    finally:
        transport.close()
    return sorted(protocol.found.values(), key=lambda d: (d.address, d.endpoint))
