"""snmpsim serving the project's recordings (``kape_itops/lab/recordings/*.snmprec``).

snmpsim 1.2.2 is not a dependency of kape-itops (it pins its own pysnmp): it lives in a
separate virtualenv, found through ``ITOPS_SNMPSIM`` (the ``snmpsim-command-responder``
executable), ``./.venv-snmpsim`` or ``PATH`` (``make snmpsim`` creates the venv). Every
distinct recording gets one responder process serving all of its endpoints; the community
selects the recording (``<community>.snmprec`` in the process's own data folder).

Used by the tests, the benchmark and ``itops lab up`` (:func:`lab_component`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.atomic import copy_file
from kape_itops.errors import ConfigError, ProbeError

RECORDINGS = Path(__file__).resolve().parent / "recordings"
SNMPSIM_ENV = "ITOPS_SNMPSIM"
EXECUTABLE = "snmpsim-command-responder"
LAB_PORT = 16161
"""The port every loopback-lab agent listens on (its own 127.30.i.h address)."""

Endpoint = tuple[str, int, str]
"""(address, port, recording name or path)."""


def recording_path(recording: str | Path) -> Path:
    """A recording by name (``printer-low-toner``) or path; a clear error when missing."""
    path = Path(recording)
    if path.suffix != ".snmprec":
        path = RECORDINGS / f"{recording}.snmprec"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in RECORDINGS.glob("*.snmprec")))
        raise ConfigError(f"SNMP recording {recording!r} not found (have: {names})")
    return path


def find_snmpsim() -> Path:
    """The responder executable, or a ConfigError saying how to install it."""
    candidates = [os.environ.get(SNMPSIM_ENV)]
    root = Path(__file__).resolve().parents[2]
    candidates += [
        str(root / ".venv-snmpsim/bin" / EXECUTABLE),
        str(Path.cwd() / ".venv-snmpsim/bin" / EXECUTABLE),
    ]
    candidates.append(shutil.which(EXECUTABLE))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    raise ConfigError(
        "snmpsim is not installed: run 'make snmpsim' (a separate venv .venv-snmpsim with "
        f"snmpsim==1.2.2 and pysmi) or set {SNMPSIM_ENV} to snmpsim-command-responder"
    )


def bound_udp() -> set[tuple[str, int]]:
    """Local UDP (address, port) pairs bound on this host (from /proc/net/udp)."""
    found: set[tuple[str, int]] = set()
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        local = line.split()[1]
        hex_ip, hex_port = local.split(":")
        ip = socket.inet_ntoa(bytes.fromhex(hex_ip)[::-1])
        found.add((ip, int(hex_port, 16)))
    return found


@dataclass
class SnmpsimHandle:
    """Running responder processes; :meth:`stop` ends them by PID and removes their files."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workdir: Path | None = None
    endpoints: list[Endpoint] = field(default_factory=list)
    ports: dict[str, dict[str, int]] = field(default_factory=dict)

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.processes.clear()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> SnmpsimHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_snmpsim(
    endpoints: Sequence[Endpoint],
    community: str = "public",
    *,
    workdir: Path | None = None,
    ready_timeout_s: float = 60.0,
) -> SnmpsimHandle:
    """Serve each (address, port, recording) with snmpsim; returns once every port is bound."""
    if not endpoints:
        raise ProbeError("start_snmpsim: no endpoints given")
    if not community or "/" in community:
        raise ProbeError("start_snmpsim: the community must be a non-empty name without '/'")
    exe = find_snmpsim()
    groups: dict[Path, list[tuple[str, int]]] = {}
    for address, port, recording in endpoints:
        groups.setdefault(recording_path(recording), []).append((address, port))
    base = workdir or Path(tempfile.mkdtemp(prefix="itops-snmpsim-"))
    handle = SnmpsimHandle(workdir=base, endpoints=list(endpoints))
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    try:
        for n, (path, addrs) in enumerate(groups.items()):
            data = base / f"p{n}" / "data"
            data.mkdir(parents=True)
            copy_file(path, data / f"{community}.snmprec")
            log = (base / f"p{n}" / "log").open("wb")
            args = [
                str(exe),
                f"--data-dir={data}",
                f"--cache-dir={base / f'p{n}' / 'cache'}",
                "--log-level=error",
                *(f"--agent-udpv4-endpoint={a}:{p}" for a, p in addrs),
            ]
            handle.processes.append(
                subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )
            log.close()
        _wait_bound(handle, ready_timeout_s)
    except BaseException:
        handle.stop()
        raise
    return handle


def _wait_bound(handle: SnmpsimHandle, timeout_s: float) -> None:
    wanted = {(a, p) for a, p, _r in handle.endpoints}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for proc in handle.processes:
            if proc.poll() is not None:
                raise ProbeError(f"snmpsim exited with {proc.returncode}: {_logs(handle)}")
        if wanted <= bound_udp():
            return
        time.sleep(0.1)
    raise ProbeError(f"snmpsim did not bind its {len(wanted)} endpoints within {timeout_s:g} s")


def _logs(handle: SnmpsimHandle) -> str:
    if handle.workdir is None:
        return ""
    tails = [
        (p / "log").read_text(errors="replace")[-600:] for p in sorted(handle.workdir.glob("p*"))
    ]
    return " | ".join(t.strip() for t in tails if t.strip())


LAB_RECORDINGS: dict[str, tuple[str, ...]] = {
    "printer": ("printer-low-toner", "agent-basic"),
    "hotspot": ("ap-clients",),
    "switch": ("switch-uplink-down", "agent-basic"),
    "router": ("agent-basic",),
    "nvr": ("nvr-disk-full",),
    "ups": ("ups-on-battery", "ups-normal"),
}
"""Which recordings the lab serves per device kind (picked by asset tag, stable)."""


def lab_recording(kind: str, asset_tag: str) -> str | None:
    """The recording a simulated device of this kind gets, or None (no SNMP agent)."""
    choices = LAB_RECORDINGS.get(kind)
    if not choices:
        return None
    return choices[zlib.crc32(asset_tag.encode()) % len(choices)]


def lab_component(devices: Sequence[Any], ctx: Any) -> list[SnmpsimHandle]:
    """``itops lab up`` component: an snmpsim agent for every SNMP-capable lab device.

    ``devices`` are lab devices (``asset_tag``, ``kind``, ``ip``, ``status``), ``ctx`` the lab
    context (``address(ip)`` gives the address to bind). Community ``public`` unless
    ``ITOPS_LAB_SNMP_COMMUNITY`` is set; every agent listens on :data:`LAB_PORT`.
    """
    endpoints: list[Endpoint] = []
    ports: dict[str, dict[str, int]] = {}
    for device in devices:
        if getattr(device, "status", "deployed") != "deployed":
            continue
        recording = lab_recording(str(device.kind), str(device.asset_tag))
        if recording is None or not device.ip:
            continue
        endpoints.append((ctx.address(device.ip), LAB_PORT, recording))
        ports[device.ip] = {"snmp": LAB_PORT}
    if not endpoints:
        return []
    community = os.environ.get("ITOPS_LAB_SNMP_COMMUNITY") or "public"
    workdir = Path(ctx.workdir) / "snmpsim" if getattr(ctx, "workdir", None) else None
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
    handle = start_snmpsim(endpoints, community, workdir=workdir)
    handle.ports = ports
    return [handle]
