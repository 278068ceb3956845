"""The web benchmark's data: a PostgreSQL cluster with N devices and D days of results, cached.

The inventory, discovery sweeps, configuration backups and quotation evaluations are written
through the project's own repositories and services. The bulk (hourly pings of every deployed
device, SNMP/ONVIF every 6 hours for the network gear, printers, NVRs and cameras) goes in with
COPY: ping rows encoded by :func:`kape_itops.store.ping_codec.encode`, rollup buckets tallied by
:class:`kape_itops.store.rollup_repo.BucketTally` (the rollup's own arithmetic), runs as a
server holds them after its sites synced (one per school and hour, with their origin ids).
Finally :func:`kape_itops.reports.retention.rollup` runs once, as a server would, and
``VACUUM ANALYZE`` leaves the tables as autovacuum would.

The cluster lives in a data folder that is reused while the recipe (version, sizes, seed,
schema) is the same: generation takes minutes; the measurement seconds.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import fcntl
import importlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kape_itops.domain.enums import DeviceKind  # noqa: E402
from kape_itops.reports import retention  # noqa: E402
from kape_itops.store.db import Store  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

VERSION = 1
"""Bump when the generated data changes (part of the cache key)."""
PING_EVERY = 3600
EXTRA_EVERY = 6 * 3600
PROVINCES = (
    ("KPT", "Kampong Thom", "កំពង់ធំ"),
    ("BTB", "Battambang", "បាត់ដំបង"),
    ("SRP", "Siem Reap", "សៀមរាប"),
    ("KCM", "Kampong Cham", "កំពង់ចាម"),
    ("TKO", "Takeo", "តាកែវ"),
    ("PVH", "Preah Vihear", "ព្រះវិហារ"),
    ("KDL", "Kandal", "កណ្ដាល"),
    ("PST", "Pursat", "ពោធិ៍សាត់"),
)
VILLAGES = (
    ("Prey Speu", "ព្រៃស្ពឺ"),
    ("Prek Sdey", "ព្រែកស្ដី"),
    ("Trapeang Kak", "ត្រពាំងកក"),
    ("Chhouk", "ឈូក"),
    ("Boeng Kak", "បឹងកក់"),
    ("Kampong Seila", "កំពង់សីលា"),
    ("Angkor Chey", "អង្គរជ័យ"),
    ("Dang Tong", "ដងទង់"),
    ("Tuk Meas", "ទូកមាស"),
    ("Banteay Meas", "បន្ទាយមាស"),
    ("Kampong Trach", "កំពង់ត្រាច"),
    ("Lbaeng", "ល្បែង"),
)
KINDS = (  # kind, first host, share of the school's devices (at least one), rooms
    (DeviceKind.ROUTER, 1, 0.0, ("Office",)),
    (DeviceKind.SWITCH, 2, 0.03, ("Office", "Lab 1")),
    (DeviceKind.HOTSPOT, 5, 0.08, ("Library", "Lab 1", "Classroom 1", "Classroom 2")),
    (DeviceKind.PRINTER, 15, 0.06, ("Office", "Library", "Lab 1")),
    (DeviceKind.NVR, 29, 0.0, ("Office",)),
    (DeviceKind.CAMERA, 30, 0.3, ("Gate", "Corridor", "Library", "Lab 1", "Yard")),
)
SNMP = {
    DeviceKind.ROUTER,
    DeviceKind.SWITCH,
    DeviceKind.HOTSPOT,
    DeviceKind.PRINTER,
    DeviceKind.NVR,
}
MODELS = {
    DeviceKind.ROUTER: ("MikroTik", "hEX S"),
    DeviceKind.SWITCH: ("Cisco", "CBS250-24T"),
    DeviceKind.HOTSPOT: ("TP-Link", "EAP225"),
    DeviceKind.PRINTER: ("HP", "LaserJet M404dn"),
    DeviceKind.NVR: ("Hikvision", "DS-7616NI"),
    DeviceKind.CAMERA: ("Hikvision", "DS-2CD1043"),
    DeviceKind.DESKTOP: ("Dell", "OptiPlex 3000"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Recipe:
    """What to generate (the cache key)."""

    devices: int = 25_000
    schools: int = 500
    days: int = 30
    seed: int = 1

    @property
    def key(self) -> str:
        """Sizes and seed (not the schema: a cached database is upgraded like a server's)."""
        return f"v{VERSION}-{self.devices}d-{self.schools}s-{self.days}days-seed{self.seed}"


@dataclasses.dataclass(frozen=True, slots=True)
class Dev:
    id: int
    tag: str
    kind: DeviceKind
    ip: str
    school: int
    """0-based school index."""


# -- the cluster -------------------------------------------------------------------------------
class CachedPostgres(PostgresServer):
    """A cluster in a kept folder: initdb only when it is new; stop leaves the files."""

    SETTINGS = (
        "shared_buffers=1GB",
        "work_mem=16MB",
        "maintenance_work_mem=512MB",
        "max_wal_size=8GB",
        "checkpoint_timeout=30min",
        "effective_cache_size=8GB",
    )

    EXPLAIN = (
        "shared_preload_libraries=auto_explain",
        "auto_explain.log_min_duration=100ms",
        "log_min_duration_statement=100ms",
    )
    """While measuring: the plan and text of every statement over 100 ms in the server log."""

    def __init__(self, base: Path, explain: bool = False) -> None:
        super().__init__(base, fsync=True, max_connections=100)
        self.explain = explain

    @property
    def exists(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def _options(self) -> str:
        extra = self.SETTINGS + (self.EXPLAIN if self.explain else ())
        return super()._options() + "".join(f" -c {s}" for s in extra)

    def start(self) -> None:
        if not self.exists:
            super().start()
            return
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists() and not _alive(pid_file):
            pid_file.unlink()  # left by a killed earlier run
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "log"),
            "-w",
            "-t",
            "120",
            "-o",
            self._options(),
            "start",
        )

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return  # not running (it failed to start, or stopped already)
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def conninfo(self, database: str = "itops") -> str:
        return f"host=127.0.0.1 port={self.port} user=itops dbname={database}"

    def psql_cmd(self, sql: str, *args: str, timeout: float = 3600) -> str:
        """Run ``psql -c sql`` on the itops database; its standard output."""
        out = subprocess.run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                self.conninfo(),
                *args,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return out.stdout


_LOCKS: dict[Path, Any] = {}
"""Data folders this process holds (flock, released when the process ends)."""
WAIT_S = 3600


def hold(folder: Path, log: Callable[[str], None] = print) -> None:
    """Take the folder's lock: one run at a time per data folder (another run waits, at most
    an hour): two runs would start and stop the same cluster under each other."""
    if folder in _LOCKS:
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    fh = (folder.parent / f".{folder.name}.lock").open("w")
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                fh.close()
                raise SystemExit(f"{folder} stayed in use by another run for {WAIT_S} s") from None
            if not _LOCKS.get(Path("-waited")):
                log(f"data:       another run uses {folder}: waiting for it to end")
                _LOCKS[Path("-waited")] = True
            time.sleep(2)
    _LOCKS[folder] = fh
    atexit.register(fh.close)  # released at exit, without an "unclosed file" warning


def open_cluster(
    folder: Path,
    recipe: Recipe,
    log: Callable[[str], None] = print,
    explain: bool = False,
    fresh: bool = False,
) -> tuple[CachedPostgres, bool]:
    """The recipe's cluster, started: (cluster, True when its data was made earlier).

    A folder made by another recipe, by a generation that did not finish, or asked ``fresh``,
    is wiped. The folder stays locked for this process."""
    hold(folder, log)
    marker = folder / "ready.json"
    ready = marker.exists() and json.loads(marker.read_text()).get("key") == recipe.key
    ready = ready and not fresh
    if not ready and folder.exists():
        log(f"data:       {folder} holds no finished data of this recipe: generating anew")
        shutil.rmtree(folder)
    pg = CachedPostgres(folder, explain=explain and ready)
    pg.start()
    if not ready:
        pg.create_database("itops")
    return pg, ready


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def mark_ready(folder: Path, recipe: Recipe, facts: dict[str, Any]) -> None:
    (folder / "ready.json").write_text(json.dumps({"key": recipe.key, **facts}, indent=1))


def facts_of(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "ready.json").read_text()))


# -- generation --------------------------------------------------------------------------------


def school_code(n: int) -> str:
    prov = PROVINCES[n % len(PROVINCES)][0]
    return f"{prov}-{n + 1:03d}"


def silent(n: int) -> bool:
    return n % 97 == 11


def generate(
    pg: CachedPostgres, recipe: Recipe, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Fill the cluster's ``itops`` database; returns facts to keep beside it."""
    from webdata import (
        devices_of,
        seed_backups,
        seed_discovery,
        seed_evaluations,
        seed_inventory,
        seed_sites,
    )
    from webresults import generate_results

    url = pg.url("itops")
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    store = Store(url)
    facts: dict[str, Any] = {"end": end.isoformat()}
    try:
        t = time.monotonic()
        store.upgrade()
        sizes = seed_inventory(store, recipe, end)
        log(
            f"  inventory: {sum(sizes):,} devices in {recipe.schools} schools ({time.monotonic() - t:.0f} s)"
        )
        sites = seed_sites(store, recipe, end)
        devs = devices_of(store)
        t = time.monotonic()
        counts = generate_results(pg, recipe, devs, sites, end, log)
        facts.update(dataclasses.asdict(counts))
        with store.write() as s:  # the COPY above goes around the write path: its state too
            state = importlib.import_module(
                "kape_itops.store.migrations.versions.0009_device_state"
            )
            state.backfill(s.connection())
        log(f"  results, rollups and device_state ({time.monotonic() - t:.0f} s)")
        t = time.monotonic()
        facts["sweeps"] = seed_discovery(store, recipe, devs, end)
        facts["backups"] = seed_backups(store, devs, end)
        facts["evaluations"] = seed_evaluations(store, 3)
        log(
            f"  sweeps {facts['sweeps']}, backups {facts['backups']}, evaluations {len(facts['evaluations'])} ({time.monotonic() - t:.0f} s)"
        )
        t = time.monotonic()
        stats = retention.rollup(store)  # the server's own rollup, as after a sync
        log(
            f"  retention.rollup: {stats.results_read:,} results re-read ({time.monotonic() - t:.0f} s)"
        )
    finally:
        store.dispose()
    t = time.monotonic()
    pg.psql_cmd("VACUUM (ANALYZE)")
    log(f"  VACUUM ANALYZE ({time.monotonic() - t:.0f} s)")
    return facts
