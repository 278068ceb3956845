"""One asyncio ICMP echo engine per run: a socket per address family multiplexes every host.

Each echo is keyed by (address, sequence); the payload carries a per-engine token so stray
replies are ignored. Receive times come from the kernel (``SO_TIMESTAMPNS``), so a busy event
loop never inflates a round-trip time; before an echo is declared lost the socket is drained,
so a reply that arrived in time but was not yet read still counts.

Sockets, in order of preference: raw (``SOCK_RAW``, needs root or CAP_NET_RAW), unprivileged
ICMP datagram sockets (``SOCK_DGRAM``/``IPPROTO_ICMP``, allowed when the process's group is in
``net.ipv4.ping_group_range``). When neither opens, :func:`open_engine` says why and the caller
falls back to TCP connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import itertools
import os
import secrets
import socket
import struct
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from kape_itops.errors import ProbeError
from kape_itops.probes.ratelimit import RateLimiter, Unlimited

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux ``SO_TIMESTAMPNS`` (Python 3.11 does not export it; 35 on asm-generic arches)."""
_TS = struct.Struct("@qq")
_ECHO = struct.Struct("!BBHHH")
_PAYLOAD_PAD = b"kape-itops-ping!" * 2
ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}
_UNREACHABLE_V4 = {3: "destination unreachable", 11: "time exceeded"}
_UNREACHABLE_V6 = {1: "destination unreachable", 3: "time exceeded"}


class Method(StrEnum):
    """How reachability was measured; named on every ping result."""

    RAW = "icmp-raw"
    DGRAM = "icmp-dgram"
    TCP = "tcp-connect"


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_echo(family: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An ICMP (family 4) or ICMPv6 (family 6) echo request; v6 checksums are the kernel's."""
    header = _ECHO.pack(ECHO_REQUEST[family], 0, 0, ident, seq)
    if family == 6:
        return header + payload
    csum = checksum(header + payload)
    return _ECHO.pack(ECHO_REQUEST[family], 0, csum, ident, seq) + payload


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one received datagram means to the engine."""

    kind: str
    """``reply`` or ``error`` (an ICMP error quoting one of our echoes)."""
    ident: int
    seq: int
    payload: bytes
    source: str
    """For ``error``: the address our echo was sent to, else the replying address."""
    detail: str = ""


def parse_packet(family: int, data: bytes, source: str, has_ip_header: bool) -> Parsed | None:
    """Decode a received ICMP datagram; None for anything that is not about our echoes."""
    if has_ip_header:
        if len(data) < 20:
            return None
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return None
    icmp_type, _code, _csum, ident, seq = _ECHO.unpack_from(data)
    if icmp_type == ECHO_REPLY[family]:
        return Parsed("reply", ident, seq, data[8:], source)
    errors = _UNREACHABLE_V4 if family == 4 else _UNREACHABLE_V6
    if icmp_type in errors:
        return _parse_error(family, data[8:], errors[icmp_type])
    return None


def _parse_error(family: int, quoted: bytes, detail: str) -> Parsed | None:
    """An ICMP error quotes the offending IP header and the first 8 bytes of our echo."""
    if family == 4:
        if len(quoted) < 28:
            return None
        hlen = (quoted[0] & 0x0F) * 4
        dest = socket.inet_ntop(socket.AF_INET, quoted[16:20])
        inner = quoted[hlen : hlen + 8]
    else:
        if len(quoted) < 48:
            return None
        dest = socket.inet_ntop(socket.AF_INET6, quoted[24:40])
        inner = quoted[40:48]
    if len(inner) < 8:
        return None
    icmp_type, _code, _csum, ident, seq = _ECHO.unpack(inner)
    if icmp_type != ECHO_REQUEST[family]:
        return None
    return Parsed("error", ident, seq, b"", dest, detail)


def kernel_timestamp_ns(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    """The ``SO_TIMESTAMPNS`` receive time (CLOCK_REALTIME, ns) from recvmsg ancillary data."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TS.size:
            sec, nsec = _TS.unpack_from(data)
            return int(sec) * 1_000_000_000 + int(nsec)
    return None


@dataclass(frozen=True, slots=True)
class EchoOutcome:
    """One echo: its round-trip time in ms, or why there was none."""

    rtt_ms: float | None
    error: str | None = None


@dataclass(slots=True)
class Pending:
    """An echo on the wire: resolved by the receiver, or declared lost by :meth:`IcmpEngine.wait`."""

    future: asyncio.Future[EchoOutcome]
    sent_ns: int
    timeout_ns: int


@dataclass(slots=True)
class _Family:
    sock: socket.socket
    family: int
    raw: bool
    waiting: dict[tuple[str, int], Pending] = field(default_factory=dict)


def _open_socket(family: int, kind: int) -> socket.socket:
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    proto = socket.IPPROTO_ICMP if family == 4 else socket.IPPROTO_ICMPV6
    sock = socket.socket(af, kind, proto)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        for opt in (33, socket.SO_RCVBUF):  # SO_RCVBUFFORCE (root) first, then the capped one
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, opt, 8 * 1024 * 1024)
                break
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    except OSError:
        sock.close()
        raise
    return sock


def ping_group_range() -> tuple[int, int] | None:
    """``net.ipv4.ping_group_range`` of this network namespace, or None if unreadable."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ping_group_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return None


def probe_methods() -> dict[Method, str | None]:
    """Which ICMP socket kinds this process may open: None when allowed, else why not."""
    out: dict[Method, str | None] = {}
    for method, kind in ((Method.RAW, socket.SOCK_RAW), (Method.DGRAM, socket.SOCK_DGRAM)):
        try:
            _open_socket(4, kind).close()
            out[method] = None
        except OSError as exc:
            out[method] = exc.strerror or str(exc)
    return out


class IcmpEngine:
    """Sends echoes to many hosts through one socket per family and matches the replies."""

    def __init__(self, method: Method, budget: RateLimiter | None = None) -> None:
        if method is Method.TCP:
            raise ProbeError("the ICMP engine does not do TCP connect")
        self.method = method
        self.budget = budget or Unlimited()
        self.ident = secrets.randbelow(0xFFFF) + 1
        self._token = secrets.token_bytes(8)
        self._seq = itertools.count(secrets.randbelow(0xFFFF))
        self._families: dict[int, _Family] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.late_replies = 0

    @property
    def pending(self) -> int:
        """Echoes sent and still awaiting their reply or timeout."""
        return sum(len(f.waiting) for f in self._families.values())

    def open(self, family: int = 4) -> None:
        """Open the socket of ``family`` (4 or 6); ProbeError when the kernel refuses it."""
        if family in self._families:
            return
        kind = socket.SOCK_RAW if self.method is Method.RAW else socket.SOCK_DGRAM
        try:
            sock = _open_socket(family, kind)
        except OSError as exc:
            raise ProbeError(
                f"cannot open {self.method} IPv{family} socket: {exc.strerror}"
            ) from exc
        self._loop = asyncio.get_running_loop()
        fam = _Family(sock, family, raw=self.method is Method.RAW)
        self._families[family] = fam
        self._loop.add_reader(sock.fileno(), self._drain, fam)

    def close(self) -> None:
        """Close every socket; echoes still waiting end as lost."""
        for fam in self._families.values():
            if self._loop is not None:
                self._loop.remove_reader(fam.sock.fileno())
            fam.sock.close()
            for w in fam.waiting.values():
                if not w.future.done():
                    w.future.set_result(EchoOutcome(None, "engine closed"))
        self._families.clear()

    async def echo(self, address: str, timeout: float) -> EchoOutcome:
        """Send one echo to ``address`` (after the rate budget allows) and await its reply."""
        waiting = await self.send(address, timeout)
        return await self.wait(address, waiting)

    async def send(self, address: str, timeout: float) -> tuple[int, int, Pending] | EchoOutcome:
        """Pace, then send one echo; returns a handle for :meth:`wait` or an immediate failure."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        family = ip.version
        self.open(family)
        fam = self._families[family]
        await self.budget.acquire(1)
        seq = next(self._seq) & 0xFFFF
        key = (ip.compressed, seq)
        loop = asyncio.get_running_loop()
        waiting = Pending(loop.create_future(), 0, int(timeout * 1e9))
        fam.waiting[key] = waiting
        sockaddr: tuple[str, int] | tuple[str, int, int, int] = (
            (address, 0) if family == 4 else (address, 0, 0, 0)
        )
        for attempt in range(50):
            waiting.sent_ns = time.time_ns()
            packet = build_echo(
                family,
                self.ident,
                seq,
                self._token + struct.pack("!q", waiting.sent_ns) + _PAYLOAD_PAD,
            )
            try:
                fam.sock.sendto(packet, sockaddr)
                break
            except (BlockingIOError, InterruptedError):
                await asyncio.sleep(0.001 * (attempt + 1))
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # our own queue is full: wait, never blame the host
                    await asyncio.sleep(0.001 * (attempt + 1))
                    continue
                fam.waiting.pop(key, None)
                return EchoOutcome(None, os.strerror(exc.errno) if exc.errno else str(exc))
        else:
            fam.waiting.pop(key, None)
            return EchoOutcome(None, "send buffer full")
        return family, seq, waiting

    async def wait(
        self, address: str, handle: tuple[int, int, Pending] | EchoOutcome
    ) -> EchoOutcome:
        """Await the reply of a sent echo; drains the socket before declaring it lost."""
        if isinstance(handle, EchoOutcome):
            return handle
        family, seq, waiting = handle
        fam = self._families.get(family)
        key = (ipaddress.ip_address(address.split("%", 1)[0]).compressed, seq)
        remaining = (waiting.sent_ns + waiting.timeout_ns - time.time_ns()) / 1e9
        try:
            return await asyncio.wait_for(asyncio.shield(waiting.future), max(remaining, 0.0))
        except TimeoutError:
            if fam is not None:
                self._drain(fam)
            if waiting.future.done():
                return waiting.future.result()
            return EchoOutcome(None, "timeout")
        finally:
            if fam is not None and fam.waiting.get(key) is waiting:
                del fam.waiting[key]

    def _drain(self, fam: _Family) -> None:
        """Read every queued datagram, resolving the echoes they answer."""
        for _ in range(100_000):
            try:
                data, ancdata, _flags, addr = fam.sock.recvmsg(4096, 64)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EBADF, errno.ENOTSOCK):
                    return
                continue  # a queued ICMP error on a datagram socket; the echo stays waiting
            rx_ns = kernel_timestamp_ns(ancdata) or time.time_ns()
            source = str(addr[0]).split("%", 1)[0]
            parsed = parse_packet(fam.family, data, source, fam.raw and fam.family == 4)
            if parsed is None or (fam.raw and parsed.ident != self.ident):
                continue
            if parsed.kind == "reply" and not parsed.payload.startswith(self._token):
                continue
            key = (ipaddress.ip_address(parsed.source).compressed, parsed.seq)
            waiting = fam.waiting.get(key)
            if waiting is None:
                self.late_replies += parsed.kind == "reply"
                continue
            rtt_ns = rx_ns - waiting.sent_ns
            if parsed.kind == "error":
                outcome = EchoOutcome(None, parsed.detail)
            elif rtt_ns > waiting.timeout_ns:
                outcome = EchoOutcome(None, "timeout")
                self.late_replies += 1
            else:
                outcome = EchoOutcome(max(rtt_ns, 0) / 1e6)
            del fam.waiting[key]
            if not waiting.future.done():
                waiting.future.set_result(outcome)


def open_engine(
    preferred: Method | None = None, budget: RateLimiter | None = None
) -> tuple[IcmpEngine | None, list[str]]:
    """The best ICMP engine this process may use (IPv4 socket opened), with notes on fallbacks.

    Must be called inside a running event loop. ``preferred`` forces one method (ProbeError if
    the kernel refuses it). Returns ``(None, notes)`` when no ICMP socket can be opened.
    """
    notes: list[str] = []
    order = [preferred] if preferred else [Method.RAW, Method.DGRAM]
    for method in order:
        engine = IcmpEngine(method, budget)
        try:
            engine.open(4)
            return engine, notes
        except ProbeError as exc:
            if preferred:
                raise ProbeError(f"{exc}; {fix_hint(method)}") from exc
            notes.append(f"{exc} ({fix_hint(method)})")
    return None, notes


def fix_hint(method: Method) -> str:
    """The exact fix that would allow ``method`` for this user."""
    if method is Method.RAW:
        return "run as root, or: sudo setcap cap_net_raw+ep $(readlink -f $(which python3))"
    return "allow unprivileged ping: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'"
