"""WS-Discovery for ONVIF devices: one multicast Probe on ONE given interface, replies collected.

The probe is sent to 239.255.255.250:3702 out of the named interface only (``IP_MULTICAST_IF``
set to the interface's address, TTL 1, and ``SO_BINDTODEVICE`` when allowed), so nothing leaves
by another network. This is the only I/O of WS-Discovery: the messages are built and parsed in
:mod:`kape_itops.discovery.wsd_messages`, compared with the inventory in
:mod:`kape_itops.discovery.diff`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import socket
import struct
import time
from pathlib import Path

from kape_itops.discovery.wsd_messages import (
    WSD_GROUP,
    WSD_PORT,
    Discovered,
    build_probe,
    parse_matches,
)
from kape_itops.errors import UsageError

__all__ = ["WSD_GROUP", "WSD_PORT", "default_interface", "discover", "interface_ipv4"]

MAX_DATAGRAM = 65535


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
