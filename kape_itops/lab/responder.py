"""A user-space ICMP echo responder with per-address delay, jitter and loss.

This kernel has no ``netem`` qdisc, so the lab simulates slow and lossy links here: run inside a
network namespace whose kernel echo replies are off (``net.ipv4.icmp_echo_ignore_all=1``), it
reads echo requests from a raw ICMP socket and, for configured addresses only, sends the reply
from a header-including raw socket after the delay, dropping a share. Other addresses stay
silent. Config (JSON): ``{"seed": 1, "hosts": {"10.30.1.1": [delay_ms, jitter_ms, loss]}}``.

Usage: ``python -m kape_itops.lab.responder CONFIG.json [--ready FILE] [--daemon]`` (stops
on SIGTERM).
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import json
import os
import random
import select
import signal
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from kape_itops.atomic import write_text
from kape_itops.probes.icmp.client import checksum


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Delay (ms), jitter (ms, uniform ±) and loss share (0–1) of one address."""

    delay_ms: float
    jitter_ms: float
    loss: float


def load_config(path: Path) -> tuple[dict[bytes, Behaviour], int]:
    """Behaviour per packed IPv4 address, and the random seed."""
    data = json.loads(path.read_text())
    hosts = {
        ipaddress.IPv4Address(addr).packed: Behaviour(float(v[0]), float(v[1]), float(v[2]))
        for addr, v in data["hosts"].items()
    }
    return hosts, int(data.get("seed", 1))


def make_reply(packet: bytes) -> tuple[bytes, bytes, bytes] | None:
    """For an IPv4 echo request: (its destination, its source, the full reply IP packet)."""
    if len(packet) < 28 or packet[9] != 1:
        return None
    ihl = (packet[0] & 0x0F) * 4
    icmp = packet[ihl:]
    if len(icmp) < 8 or icmp[0] != 8:
        return None
    src, dst = packet[12:16], packet[16:20]
    body = b"\0\0\0\0" + icmp[4:]
    csum = checksum(body)
    reply_icmp = b"\0\0" + struct.pack("!H", csum) + icmp[4:]
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(reply_icmp), 0, 0x4000, 64, 1, 0, dst, src
    )
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return dst, src, header + reply_icmp


class Responder:
    """The receive → schedule → send loop."""

    def __init__(self, hosts: dict[bytes, Behaviour], seed: int) -> None:
        self.hosts = hosts
        self.rng = random.Random(seed)  # noqa: S311 - simulated loss, not security
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self.rx.setblocking(False)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * 1024 * 1024)
        self.queue: list[tuple[float, int, bytes, str]] = []
        self.counter = 0
        self.running = True
        self.answered = 0
        self.dropped = 0

    def handle(self, packet: bytes, now: float) -> None:
        """Schedule (or drop) the reply to one received packet."""
        parsed = make_reply(packet)
        if parsed is None:
            return
        dst, src, reply = parsed
        behaviour = self.hosts.get(dst)
        if behaviour is None:
            return
        if behaviour.loss and self.rng.random() < behaviour.loss:
            self.dropped += 1
            return
        delay = behaviour.delay_ms
        if behaviour.jitter_ms:
            delay += self.rng.uniform(-behaviour.jitter_ms, behaviour.jitter_ms)
        self.counter += 1
        heapq.heappush(
            self.queue, (now + max(delay, 0.0) / 1000, self.counter, reply, socket.inet_ntoa(src))
        )

    def flush(self, now: float) -> None:
        """Send every reply whose time has come."""
        while self.queue and self.queue[0][0] <= now:
            _, _, reply, to = heapq.heappop(self.queue)
            try:
                self.tx.sendto(reply, (to, 0))
                self.answered += 1
            except OSError:
                continue

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT."""
        while self.running:
            now = time.monotonic()
            self.flush(now)
            wait = min(self.queue[0][0] - now, 0.2) if self.queue else 0.2
            try:
                readable, _, _ = select.select([self.rx], [], [], max(wait, 0.0))
            except InterruptedError:
                continue
            if not readable:
                continue
            for _ in range(10_000):
                try:
                    packet = self.rx.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                self.handle(packet, time.monotonic())

    def stop(self, _signum: int = 0, _frame: FrameType | None = None) -> None:
        """Ask the loop to end."""
        self.running = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m kape_itops.lab.responder``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("config", type=Path)
    parser.add_argument("--ready", type=Path, help="file that receives the PID once listening")
    parser.add_argument("--daemon", action="store_true", help="detach (fork, new session)")
    args = parser.parse_args(argv)
    hosts, seed = load_config(args.config)
    if args.daemon and os.fork() > 0:
        return 0
    if args.daemon:
        os.setsid()
    responder = Responder(hosts, seed)
    signal.signal(signal.SIGTERM, responder.stop)
    signal.signal(signal.SIGINT, responder.stop)
    if args.ready:
        write_text(args.ready, str(os.getpid()))
    responder.serve()
    print(f"responder: answered {responder.answered}, dropped {responder.dropped}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
