"""The simulated school network behind ``itops lab up|down|status``.

Devices with an inventory address in 10.30.0.0/16 (the sample address plan) are simulated:

- **netns** mode (root): one namespace ``itops-lab-0`` holds every school subnet; each /24 is
  routed from the root namespace through a veth *only* into it (checked before the state file
  is written; the routes vanish with the veth). A user-space echo responder gives each device a
  school-dependent delay, jitter and loss; devices not deployed, and a few deployed ones, are
  down (silent).
- **loopback** mode (any user): 10.30.i.h is mapped to 127.30.i.h, which the kernel answers.

Other helpers' simulators plug in through :data:`EXTRA_COMPONENTS`: ``"module:function"``
entries whose function takes ``(devices, ctx: LabContext)`` (only the devices the lab keeps up)
and returns handles with ``.stop()`` and optionally ``.ports`` (inventory address →
{service: port}). They run in one
detached *lab host* process (inside the namespace in netns mode) so they outlive the CLI;
``lab down`` stops it by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import importlib
import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kape_itops.atomic import write_text
from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError, ProbeError, UsageError
from kape_itops.lab.credentials import write_lab_secrets
from kape_itops.lab.netns import (
    HostBehaviour,
    NetnsLab,
    namespace_exists,
    netns_available,
    pid_alive,
    remove_segment,
    route_device,
    stop_pid,
)
from kape_itops.lab.state import LabState, read_state, write_state

LAB_SPACE = ipaddress.IPv4Network("10.30.0.0/16")
LAB_PREFIX = "itops-lab"
LINK = "198.19.254.0/29"

EXTRA_COMPONENTS: list[str] = [
    "kape_itops.lab.snmp_sim:lab_component",
    "kape_itops.lab.onvif_sim:lab_component",
    "kape_itops.lab.ssh_sim:lab_component",
]
"""Simulators started with the lab: ``"package.module:function"`` (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class LabDevice:
    """What simulators need to know about one simulated device."""

    asset_tag: str
    school: str
    kind: str
    ip: str
    status: str = DeviceStatus.DEPLOYED.value
    manufacturer: str | None = None
    model: str | None = None
    platform: str | None = None
    down: bool = False
    """Simulated down (components never receive such devices; their addresses are not local)."""
    credential: str | None = None
    """Name of the secrets entry the inventory gives this device."""


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How one device answers ping in netns mode."""

    delay_ms: float
    jitter_ms: float
    loss: float
    down: bool


@dataclass(frozen=True, slots=True)
class LabContext:
    """Where the lab runs, handed to every component."""

    mode: str
    netns: str | None
    workdir: str

    def address(self, ip: str) -> str:
        """The address a simulator must bind for inventory address ``ip``."""
        return loopback_address(ip) if self.mode == "loopback" else ip


class LabHandle(Protocol):
    """What a component returns for each simulator it started."""

    def stop(self) -> None:
        """Stop the simulator."""


Component = Callable[[Sequence[LabDevice], LabContext], Sequence[LabHandle]]


def loopback_address(ip: str) -> str:
    """10.30.i.h → 127.30.i.h."""
    return "127." + ip.split(".", 1)[1]


def plan_behaviour(device: LabDevice) -> Behaviour:
    """Deterministic ping behaviour: rural uplinks slower by school, a few flaky or unplugged."""
    if device.status != DeviceStatus.DEPLOYED.value:
        return Behaviour(0.0, 0.0, 0.0, True)
    h = zlib.crc32(device.asset_tag.encode())
    school = int(device.ip.split(".")[2])
    base = 2.0 + (school % 4) * 7.0 + (70.0 if school % 12 == 0 else 0.0)
    jitter = 0.5 + (h >> 8) % 4
    loss = 0.2 if (h >> 16) % 100 < 4 else 0.02 if (h >> 16) % 100 < 15 else 0.0
    down = h % 100 < 5
    return Behaviour(round(base + (h >> 24) % 5, 1), float(jitter), loss, down)


def lab_devices(devices: Iterable[Device | LabDevice]) -> list[LabDevice]:
    """The devices the lab simulates: an IPv4 address in 10.30.0.0/16, each address once."""
    out: dict[str, LabDevice] = {}
    for d in devices:
        if not d.ip:
            continue
        try:
            addr = ipaddress.ip_address(d.ip)
        except ValueError:
            continue
        if addr.version != 4 or addr not in LAB_SPACE or str(addr) in out:
            continue
        if isinstance(d, LabDevice):
            out[str(addr)] = d
            continue
        out[str(addr)] = LabDevice(
            d.asset_tag,
            d.school,
            d.kind.value,
            str(addr),
            d.status.value,
            d.manufacturer,
            d.model,
            d.platform,
            credential=d.credential,
        )
    return list(out.values())


def devices_from_csv(path: Path) -> list[LabDevice]:
    """Lab devices from an inventory ``devices.csv`` (when the database has none)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    devices = []
    for row in rows:
        r = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if r.get("asset_tag") and r.get("ip"):
            devices.append(
                LabDevice(
                    r["asset_tag"],
                    r.get("school", ""),
                    r.get("kind", "other"),
                    r["ip"],
                    r.get("status") or DeviceStatus.DEPLOYED.value,
                    r.get("manufacturer") or None,
                    r.get("model") or None,
                    r.get("platform") or None,
                    credential=r.get("credential") or None,
                )
            )
    return lab_devices(devices)


def _resolve(spec: str) -> Component:
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"lab component '{spec}' cannot be loaded: {exc}") from exc
    if not callable(fn):
        raise ConfigError(f"lab component '{spec}' is not callable")
    return fn  # type: ignore[no-any-return]


def choose_mode(requested: str) -> str:
    """``auto`` → netns when this process can build namespaces, else loopback."""
    if requested not in ("auto", "netns", "loopback"):
        raise UsageError(f"unknown lab mode '{requested}' (auto, netns or loopback)")
    if requested == "loopback":
        return requested
    reason = netns_available()
    if requested == "netns" and reason:
        raise UsageError(f"--mode netns is not possible here: {reason} (use --mode loopback)")
    return "netns" if reason is None else "loopback"


@dataclass(slots=True)
class LabStatus:
    """What ``lab status`` reports."""

    up: bool
    state: LabState | None
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def lab_status(state_path: Path) -> LabStatus:
    """Check the recorded processes, namespaces and routes against reality."""
    state = read_state(state_path)
    if state is None:
        return LabStatus(False, None, ["no lab state file (lab is down)"])
    problems = [f"process {p} is not running" for p in state.pids if not pid_alive(p)]
    problems += [f"namespace {n} is missing" for n in state.namespaces if not namespace_exists(n)]
    if state.mode == "netns":
        host_if = state.interfaces[0] if state.interfaces else None
        for route in state.routes:
            sample = str(ipaddress.IPv4Network(route).network_address + 1)
            if route_device(sample) != host_if:
                problems.append(f"route {route} does not lead into the lab namespace")
    down = sum(1 for d in state.devices.values() if d.get("down"))
    counts = {
        "devices": len(state.devices),
        "down": down,
        "answering": len(state.devices) - down,
        "processes": len(state.pids),
    }
    return LabStatus(not problems, state, problems, counts)


def lab_down(state_path: Path, leftovers: bool = False) -> list[str]:
    """Stop the lab by PID and remove its namespaces (routes go with the veth); what was done.

    With ``leftovers`` and no state file, a namespace of the default lab left behind (state file
    deleted) is removed too.
    """
    done: list[str] = []
    state = read_state(state_path)
    if state is not None:
        for pid in state.pids:
            if pid_alive(pid):
                stop_pid(pid)
                done.append(f"stopped process {pid}")
        for i, ns in enumerate(state.namespaces):
            host_if = state.interfaces[i] if i < len(state.interfaces) else None
            if namespace_exists(ns) or (host_if and Path("/sys/class/net", host_if).exists()):
                remove_segment(ns, host_if)
                done.append(f"removed namespace {ns}")
        state_path.unlink(missing_ok=True)
        done.append(f"removed {state_path}")
    elif leftovers and os.geteuid() == 0 and namespace_exists(f"{LAB_PREFIX}-0"):
        remove_segment(f"{LAB_PREFIX}-0")
        done.append(f"removed leftover namespace {LAB_PREFIX}-0 (no state file)")
    return done


LOCK_PATH = Path(tempfile.gettempdir()) / "itops-lab.lock"


class _LockDepth:
    held = 0


@contextlib.contextmanager
def lab_lock(timeout_s: float = 120.0) -> Iterator[None]:
    """Serialise namespace-lab set-ups between processes (demo, tests); re-entrant in one."""
    if _LockDepth.held:
        _LockDepth.held += 1
        try:
            yield
        finally:
            _LockDepth.held -= 1
        return
    with LOCK_PATH.open("a") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ProbeError(
                        f"another lab set-up has held {LOCK_PATH} for {timeout_s:g} s"
                    ) from None
                time.sleep(0.1)
        _LockDepth.held = 1
        try:
            yield
        finally:
            _LockDepth.held = 0
            fcntl.flock(fh, fcntl.LOCK_UN)


def lab_up(
    devices: Sequence[LabDevice],
    state_path: Path,
    mode: str = "auto",
    components: Sequence[str] = (),
    *,
    prefix: str = LAB_PREFIX,
    link: str = LINK,
    simulators: bool = True,
) -> tuple[LabState, bool]:
    """Start the lab (or report the one running); returns the state and whether it was started.

    ``simulators=False`` leaves out :data:`EXTRA_COMPONENTS` (a ping-only lab).
    """
    specs = [*(EXTRA_COMPONENTS if simulators else ()), *components]
    if choose_mode(mode) == "netns":
        with lab_lock():
            return _lab_up(devices, state_path, "netns", specs, prefix, link)
    return _lab_up(devices, state_path, mode, specs, prefix, link)


def _lab_up(
    devices: Sequence[LabDevice],
    state_path: Path,
    mode: str,
    components: Sequence[str],
    prefix: str,
    link: str,
) -> tuple[LabState, bool]:
    if not devices:
        raise UsageError(
            "no devices to simulate: the inventory has no addresses in 10.30.0.0/16 "
            "(import the sample data: itops inventory import inventory/)"
        )
    current = lab_status(state_path)
    if current.up and current.state is not None:
        return current.state, False
    if current.state is not None:
        lab_down(state_path)
    chosen = choose_mode(mode)
    specs = list(components)
    for spec in specs:
        _resolve(spec)
    workdir = state_path.parent
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "known_hosts").unlink(missing_ok=True)
    plan = {d.ip: plan_behaviour(d) for d in devices}
    state = LabState(mode=chosen)
    state.devices = {
        d.ip: {"asset_tag": d.asset_tag, "kind": d.kind, "school": d.school, **asdict(plan[d.ip])}
        for d in devices
    }
    netns = None
    lab = NetnsLab(prefix, workdir=workdir / "netns") if chosen == "netns" else None
    try:
        if lab is not None:
            (workdir / "netns").mkdir(exist_ok=True)
            routes = sorted(
                {str(ipaddress.IPv4Network(f"{d.ip}/24", strict=False)) for d in devices},
                key=lambda n: ipaddress.IPv4Network(n),
            )
            try:
                seg = lab.add_segment(routes, link, index=0)
            except ProbeError as exc:
                raise ProbeError(
                    f"{exc} (is another lab running? 'itops lab status', 'itops lab down')"
                ) from exc
            netns = seg.ns
            state.namespaces, state.interfaces = [seg.ns], [seg.host_if]
            state.routes = [str(r) for r in seg.routed]
            live = {
                ip: HostBehaviour(b.delay_ms, b.jitter_ms, b.loss)
                for ip, b in plan.items()
                if not b.down
            }
            state.pids.append(lab.start_responder(seg, live))
        ctx = LabContext(chosen, netns, str(workdir))
        state.address_map = {d.ip: {"address": ctx.address(d.ip), "ports": {}} for d in devices}
        if specs:
            answering = [d for d in devices if not plan[d.ip].down]
            pid, ports = _spawn_host(answering, ctx, specs, workdir)
            state.pids.append(pid)
            for ip, mapping in ports.items():
                if ip in state.address_map:
                    state.address_map[ip]["ports"].update(mapping)
        if lab is not None:
            _verify_routes(state)
        write_lab_secrets(workdir, {d.credential for d in devices if d.credential})
        write_state(state_path, state)
    except BaseException:
        for pid in state.pids:
            stop_pid(pid)
        if lab is not None:
            lab.pids.clear()
            lab.close()
        raise
    return state, True


def _verify_routes(state: LabState) -> None:
    host_if = state.interfaces[0]
    for ip in state.devices:
        if route_device(ip) != host_if:
            raise ProbeError(f"route check failed: {ip} would not go into the lab namespace")


def _spawn_host(
    devices: Sequence[LabDevice],
    ctx: LabContext,
    specs: Sequence[str],
    workdir: Path,
    ready_timeout: float = 60.0,
) -> tuple[int, dict[str, dict[str, int]]]:
    """Start the detached lab host that runs the components; its PID and their ports."""
    config = workdir / "host.json"
    ready = workdir / "host.ready"
    ready.unlink(missing_ok=True)
    write_text(
        config,
        json.dumps(
            {
                "devices": [asdict(d) for d in devices],
                "ctx": asdict(ctx),
                "components": list(specs),
                "ready": str(ready),
            }
        )
    )
    cmd = [sys.executable, "-m", "kape_itops.lab.lab", "host", str(config)]
    if ctx.netns:
        cmd = ["ip", "netns", "exec", ctx.netns, *cmd]
    with (workdir / "host.log").open("ab") as log:
        proc = subprocess.run(
            cmd,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            timeout=ready_timeout,
            check=False,
            cwd=Path.cwd(),
        )
    if proc.returncode != 0:
        raise ProbeError(f"lab host failed to start (see {workdir / 'host.log'})")
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if ready.exists():
            doc = json.loads(ready.read_text())
            if "error" in doc:
                stop_pid(int(doc["pid"]))
                raise ProbeError(f"lab component failed: {doc['error']}")
            return int(doc["pid"]), {k: dict(v) for k, v in doc["ports"].items()}
        time.sleep(0.05)
    raise ProbeError(f"lab host did not start its components within {ready_timeout:g} s")


def _host(config_path: Path) -> int:
    """The lab host process: start components, report ports, run until SIGTERM."""
    config = json.loads(config_path.read_text())
    if os.fork() > 0:
        return 0
    os.setsid()
    ready = Path(config["ready"])
    handles: list[LabHandle] = []
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    devices = [LabDevice(**d) for d in config["devices"]]
    ctx = LabContext(**config["ctx"])
    ports: dict[str, dict[str, int]] = {}
    try:
        for spec in config["components"]:
            for handle in _resolve(spec)(devices, ctx):
                handles.append(handle)
                mapping: Mapping[str, Mapping[str, int]] = getattr(handle, "ports", {}) or {}
                for ip, services in mapping.items():
                    ports.setdefault(ip, {}).update({k: int(v) for k, v in services.items()})
        doc: dict[str, Any] = {"pid": os.getpid(), "ports": ports}
    except Exception as exc:  # a component's failure is reported to 'lab up', then we exit
        doc = {"pid": os.getpid(), "error": f"{type(exc).__name__}: {exc}"}
        stopping = True
    write_text(ready, json.dumps(doc))
    while not stopping:
        time.sleep(0.2)
    for handle in handles:
        try:
            handle.stop()
        except Exception as exc:  # keep stopping the others
            print(f"lab host: stopping {handle!r} failed: {exc}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m kape_itops.lab.lab host CONFIG`` (used by :func:`lab_up`)."""
    parser = argparse.ArgumentParser(prog="kape_itops.lab.lab")
    parser.add_argument("command", choices=["host"])
    parser.add_argument("config", type=Path)
    args = parser.parse_args(argv)
    return _host(args.config)


if __name__ == "__main__":
    raise SystemExit(main())
