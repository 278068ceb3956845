"""Shared pieces of the two sync benchmarks (a module in a subfolder, so ``make bench`` does not run it).

A private PostgreSQL (initdb on loopback, fsync on as in production), the ``itops server``
process, per-process CPU and memory from /proc, and a deterministic inventory of N schools ×
M devices used both to seed the server and to give each collector its school.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kape_itops.domain.enums import DeviceKind, DeviceStatus  # noqa: E402
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert  # noqa: E402
from kape_itops.store.db import Store  # noqa: E402
from kape_itops.store.inventory_repo import InventoryRepo  # noqa: E402
from tests.support.postgres import PostgresServer, free_port, pg_bin  # noqa: E402, F401  (pg_bin: the scripts ask sb.pg_bin)

ITOPS = [sys.executable, "-m", "kape_itops"]
SERVE = [*ITOPS, "server", "serve"]
TICK = os.sysconf("SC_CLK_TCK")
PLAN = (
    (DeviceKind.ROUTER, 1, 1),
    (DeviceKind.SWITCH, 2, 2),
    (DeviceKind.HOTSPOT, 4, 4),
    (DeviceKind.PRINTER, 20, 4),
    (DeviceKind.NVR, 30, 1),
    (DeviceKind.CAMERA, 31, 20),
)
"""(kind, first host number, how many) of every school; desktops fill the rest from .100."""
SNMP_KINDS = (
    DeviceKind.ROUTER,
    DeviceKind.SWITCH,
    DeviceKind.HOTSPOT,
    DeviceKind.PRINTER,
    DeviceKind.NVR,
)
TOKEN = re.compile(r"\b[A-Za-z0-9_-]{40,}\b")


# -- inventory ---------------------------------------------------------------------------------
def school_devices(n: int, code: str, count: int) -> list[tuple[str, DeviceKind, str]]:
    """(asset tag, kind, IPv4 address) of school number ``n`` (1-based), ``count`` devices."""
    net = f"10.{100 + (n >> 8)}.{n & 255}"
    out: list[tuple[str, DeviceKind, str]] = []
    for kind, first, many in PLAN:
        out.extend((kind, first + k, f"{net}.{first + k}") for k in range(many))  # type: ignore[misc]
    host = 100
    while len(out) < count and host < 255:
        out.append((DeviceKind.DESKTOP, host, f"{net}.{host}"))  # type: ignore[arg-type]
        host += 1
    return [(f"{code}-{h:03d}", k, ip) for k, h, ip in out[:count]]  # type: ignore[misc]


def upserts(
    schools: Sequence[tuple[int, str, str]], devices: int
) -> tuple[list[SchoolUpsert], list[DeviceUpsert]]:
    """Upserts of ``(number, code, name)`` schools with ``devices`` deployed devices each."""
    s_ups, d_ups = [], []
    for n, code, name in schools:
        s_ups.append(
            SchoolUpsert(code, {"name": name, "subnets": (f"10.{100 + (n >> 8)}.{n & 255}.0/24",)})
        )
        for tag, kind, ip in school_devices(n, code, devices):
            values: dict[str, object] = {
                "school": code,
                "kind": kind,
                "status": DeviceStatus.DEPLOYED,
                "ip": ip,
                "manufacturer": "Generic",
                "model": kind.value,
                "room": "Office",
            }
            d_ups.append(DeviceUpsert(tag, values))
    return s_ups, d_ups


def seed(
    store: Store,
    schools: Sequence[tuple[int, str, str]],
    devices: int,
    source: str,
    at: dt.datetime,
) -> None:
    """Write the schools and devices (``source`` in the change log), 200 schools a transaction."""
    ctx = ChangeContext("bench", source, at)
    for i in range(0, len(schools), 200):
        s_ups, d_ups = upserts(schools[i : i + 200], devices)
        with store.write() as s:
            repo = InventoryRepo(s)
            repo.apply_schools(s_ups, ctx)
            repo.apply_devices(d_ups, ctx)


# -- processes ---------------------------------------------------------------------------------
def proc_cpu_s(pid: int, reaped: bool = False) -> float:
    """User + system CPU seconds of a live process (0 when it is gone); ``reaped`` adds its
    children that exited and were waited for (a postmaster's finished backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if reaped:
        used += int(fields[13]) + int(fields[14])
    return used / TICK


def proc_mem_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a live process in MiB ((0, 0) when it is gone)."""
    rss = hwm = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (PostgreSQL backends of a postmaster, for example)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


class PeakWatch:
    """Polls VmHWM of the watched processes every 0.2 s (the last value before each exits)."""

    def __init__(self) -> None:
        self.peak: dict[int, float] = {}
        self._pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, *pids: int) -> None:
        self._pids.update(pids)

    def start(self) -> PeakWatch:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            for pid in list(self._pids):
                _, hwm = proc_mem_mb(pid)
                if hwm:
                    self.peak[pid] = max(self.peak.get(pid, 0.0), hwm)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class CpuMeter:
    """CPU seconds of a process and of a postmaster's backends between start() and stop()."""

    def __init__(self, server: int, postmaster: int | None) -> None:
        self.server, self.postmaster = server, postmaster

    def _pg(self) -> float:
        if self.postmaster is None:
            return 0.0
        own = proc_cpu_s(self.postmaster, reaped=True)
        return own + sum(proc_cpu_s(p) for p in children(self.postmaster))

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.s0, self.p0 = proc_cpu_s(self.server), self._pg()

    def stop(self) -> tuple[float, float, float]:
        """(wall s, server CPU s, PostgreSQL CPU s incl. backends that exited meanwhile)."""
        return time.monotonic() - self.t0, proc_cpu_s(self.server) - self.s0, self._pg() - self.p0


def stop_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 10) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds, by this process's own PID."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not listen on 127.0.0.1:{port} within {timeout:g} s")


@contextlib.contextmanager
def itops_server(
    db_url: str, work: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``itops server serve`` on 127.0.0.1 (a free port): (base URL, process, log file)."""
    port = free_port()
    log = work / "server.log"
    env = {**os.environ, "ITOPS_DB": db_url, "ITOPS_ACTOR": "bench", **(extra_env or {})}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [*SERVE, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_port(port, proc)
        yield f"http://127.0.0.1:{port}", proc, log
    finally:
        stop_process(proc)


def enroll(db_url: str, school: str) -> str:
    """``itops server enroll SCHOOL``: the one-time token it prints."""
    env = {**os.environ, "ITOPS_DB": db_url, "ITOPS_ACTOR": "bench"}
    out = subprocess.run(
        [*ITOPS, "server", "enroll", school],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = TOKEN.findall(out.stdout)
    if out.returncode != 0 or not found:
        raise SystemExit(
            f"itops server enroll {school} failed ({out.returncode}): {out.stderr[-800:]}"
        )
    return str(found[-1])


# -- PostgreSQL --------------------------------------------------------------------------------
class Postgres(PostgresServer):
    """A private cluster on 127.0.0.1 (as root it runs as 'postgres'); fsync stays on."""

    def __init__(self, fsync: bool = True) -> None:
        base = Path(tempfile.mkdtemp(prefix="itops-bench-pg-"))  # its own: postgres owns it
        super().__init__(base, fsync=fsync, max_connections=200)

    @property
    def postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def conninfo(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=itops dbname={database}"

    def psql(
        self, database: str, *args: str, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                self.conninfo(database),
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def machine_busy_s() -> float:
    """CPU seconds every core of the machine spent busy since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def load() -> str:
    """The machine's load averages and core count, for the printed header."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
