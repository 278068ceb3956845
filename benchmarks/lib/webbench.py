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

import dataclasses
import datetime as dt
import hashlib
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kape_itops.domain import ping as ping_text  # noqa: E402
from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord  # noqa: E402
from kape_itops.domain.enums import DeviceKind, DeviceStatus, SchoolLevel  # noqa: E402
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert  # noqa: E402
from kape_itops.domain.reports import DAY, HOUR  # noqa: E402
from kape_itops.probes import catalog  # noqa: E402
from kape_itops.reports import retention  # noqa: E402
from kape_itops.store import ping_codec  # noqa: E402
from kape_itops.store.backup_repo import BackupRepo  # noqa: E402
from kape_itops.store.db import Store  # noqa: E402
from kape_itops.store.discovery_repo import record_sweeps  # noqa: E402
from kape_itops.store.inventory_repo import InventoryRepo  # noqa: E402
from kape_itops.store.models import SiteRow  # noqa: E402
from kape_itops.store.rollup_repo import BucketTally  # noqa: E402
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
        (self.data / "postmaster.pid").unlink(missing_ok=True)  # a killed earlier run
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


def open_cluster(
    folder: Path, recipe: Recipe, log: Callable[[str], None] = print, explain: bool = False
) -> tuple[CachedPostgres, bool]:
    """The recipe's cluster, started: (cluster, True when its data was made earlier).

    A folder made by another recipe, or by a generation that did not finish, is wiped."""
    marker = folder / "ready.json"
    ready = marker.exists() and json.loads(marker.read_text()).get("key") == recipe.key
    if not ready and folder.exists():
        log(f"data:       {folder} holds no finished data of this recipe: generating anew")
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    pg = CachedPostgres(folder, explain=explain and ready)
    pg.start()
    if not ready:
        pg.create_database("itops")
    return pg, ready


def mark_ready(folder: Path, recipe: Recipe, facts: dict[str, Any]) -> None:
    (folder / "ready.json").write_text(json.dumps({"key": recipe.key, **facts}, indent=1))


def facts_of(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "ready.json").read_text()))


# -- generation --------------------------------------------------------------------------------
def _sizes(recipe: Recipe, rng: random.Random) -> list[int]:
    """Devices per school: between half and twice the mean, summing to ``recipe.devices``."""
    mean = recipe.devices / recipe.schools
    sizes = [max(8, round(mean * rng.uniform(0.5, 1.6))) for _ in range(recipe.schools)]
    i = 0
    while sum(sizes) != recipe.devices and i < 10 * recipe.devices:
        j = i % recipe.schools
        if sum(sizes) > recipe.devices and sizes[j] > 8:
            sizes[j] -= 1
        elif sum(sizes) < recipe.devices and sizes[j] < 250:
            sizes[j] += 1
        i += 1
    return sizes


def school_code(n: int) -> str:
    prov = PROVINCES[n % len(PROVINCES)][0]
    return f"{prov}-{n + 1:03d}"


def _school(n: int) -> SchoolUpsert:
    _, province, province_km = PROVINCES[n % len(PROVINCES)]
    village, village_km = VILLAGES[(n // len(PROVINCES)) % len(VILLAGES)]
    level = SchoolLevel.SECONDARY if n % 3 == 1 else SchoolLevel.PRIMARY
    kind, kind_km = (
        ("High School", "វិទ្យាល័យ")
        if level == SchoolLevel.SECONDARY
        else ("Primary School", "សាលាបឋមសិក្សា")
    )
    return SchoolUpsert(
        school_code(n),
        {
            "name": f"{village} {kind} {n + 1}",
            "name_km": f"{kind_km}{village_km} {province_km}",
            "province": province,
            "district": f"{village} district",
            "level": level,
            "subnets": (f"10.{64 + (n >> 8)}.{n & 255}.0/24",),
        },
    )


def _plan(n: int, size: int) -> list[tuple[DeviceKind, int, str]]:
    """(kind, host number, room) of school ``n``'s ``size`` devices; desktops fill the rest."""
    out: list[tuple[DeviceKind, int, str]] = []
    for kind, first, share, rooms in KINDS:
        many = max(1, round(size * share)) if share else 1
        many = min(many, (100 - first) if kind == DeviceKind.CAMERA else 10)
        out.extend((kind, first + k, rooms[k % len(rooms)]) for k in range(many))
    host = 100
    while len(out) < size and host < 255:
        out.append((DeviceKind.DESKTOP, host, f"Lab {1 + (host - 100) // 30}"))
        host += 1
    return out[:size]


def _device(n: int, kind: DeviceKind, host: int, room: str, today: dt.date) -> DeviceUpsert:
    maker, model = MODELS[kind]
    k = n * 256 + host
    status = DeviceStatus.DEPLOYED
    if k % 97 == 13 and kind == DeviceKind.DESKTOP:
        status = DeviceStatus.IN_REPAIR
    elif k % 89 == 7 and kind == DeviceKind.DESKTOP:
        status = DeviceStatus.RETIRED
    return DeviceUpsert(
        f"{school_code(n)}-{host:03d}",
        {
            "school": school_code(n),
            "kind": kind,
            "status": status,
            "ip": f"10.{64 + (n >> 8)}.{n & 255}.{host}",
            "mac": f"02:4b:{(n >> 8) & 255:02x}:{n & 255:02x}:00:{host:02x}",
            "serial": f"{maker[:2].upper()}{k:07d}",
            "manufacturer": maker,
            "model": model,
            "hostname": f"{school_code(n).lower()}-{host:03d}",
            "funding": ("IDEAL", "ICT4E-2025", None)[k % 3],
            "purchase_date": today - dt.timedelta(days=200 + k % 1500),
            "warranty_until": today + dt.timedelta(days=k % 1400 - 300),
            "room": room,
        },
    )


def seed_inventory(store: Store, recipe: Recipe, end: dt.datetime) -> list[int]:
    """Schools and devices through InventoryRepo (change log); returns devices per school."""
    rng = random.Random(recipe.seed)
    sizes = _sizes(recipe, rng)
    ctx = ChangeContext(
        "bench", "benchmarks/web_pages.py", end - dt.timedelta(days=recipe.days + 30)
    )
    today = end.date()
    for lo in range(0, recipe.schools, 50):
        with store.write() as s:
            repo = InventoryRepo(s)
            repo.apply_schools([_school(n) for n in range(lo, min(lo + 50, recipe.schools))], ctx)
            ups = [
                _device(n, kind, host, room, today)
                for n in range(lo, min(lo + 50, recipe.schools))
                for kind, host, room in _plan(n, sizes[n])
            ]
            repo.apply_devices(ups, ctx)
    # some later edits: a move to another room and a repair note (device change history)
    later = ChangeContext("officer", "web (benchmark)", end - dt.timedelta(days=3))
    with store.write() as s:
        repo = InventoryRepo(s)
        edits = [
            DeviceUpsert(f"{school_code(n)}-100", {"room": "Library", "notes": "moved for exams"})
            for n in range(0, recipe.schools, 7)
            if sizes[n] > 40
        ]
        repo.apply_devices(edits, later)
    return sizes


def devices_of(store: Store) -> list[Dev]:
    from sqlalchemy import select

    from kape_itops.store.models import DeviceRow, SchoolRow

    with store.session() as s:
        rows = s.execute(
            select(DeviceRow.id, DeviceRow.asset_tag, DeviceRow.kind, DeviceRow.ip, SchoolRow.code)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(DeviceRow.status == DeviceStatus.DEPLOYED.value)
            .order_by(DeviceRow.id)
        ).all()
    out = []
    for i, tag, kind, ip, code in rows:
        out.append(Dev(int(i), tag, DeviceKind(kind), ip or "", int(code.split("-")[1]) - 1))
    return out


def seed_sites(store: Store, recipe: Recipe, end: dt.datetime) -> dict[int, int]:
    """One enrolled collector per school (a few silent for two days): school index → site id."""
    from sqlalchemy import select

    from kape_itops.store.models import SchoolRow

    out: dict[int, int] = {}
    with store.write() as s:
        codes = dict(s.execute(select(SchoolRow.code, SchoolRow.id)).tuples().all())
        for n in range(recipe.schools):
            code = school_code(n)
            silent = n % 97 == 11
            row = SiteRow(
                uid=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{code}.bench")),
                school_id=codes[code],
                name=f"collector-{code.lower()}",
                token_sha256=hashlib.sha256(code.encode()).hexdigest(),
                public_key="00" * 32,
                enrolled_at=end - dt.timedelta(days=recipe.days + 1),
                revoked_at=None,
                last_sync_at=end - (dt.timedelta(days=2) if silent else dt.timedelta(minutes=4)),
                clock_offset_s=0.2,
                version="1.0",
                backlog=0,
            )
            s.add(row)
            s.flush()
            out[n] = row.id
    return out


def silent(n: int) -> bool:
    return n % 97 == 11


class World:
    """The scripted behaviour of the devices: outages, devices down now, supplies, drift."""

    def __init__(self, recipe: Recipe, start_s: int, hours: int) -> None:
        self.recipe, self.start_s, self.hours = recipe, start_s, hours

    def ping(self, d: Dev, h: int, rng: random.Random) -> tuple[str, dict[str, Any], str | None]:
        """(status, metrics, explicit reason or None) of device ``d`` at hour ``h``."""
        k = d.id
        if (k % 67 == 5 and h >= self.hours - 1 - (k % 48)) or (
            k % 31 == 3 and abs(h - (k * 7) % self.hours) < 6
        ):
            return "crit", {"sent": 3, "received": 0, "loss_pct": 100.0}, None
        if rng.random() < 0.003:
            return "unknown", {"sent": 3, "received": 0}, "no route to host"
        base = 1.5 + (k % 12) * 2.5
        rtt = round(base * rng.uniform(0.7, 1.6), 2)
        lost = 1 if rng.random() < 0.02 else 0
        loss = round(100 * lost / 3, 1)
        m = {
            "sent": 3,
            "received": 3 - lost,
            "loss_pct": loss,
            "rtt_min_ms": round(rtt * 0.8, 2),
            "rtt_avg_ms": rtt,
            "rtt_max_ms": round(rtt * 1.3, 2),
            "rtt_stddev_ms": round(rtt * 0.1, 2),
            "jitter_ms": round(rtt * 0.05, 2),
        }
        if lost:
            reason = ping_text.summary(3, 3 - lost, loss, rtt, m["jitter_ms"])
            return "warn", m, f"loss_pct {loss:g} > 20 (warn); {reason}"
        return "ok", m, None

    def extra(
        self, d: Dev, slot: int, slots: int, rng: random.Random
    ) -> tuple[str, str, str, str, dict[str, Any]]:
        """(probe, method, status, reason, metrics) of the 6-hourly SNMP or ONVIF result."""
        k = d.id
        if d.kind == DeviceKind.CAMERA:
            drift = 95.0 if k % 53 == 1 else round(rng.uniform(-1.5, 1.5), 1)
            recording = k % 37 != 2
            levels = {
                "clock_drift_s": "crit" if abs(drift) > 60 else "ok",
                "recording": "ok" if recording else "crit",
            }
            status = "crit" if "crit" in levels.values() else "ok"
            m = {
                "clock_drift_s": drift,
                "layer": "media",
                "manufacturer": "Hikvision",
                "model": "DS-2CD1043",
                "recording": recording,
                "levels": levels,
            }
            reason = (
                "camera answered"
                if status == "ok"
                else "not recording"
                if not recording
                else "clock drift"
            )
            return "onvif", "onvif", status, reason, m
        frac = slot / max(1, slots - 1)
        m = {
            "sys_name": d.tag.lower(),
            "uptime_s": 86400 * 40 + slot * EXTRA_EVERY,
            "rebooted": False,
        }
        levels: dict[str, str] = {}
        status, reason = "ok", "all readings normal"
        if d.kind == DeviceKind.PRINTER:
            start = 80 - (k % 5) * 8
            black = round(start + ((4 if k % 11 == 0 else start - 25) - start) * frac)
            m["supplies"] = [
                {"name": "Black Toner", "level": black * 50, "max": 5000, "pct": black}
            ]
            m["page_count"] = 10_000 + slot * 40 + k % 500
            verdict = "crit" if black <= 5 else "warn" if black <= 15 else "ok"
            levels["supplies:Black Toner"] = verdict
            if verdict != "ok":
                status, reason = verdict, f"Black Toner {black}%"
        elif d.kind == DeviceKind.NVR:
            pct = round((94 if k % 7 == 0 else 78) - 12 * (1 - frac), 1)
            m["disk_used_pct"] = pct
            verdict = "crit" if pct >= 95 else "warn" if pct >= 90 else "ok"
            levels["disk_used_pct"] = verdict
            if verdict != "ok":
                status, reason = verdict, f"disk {pct:g}% used"
        elif d.kind == DeviceKind.SWITCH:
            m["if_down"] = ["Gi0/7"] if k % 13 == 0 else []
            if m["if_down"]:
                levels["if_down:Gi0/7"] = "crit"
                status, reason = "crit", "uplink down: Gi0/7 down"
        elif d.kind == DeviceKind.HOTSPOT:
            m["clients"] = rng.randint(0, 35)
        m["levels"] = levels
        return "snmp", "snmp-v2c", status, reason, m


ROLLUP_COLUMNS = (
    "grain",
    "device_id",
    "probe",
    "bucket_start",
    "n_ok",
    "n_warn",
    "n_crit",
    "n_unknown",
    "rtt_count",
    "rtt_sum",
    "loss_count",
    "loss_sum",
    "rtt_sketch",
    "last_up_at",
    "last_at",
    "last_status",
    "last_reason",
    "last_metrics",
)
PLAIN_COLUMNS = (
    "run_id",
    "device_id",
    "target",
    "probe",
    "status",
    "reason",
    "method",
    "metrics",
    "started_at",
    "duration_ms",
    "attempts",
)


def _rollup_values(row: dict[str, Any]) -> list[Any]:
    out = [row[c] for c in ROLLUP_COLUMNS]
    out[12] = json.dumps(out[12])
    out[17] = json.dumps(out[17], ensure_ascii=False)
    return out


@dataclasses.dataclass
class Counts:
    runs: int = 0
    pings: int = 0
    plain: int = 0
    hourly: int = 0
    daily: int = 0


def generate_results(
    pg: CachedPostgres,
    recipe: Recipe,
    devs: list[Dev],
    sites: dict[int, int],
    end: dt.datetime,
    progress: Callable[[str], None],
) -> Counts:
    """Runs, raw results and rollup buckets, one COPY stream per table, school by school."""
    import psycopg

    from kape_itops.store.models import PingResultRow

    ping_cols = [c.name for c in PingResultRow.__table__.c]
    hours = recipe.days * 24
    end_s = int(end.timestamp()) // HOUR * HOUR
    start_s = end_s - hours * HOUR
    slots = hours * HOUR // EXTRA_EVERY
    world = World(recipe, start_s, hours)
    kept = catalog.kept_metrics()
    by_school: dict[int, list[Dev]] = {}
    for d in devs:
        by_school.setdefault(d.school, []).append(d)
    counts = Counts()
    t0 = time.monotonic()
    utc = dt.UTC
    with psycopg.connect(pg.conninfo("itops")) as conn:
        for n in range(recipe.schools):
            school = by_school.get(n, [])
            rng = random.Random(recipe.seed * 1_000_003 + n)
            stop_h = hours - 48 if silent(n) else hours
            run0 = n * hours + 1  # run ids: school-major, one per hour
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY probe_runs (id, started_at, finished_at, status, actor, selection, "
                    "counts, note, origin_site_id, origin_id, received_at) FROM STDIN"
                ) as cp:
                    for h in range(stop_h):
                        at = dt.datetime.fromtimestamp(start_s + h * HOUR, utc)
                        cp.write_row(
                            (
                                run0 + h,
                                at,
                                at + dt.timedelta(seconds=40),
                                "completed",
                                "schedule",
                                '{"round": "hourly"}',
                                json.dumps({"results": len(school)}),
                                None,
                                sites[n],
                                h + 1,
                                at + dt.timedelta(minutes=2),
                            )
                        )
                        counts.runs += 1
                with cur.copy("COPY ping_runs (run_id, first_us, last_us) FROM STDIN") as cp:
                    for h in range(stop_h):
                        us = (start_s + h * HOUR) * 1_000_000
                        cp.write_row((run0 + h, us, us + len(school) * 40_000 + 1000))
                hourly: list[list[Any]] = []
                daily: dict[tuple[int, str, int], BucketTally] = {}
                with cur.copy(f"COPY ping_results ({', '.join(ping_cols)}) FROM STDIN") as cp:
                    for i, d in enumerate(school):
                        for h in range(stop_h):
                            at_s = start_s + h * HOUR
                            us = at_s * 1_000_000 + i * 40_000 + rng.randrange(1000)
                            status, m, reason = world.ping(d, h, rng)
                            if reason is None:
                                reason = ping_codec.rebuilt_reason(status, m) or ""
                            raw = {
                                "probe": "ping",
                                "device_id": d.id,
                                "run_id": run0 + h,
                                "target": d.ip,
                                "status": status,
                                "reason": reason,
                                "method": "icmp-raw",
                                "metrics": m,
                                "started_at": ping_codec.from_us(us),
                                "duration_ms": 3000.0 if status == "crit" else 25.0,
                                "attempts": 1,
                            }
                            enc = ping_codec.encode(raw, d.tag)
                            if enc is None:
                                raise RuntimeError(f"ping row not compact: {raw}")
                            cp.write_row([enc[c] for c in ping_cols])
                            counts.pings += 1
                            tally = BucketTally()
                            tally.add_result(status, reason, us // 1_000_000, m, kept)
                            row = tally.row("hour", d.id, "ping", at_s)
                            hourly.append(_rollup_values(row))
                            _day(daily, row)
                with cur.copy(f"COPY probe_results ({', '.join(PLAIN_COLUMNS)}) FROM STDIN") as cp:
                    for i, d in enumerate(school):
                        if d.kind not in SNMP and d.kind != DeviceKind.CAMERA:
                            continue
                        for slot in range(stop_h * HOUR // EXTRA_EVERY):
                            at_s = start_s + slot * EXTRA_EVERY
                            h = slot * EXTRA_EVERY // HOUR
                            if world.ping(d, h, random.Random(0))[0] == "crit":
                                continue  # down: no SNMP/ONVIF answer
                            at = at_s + 5 + i * 0.04
                            probe, method, status, reason, m = world.extra(d, slot, slots, rng)
                            cp.write_row(
                                (
                                    run0 + h,
                                    d.id,
                                    d.ip,
                                    probe,
                                    status,
                                    reason,
                                    method,
                                    json.dumps(m),
                                    dt.datetime.fromtimestamp(at, utc),
                                    45.0,
                                    1,
                                )
                            )
                            counts.plain += 1
                            tally = BucketTally()
                            tally.add_result(status, reason, int(at), m, kept)
                            row = tally.row("hour", d.id, probe, at_s // HOUR * HOUR)
                            hourly.append(_rollup_values(row))
                            _day(daily, row)
                with cur.copy(f"COPY probe_rollups ({', '.join(ROLLUP_COLUMNS)}) FROM STDIN") as cp:
                    for values in hourly:
                        cp.write_row(values)
                    for (dev, probe, day), tally in daily.items():
                        cp.write_row(_rollup_values(tally.row("day", dev, probe, day)))
                counts.hourly += len(hourly)
                counts.daily += len(daily)
            conn.commit()
            if n % 10 == 9 or n == recipe.schools - 1:
                el = time.monotonic() - t0
                progress(
                    f"  schools {n + 1}/{recipe.schools}: {counts.pings + counts.plain:,} results, "
                    f"{counts.hourly + counts.daily:,} buckets ({el:.0f} s, "
                    f"eta {el / (n + 1) * (recipe.schools - n - 1):.0f} s)"
                )
        conn.execute("SELECT setval('probe_runs_id_seq', (SELECT max(id) FROM probe_runs))")
        conn.commit()
    return counts


def _day(daily: dict[tuple[int, str, int], BucketTally], row: dict[str, Any]) -> None:
    key = (row["device_id"], row["probe"], row["bucket_start"] // DAY * DAY)
    tally = daily.get(key)
    if tally is None:
        tally = daily[key] = BucketTally()
    tally.add_bucket(row)


def seed_discovery(store: Store, recipe: Recipe, devs: list[Dev], end: dt.datetime) -> int:
    """Two ARP sweeps per school (a week ago, an hour ago) with unknown devices on the network
    and, in the latest, a camera missing; returns sweeps stored."""
    by_school: dict[int, list[Dev]] = {}
    for d in devs:
        by_school.setdefault(d.school, []).append(d)
    done = 0
    records: list[SweepRecord] = []
    for n in range(recipe.schools):
        school = by_school.get(n, [])
        net = f"10.{64 + (n >> 8)}.{n & 255}"
        known = [SweepHost(d.ip, None, None, d.tag, HostState.KNOWN) for d in school]
        cams = [d for d in school if d.kind == DeviceKind.CAMERA]
        gone = cams[-1].tag if cams and n % 5 == 0 else None
        unknown = [
            SweepHost(
                f"{net}.{200 + j}",
                f"24:a4:3c:{n >> 8 & 255:02x}:{n & 255:02x}:{j:02x}",
                ("Ubiquiti", "(randomised MAC)", "Hikvision", "TP-Link")[j % 4],
                None,
                HostState.UNKNOWN,
                'name IPC <b>"Lobby"</b>' if j == 2 else None,
            )
            for j in range(1 + n % 4)
        ]
        now_seen = [h for h in known if h.asset_tag != gone]
        missed = [
            SweepHost(h.ip, None, None, h.asset_tag, HostState.MISSING, "camera")
            for h in known
            if h.asset_tag == gone
        ]
        subnets = (f"{net}.0/24",)
        records.append(
            SweepRecord(
                school_code(n),
                end - dt.timedelta(days=7),
                2.4,
                "arp",
                subnets,
                "sync",
                tuple(known + unknown[:1]),
                "eth0",
            )
        )
        records.append(
            SweepRecord(
                school_code(n),
                end - dt.timedelta(hours=1),
                2.1,
                "arp",
                subnets,
                "sync",
                tuple(now_seen + missed + unknown),
                "eth0",
            )
        )
        if len(records) >= 100:
            done += len(record_sweeps(store, records))
            records = []
    done += len(record_sweeps(store, records))
    return done


def seed_backups(store: Store, devs: list[Dev], end: dt.datetime) -> int:
    """Three configuration versions (one unchanged) of every router and switch."""
    n = 0
    gear = [d for d in devs if d.kind in (DeviceKind.ROUTER, DeviceKind.SWITCH)]
    for lo in range(0, len(gear), 500):
        with store.write() as s:
            repo = BackupRepo(s)
            for d in gear[lo : lo + 500]:
                for v, days in ((0, 20), (1, 9), (1, 2)):
                    text = (
                        f"# configuration of {d.tag}, version {v}\n/system identity set name={d.tag}\n"
                        + "".join(
                            f"/interface ethernet set ether{i} comment=port{i}\n"
                            for i in range(1, 9)
                        )
                        + (f"/ip address add address={d.ip}/24 interface=bridge\n" if v else "")
                    )
                    repo.record(
                        d.id,
                        end - dt.timedelta(days=days),
                        hashlib.sha256(text.encode()).hexdigest(),
                        text,
                    )
                    n += 1
    return n


def seed_evaluations(store: Store, rounds: int) -> list[int]:
    """Every sample RFQ in quotes/ scored and stored ``rounds`` times (the audit history)."""
    from kape_itops.quotes.evaluate import Options
    from kape_itops.quotes.service import ScoreInputs, score, store_result

    ids = []
    for _ in range(rounds):
        for folder in sorted((ROOT / "quotes").iterdir()):
            rfq = folder / "rfq.yaml"
            if not rfq.is_file():
                continue
            spec_id = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in rfq.read_text().splitlines()
                    if line.startswith("spec:")
                ),
                folder.name,
            )
            files = tuple(sorted(folder.glob("*.xlsx")))
            try:
                scored = score(
                    ScoreInputs(rfq, ROOT / "specs" / f"{spec_id}.yaml", files),
                    Options(),
                    "reviewer",
                )
            except Exception as exc:  # a sample made to fail: skip it
                print(f"  evaluation of {folder.name} skipped: {str(exc)[:100]}")
                continue
            ids.append(store_result(store, scored, "reviewer"))
    return ids


def generate(
    pg: CachedPostgres, recipe: Recipe, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Fill the cluster's ``itops`` database; returns facts to keep beside it."""
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
        log(f"  results and rollups ({time.monotonic() - t:.0f} s)")
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
