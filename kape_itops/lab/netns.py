"""Linux network namespaces for the lab and the tests: veth segments, routes, echo responders.

A *segment* is one namespace joined to the root namespace by a veth pair, with prefixes routed
into it. Live addresses become local there (``ip route add local A/32 dev lo``), the kernel's own
echo replies are switched off (``icmp_echo_ignore_all=1``) and a user-space responder
(:mod:`kape_itops.lab.responder`) answers their echoes with a delay and a loss rate; TCP to them
gets the kernel's answers (or a simulator's). Every other routed address is *dead and silent*
(not local, forwarding off: dropped without a word, ICMP or TCP); unowned addresses of the veth
link subnet are *on-link dead* (no ARP answer). Routes are checked before use and vanish with
the veth.

Everything is removed by name and PID in :meth:`NetnsLab.close`, which context-manager exit and
test fixtures call in ``finally``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from kape_itops.atomic import write_text
from kape_itops.errors import ProbeError

IP = "ip"


def run(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command (inside namespace ``ns`` when given); ProbeError with stderr on failure."""
    cmd = list(args)
    if ns is not None:
        cmd = [IP, "netns", "exec", ns, *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    if check and proc.returncode != 0:
        raise ProbeError(f"'{' '.join(cmd)}' failed: {proc.stderr.strip() or proc.returncode}")
    return proc


def set_sysctl(ns: str, key: str, value: str) -> None:
    """Set a sysctl inside namespace ``ns`` through /proc (no procps needed)."""
    path = "/proc/sys/" + key.replace(".", "/")
    run("sh", "-c", f'printf "%s" "$1" > "{path}"', "sh", value, ns=ns)


def netns_available() -> str | None:
    """None when this process can build namespaces, else the reason it cannot."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which(IP) is None:
        return "the 'ip' command (iproute2) is not installed"
    probe = f"itops-probe-{os.getpid()}"
    proc = run(IP, "netns", "add", probe, check=False)
    if proc.returncode != 0:
        return f"'ip netns add' failed: {proc.stderr.strip()}"
    run(IP, "netns", "del", probe, check=False)
    return None


def namespace_exists(name: str) -> bool:
    """Whether ``ip netns`` knows a namespace called ``name``."""
    return Path("/run/netns", name).exists()


def routes_overlapping(prefix: str) -> list[str]:
    """Routes of the root namespace (main table, default excluded) that overlap ``prefix``."""
    net = ipaddress.ip_network(prefix)
    out = json.loads(run(IP, "-j", "-4", "route", "show").stdout or "[]")
    found = []
    for route in out:
        dst = route.get("dst", "")
        if dst in ("", "default"):
            continue
        with contextlib.suppress(ValueError):
            if ipaddress.ip_network(dst, strict=False).overlaps(net):
                found.append(f"{dst} dev {route.get('dev', '?')}")
    return found


def route_device(address: str) -> str | None:
    """The interface the root namespace would send ``address`` out of (``ip route get``)."""
    proc = run(IP, "-j", "route", "get", address, check=False)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout or "[]")
    return str(data[0].get("dev")) if data else None


@dataclass(frozen=True, slots=True)
class HostBehaviour:
    """How the responder answers one address."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0


@dataclass(slots=True)
class Segment:
    """One namespace behind a veth pair, with the prefixes routed into it."""

    ns: str
    host_if: str
    peer_if: str
    link: ipaddress.IPv4Network
    routed: list[ipaddress.IPv4Network] = field(default_factory=list)
    responder_pid: int | None = None

    @property
    def host_addr(self) -> str:
        """The root namespace's address on the link."""
        return str(self.link.network_address + 1)

    @property
    def peer_addr(self) -> str:
        """The namespace's address on the link (the gateway of the routed prefixes)."""
        return str(self.link.network_address + 2)

    def onlink_dead(self, n: int = 1) -> list[str]:
        """Addresses on the link subnet that nobody owns (ARP gets no answer)."""
        hosts = list(self.link.hosts())[2:]
        return [str(a) for a in hosts[-n:]]


@dataclass(slots=True)
class NetnsLab:
    """Namespaces, veths and responders created here, all removed by :meth:`close`."""

    prefix: str
    segments: list[Segment] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="itops-netns-")))

    def __enter__(self) -> NetnsLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add_segment(self, routed: Sequence[str], link: str, *, index: int | None = None) -> Segment:
        """A namespace reachable from the root namespace through a veth on ``link`` (/29 or larger).

        Refuses prefixes that overlap an existing route, and checks the route after adding.
        """
        n = len(self.segments) if index is None else index
        ns = f"{self.prefix}-{n}"
        short = f"i{zlib.crc32(self.prefix.encode()) & 0xFFFFFF:06x}"
        seg = Segment(ns, f"{short}h{n}", f"{short}p{n}", ipaddress.IPv4Network(link))
        if namespace_exists(ns) or Path("/sys/class/net", seg.host_if).exists():
            raise ProbeError(f"namespace {ns} (or interface {seg.host_if}) already exists")
        for prefix in [link, *routed]:
            clash = routes_overlapping(prefix)
            if clash:
                raise ProbeError(f"refusing to route {prefix}: overlaps existing route {clash[0]}")
        self.segments.append(seg)
        run(IP, "netns", "add", ns)
        run(
            IP, "link", "add", seg.host_if, "type", "veth", "peer", "name", seg.peer_if, "netns", ns
        )
        plen = seg.link.prefixlen
        run(IP, "addr", "add", f"{seg.host_addr}/{plen}", "dev", seg.host_if)
        run(IP, "link", "set", seg.host_if, "up")
        run(IP, "-n", ns, "link", "set", "lo", "up")
        run(IP, "-n", ns, "addr", "add", f"{seg.peer_addr}/{plen}", "dev", seg.peer_if)
        run(IP, "-n", ns, "link", "set", seg.peer_if, "up")
        set_sysctl(ns, "net.ipv4.icmp_echo_ignore_all", "1")
        set_sysctl(ns, "net.ipv4.conf.all.arp_ignore", "1")
        for prefix in routed:
            net = ipaddress.IPv4Network(prefix)
            run(IP, "route", "add", str(net), "via", seg.peer_addr, "dev", seg.host_if)
            seg.routed.append(net)
            sample = str(net.network_address + 1)
            if route_device(sample) != seg.host_if:
                raise ProbeError(f"route check failed: {sample} does not leave via {seg.host_if}")
        return seg

    def add_lan_hosts(self, seg: Segment, hosts: Mapping[str, str]) -> None:
        """On-link hosts (IP → MAC) in the segment's namespace, each a macvlan answering ARP."""
        for i, (addr, mac) in enumerate(hosts.items()):
            name = f"mv{i}"
            run(
                IP,
                "-n",
                seg.ns,
                "link",
                "add",
                name,
                "link",
                seg.peer_if,
                "type",
                "macvlan",
                "mode",
                "bridge",
            )
            run(IP, "-n", seg.ns, "link", "set", name, "address", mac)
            run(IP, "-n", seg.ns, "addr", "add", f"{addr}/{seg.link.prefixlen}", "dev", name)
            run(IP, "-n", seg.ns, "link", "set", name, "up")
            set_sysctl(seg.ns, f"net.ipv4.conf.{name}.arp_ignore", "1")

    def make_local(self, seg: Segment, hosts: Iterable[str]) -> None:
        """Make ``hosts`` local addresses of the segment's namespace (one batch of /32 routes)."""
        batch = self.workdir / f"local-{seg.ns}.batch"
        write_text(batch, "".join(f"route replace local {a}/32 dev lo\n" for a in hosts))
        run(IP, "-n", seg.ns, "-batch", str(batch))

    def start_responder(
        self, seg: Segment, hosts: Mapping[str, HostBehaviour], seed: int = 1
    ) -> int:
        """Make ``hosts`` local in the namespace and start the echo responder there; its PID."""
        self.make_local(seg, hosts)
        config = {
            "seed": seed,
            "hosts": {a: [b.delay_ms, b.jitter_ms, b.loss] for a, b in hosts.items()},
        }
        path = self.workdir / f"responder-{seg.ns}.json"
        write_text(path, json.dumps(config))
        pid = spawn_responder(seg.ns, path, self.workdir / f"responder-{seg.ns}.log")
        seg.responder_pid = pid
        self.pids.append(pid)
        return pid

    def close(self) -> None:
        """Stop responders by PID, delete namespaces (their veths and routes go with them)."""
        for pid in self.pids:
            stop_pid(pid)
        self.pids.clear()
        for seg in self.segments:
            remove_segment(seg.ns, seg.host_if)
        self.segments.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


def spawn_responder(ns: str, config: Path, log: Path, ready_timeout: float = 10.0) -> int:
    """Run :mod:`kape_itops.lab.responder` detached in ``ns``; its PID once it is listening."""
    ready = config.with_suffix(".ready")
    ready.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "kape_itops.lab.responder", str(config), "--ready", str(ready)]
    with log.open("ab") as out:
        proc = subprocess.run(
            [IP, "netns", "exec", ns, *cmd, "--daemon"],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            timeout=ready_timeout,
            check=False,
        )
    if proc.returncode != 0:
        raise ProbeError(f"echo responder failed to start: {log.read_text()[-500:]}")
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return int(ready.read_text())
        time.sleep(0.02)
    raise ProbeError(f"echo responder in {ns} did not become ready in {ready_timeout:g} s")


def stop_pid(pid: int, wait: float = 5.0) -> None:
    """SIGTERM a process we started, then SIGKILL it if it lingers; reap it if it is our child."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        if not pid_alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def remove_segment(ns: str, host_if: str | None = None) -> None:
    """Delete a namespace and the root side of its veth (routes through it go too)."""
    if host_if and Path("/sys/class/net", host_if).exists():
        run(IP, "link", "del", host_if, check=False)
    if namespace_exists(ns):
        run(IP, "netns", "del", ns, check=False)


def addresses(prefixes: Iterable[str]) -> list[str]:
    """Every host address of the given prefixes, in order."""
    return [str(a) for p in prefixes for a in ipaddress.IPv4Network(p).hosts()]
