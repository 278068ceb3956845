"""Catch-up: 12 collectors, each 7 days offline, sync to PostgreSQL at once (target < 60 s).

Usage: .venv/bin/python benchmarks/sync_catchup.py [--sites 12] [--days 7] [--devices 60]
       [--quick] [--cache DIR] [--keep]

1. Twelve collector databases (SQLite), one per sample school: its 60 devices (as pulled from
   the server earlier) and one probe round every 5 minutes for 7 days (2,016 rounds; ping of
   every device, SNMP and ONVIF hourly: ≈ 126,000 results each, ≈ 1.5 M in all), written
   through ProbeRepo (the collector's own write path). Generated once and cached under
   $TMPDIR/itops-bench-cache/ (keyed by this benchmark's version and the schema); not timed.
2. A private PostgreSQL (fsync on), the central inventory, one ``itops server serve``
   on 127.0.0.1; each collector is enrolled (``itops server enroll``) and joined
   (``itops sync join``).
3. Timed: the twelve ``itops sync`` processes started together, until the last one ends.
   Then the server's counts per school are compared with the collectors' (runs, results,
   distinct origin ids: nothing lost, nothing twice), and ``itops sync`` runs again and must
   send nothing.
4. The floor: the same results exported as CSV, loaded with ``psql \\copy`` into a plain table
   (no index, no validation, no protocol): the ratio is the cost of the protocol.
Peak RSS of the server and the collectors comes from their VmHWM, polled every 0.2 s; CPU
seconds from /proc (server, PostgreSQL with its backends, every other process on the machine)
and the collectors' rusage. Exit status 1 only when records were lost or stored twice, or the
second sync changed anything (a slow run still exits 0 and prints FAIL against the target).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import syncbench as sb

from kape_itops.domain import ping as ping_text
from kape_itops.domain.enums import DeviceKind, ProbeStatus, RunStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.sync import PULL_SOURCE
from kape_itops.reports.sample import SCHOOLS
from kape_itops.store import ping_codec
from kape_itops.store.db import Store
from kape_itops.store.migrations import SCHEMA_HEAD
from kape_itops.store.probe_repo import ProbeRepo

VERSION = 1
"""Bump when the generated collector databases change (the cache key)."""
STEP_S = 300
END = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
"""End of the offline week (fixed, so the cache stays valid)."""
COLUMNS = (
    "site",
    "run",
    "tag",
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
LIMIT_S = 60.0
FLOOR = "psql \\copy (plain table)"
RATIO = "ratio (itops / \\copy)"
SYNC_TIMEOUT_S = 1800


def schools(n: int) -> list[tuple[int, str, str]]:
    """(number, code, name) of the sample schools, then generated ones past twelve."""
    out = [(i, code, name) for i, (code, name, _) in enumerate(SCHOOLS[:n], start=1)]
    out += [(i, f"SITE-{i:03d}", f"Bench School {i}") for i in range(len(out) + 1, n + 1)]
    return out


# -- the collectors' week, generated once --------------------------------------------------------
def _ping(rng: random.Random, tag: str, ip: str, at: dt.datetime, base: float) -> ProbeResult:
    if rng.random() < 0.01:
        m: dict[str, object] = {"sent": 3, "received": 0, "loss_pct": 100.0}
        return ProbeResult(
            "ping", ip, ProbeStatus.CRIT, ping_text.down(3), at, 3000.0, m, "icmp-raw", tag
        )
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
    reason = ping_text.summary(3, 3 - lost, loss, rtt, rtt * 0.05)
    status = ProbeStatus.WARN if lost else ProbeStatus.OK
    if lost:
        reason = f"loss_pct {loss:g} > 20 (warn); {reason}"
    return ProbeResult("ping", ip, status, reason, at, round(rtt * 3 + 2, 1), m, "icmp-raw", tag)


def _extra(
    rng: random.Random, tag: str, kind: DeviceKind, ip: str, at: dt.datetime, k: int
) -> ProbeResult | None:
    if kind == DeviceKind.CAMERA:
        drift = round(rng.uniform(-1.5, 1.5), 1)
        m: dict[str, object] = {
            "clock_drift_s": drift,
            "layer": "media",
            "recording": True,
            "levels": {"clock_drift_s": "ok", "recording": "ok"},
        }
        return ProbeResult(
            "onvif", ip, ProbeStatus.OK, "camera answered", at, 120.0, m, "onvif", tag
        )
    if kind not in sb.SNMP_KINDS:
        return None
    m = {
        "sys_name": tag.lower(),
        "uptime_s": 3_456_000 + k * STEP_S,
        "rebooted": False,
        "levels": {},
    }
    if kind == DeviceKind.PRINTER:
        pct = max(5, 80 - k // 40)
        m["supplies"] = [{"name": "Black Toner", "level": pct * 50, "max": 5000, "pct": pct}]
        m["page_count"] = 10_000 + k * 3
    if kind == DeviceKind.NVR:
        m["disk_used_pct"] = 70.0
    return ProbeResult(
        "snmp", ip, ProbeStatus.OK, "all readings normal", at, 45.0, m, "snmp-v2c", tag
    )


def build_site(path: Path, school: tuple[int, str, str], devices: int, days: float) -> int:
    """One collector database: its school's devices (as pulled) and ``days`` of rounds."""
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    start = END - dt.timedelta(days=days)
    sb.seed(
        store,
        [school],
        devices,
        f"{PULL_SOURCE} http://127.0.0.1 (benchmark)",
        start - dt.timedelta(hours=1),
    )
    plan = sb.school_devices(school[0], school[1], devices)
    with store.session() as s:
        ids = ProbeRepo(s).device_ids([t for t, _, _ in plan])
    rng = random.Random(school[0])
    base = {t: 1.5 + (i % 12) * 2.5 for i, (t, _, _) in enumerate(plan)}
    total = 0
    with store.write() as s:
        repo = ProbeRepo(s)
        for k in range(int(days * 86400) // STEP_S):
            at = start + dt.timedelta(seconds=k * STEP_S)
            run = repo.start_run("schedule", {"round": "bench"}, at)
            batch: list[tuple[ProbeResult, int | None]] = []
            for i, (tag, kind, ip) in enumerate(plan):
                t = at + dt.timedelta(microseconds=i * 40_000 + rng.randrange(1000))
                batch.append((_ping(rng, tag, ip, t, base[tag]), ids[tag]))
                if k % 12 == 0 and (
                    r := _extra(rng, tag, kind, ip, t + dt.timedelta(seconds=5), k)
                ):
                    batch.append((r, ids[tag]))
            total += repo.add_results(run, batch)
            counts = {"results": len(batch)}
            repo.finish_run(
                run, RunStatus.COMPLETED, counts, finished_at=at + dt.timedelta(seconds=20)
            )
    store.dispose()
    return total


def export_csv(db: Path, out: Path, site: int) -> int:
    """The collector's results as CSV rows (what travels on the wire), for psql \\copy."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    tags = dict(con.execute("SELECT id, asset_tag FROM devices").fetchall())
    n = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for row in con.execute("SELECT * FROM ping_results"):
            tag = tags.get(row["device_id"])
            v = ping_codec.decode(row, tag)
            w.writerow(
                [
                    site,
                    v["run_id"],
                    tag,
                    v["target"],
                    "ping",
                    v["status"],
                    v["reason"],
                    v["method"],
                    json.dumps(v["metrics"]),
                    v["started_at"].isoformat(),
                    v["duration_ms"],
                    v["attempts"],
                ]
            )
            n += 1
        for row in con.execute("SELECT * FROM probe_results"):
            w.writerow(
                [
                    site,
                    row["run_id"],
                    tags.get(row["device_id"]),
                    row["target"],
                    row["probe"],
                    row["status"],
                    row["reason"],
                    row["method"],
                    row["metrics"],
                    row["started_at"] + "+00:00",
                    row["duration_ms"],
                    row["attempts"],
                ]
            )
            n += 1
    con.close()
    return n


def prepare(cache: Path, sites: list[tuple[int, str, str]], devices: int, days: float) -> None:
    """Generate the collector databases and CSV files unless the cache has them."""
    if (cache / "done").exists():
        print(f"collectors: cached in {cache}")
        return
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    t = time.perf_counter()
    for site in sites:
        n = build_site(cache / f"site-{site[0]:03d}.db", site, devices, days)
        export_csv(cache / f"site-{site[0]:03d}.db", cache / f"site-{site[0]:03d}.csv", site[0])
        print(f"  generated {site[1]}: {n:,} results ({time.perf_counter() - t:.0f} s)", flush=True)
    (cache / "done").write_text("ok\n")


def site_counts(db: Path) -> tuple[int, int]:
    """(finished runs, results) stored at a collector."""
    con = sqlite3.connect(db)
    runs = con.execute("SELECT count(*) FROM probe_runs WHERE finished_at IS NOT NULL").fetchone()[
        0
    ]
    res = con.execute(
        "SELECT (SELECT count(*) FROM ping_results) + (SELECT count(*) FROM probe_results)"
    ).fetchone()[0]
    con.close()
    return int(runs), int(res)


def server_counts(conninfo: str) -> dict[str, tuple[int, int, int]]:
    """Per school code: (runs, distinct origin ids, results) the server holds from its sites."""
    import psycopg

    out: dict[str, list[int]] = {}
    site = "JOIN sync_sites s ON r.origin_site_id = s.id JOIN schools c ON c.id = s.school_id"
    with psycopg.connect(conninfo) as conn:
        for code, runs, distinct in conn.execute(
            f"SELECT c.code, count(*), count(DISTINCT r.origin_id) FROM probe_runs r {site} GROUP BY c.code"
        ):
            out[code] = [runs, distinct, 0]
        for table in ("ping_results", "probe_results"):
            for code, n in conn.execute(
                f"SELECT c.code, count(*) FROM {table} p JOIN probe_runs r ON p.run_id = r.id {site} GROUP BY c.code"
            ):
                out.setdefault(code, [0, 0, 0])[2] += n
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def summary(log: Path) -> str:
    """The collector's "pushed ..." line."""
    lines = log.read_text(errors="replace").strip().splitlines() or [""]
    return next((x for x in lines if x.startswith("pushed")), lines[-1])


def sync_all(
    dbs: list[Path], env_of: dict[Path, dict[str, str]], work: Path, tag: str
) -> tuple[float, list[str], list[float], float]:
    """Start ``itops sync`` for every collector at once: wall seconds until the last ends,
    their summary lines, peak RSS (MiB) and CPU seconds in all."""
    procs: list[tuple[Path, subprocess.Popen[bytes]]] = []
    watch = sb.PeakWatch().start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for db in dbs:
        with (work / f"{db.stem}.{tag}.log").open("wb") as out:
            p = subprocess.Popen(
                [*sb.ITOPS, "sync", "-q"],
                env=env_of[db],
                cwd=sb.ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        watch.watch(p.pid)
        procs.append((db, p))
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    failed = []
    for db, p in procs:
        try:
            p.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            sb.stop_process(p)
        if p.returncode != 0:
            failed.append(
                f"{db.stem} exited {p.returncode}: " + summary(work / f"{db.stem}.{tag}.log")
            )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    watch.stop()
    if failed:
        raise SystemExit("itops sync failed:\n" + "\n".join(failed))
    lines = [summary(work / f"{db.stem}.{tag}.log") for db in dbs]
    return wall, lines, [watch.peak.get(p.pid, 0.0) for _, p in procs], cpu


def pushes(log: Path) -> int:
    """Push requests in the server's access log so far."""
    return sum(1 for line in log.read_text(errors="replace").splitlines() if "/push" in line)


def _log_time(line: str) -> dt.datetime:
    """The time a server log line starts with: ISO-8601 in UTC ("...Z"), or logging's default."""
    head = line.split(" ", 1)[0]
    if head.endswith("Z"):
        return dt.datetime.fromisoformat(head[:-1] + "+00:00").replace(tzinfo=None)
    return dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")


def push_window(log: Path) -> float:
    """Seconds from the first answered push to the last one (the server's access log)."""
    times = [
        _log_time(line)
        for line in log.read_text(errors="replace").splitlines()
        if "POST /api/sync/push 200" in line
    ]
    return (max(times) - min(times)).total_seconds() if len(times) > 1 else 0.0


def copy_floor(pg: sb.Postgres, csvs: list[Path]) -> tuple[float, int]:
    """psql \\copy of the CSV files into a plain table: (wall s, rows)."""
    pg.create_database("floor")
    pg.psql(
        "floor",
        "-c",
        "CREATE TABLE results (site int, run bigint, tag text, target text, probe text, "
        "status text, reason text, method text, metrics jsonb, started_at timestamptz, "
        "duration_ms float8, attempts int)",
    )
    args: list[str] = []
    for f in csvs:
        args += ["-c", f"\\copy results FROM '{f}' WITH (FORMAT csv)"]
    t = time.perf_counter()
    pg.psql("floor", *args)
    wall = time.perf_counter() - t
    rows = int(pg.psql("floor", "-tA", "-c", "SELECT count(*) FROM results").stdout.strip())
    return wall, rows


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--days", type=float, default=7)
    ap.add_argument("--devices", type=int, default=60, help="devices per school")
    ap.add_argument("--quick", action="store_true", help="3 sites, 1 day, 20 devices")
    ap.add_argument(
        "--cache", type=Path, help="folder of generated collectors (default: under $TMPDIR)"
    )
    ap.add_argument("--keep", action="store_true", help="leave the work folder (logs) behind")
    a = ap.parse_args()
    try:
        sb.pg_bin()
    except RuntimeError as exc:
        print(f"sync_catchup: skipped ({exc})")
        return 0
    if a.quick:
        a.sites, a.days, a.devices = 3, 1, 20
    sites = schools(a.sites)
    cache = a.cache or Path(tempfile.gettempdir()) / "itops-bench-cache" / (
        f"sync-catchup-v{VERSION}-{SCHEMA_HEAD}-{a.sites}x{a.days:g}d-{a.devices}"
    )
    print(
        f"== catch-up: {a.sites} collectors × {a.days:g} days offline × {a.devices} devices, "
        f"one round every {STEP_S // 60} min ({sb.load()})"
    )
    prepare(cache, sites, a.devices, a.days)
    work = Path(tempfile.mkdtemp(prefix="itops-bench-catchup-"))
    pg = sb.Postgres()
    try:
        pg.start()
        url = pg.create_database("itops")
        central = Store(url)
        central.upgrade()
        sb.seed(central, sites, a.devices, "benchmark inventory", END - dt.timedelta(days=30))
        central.dispose()
        dbs: list[Path] = []
        env_of: dict[Path, dict[str, str]] = {}
        expected: dict[str, tuple[int, int]] = {}
        for n, code, _ in sites:
            db = work / f"site-{n:03d}.db"
            shutil.copyfile(cache / f"site-{n:03d}.db", db)
            secrets = work / f"site-{n:03d}.toml"
            secrets.touch(mode=0o600)
            env_of[db] = {
                **os.environ,
                "ITOPS_DB": f"sqlite:///{db}",
                "ITOPS_SECRETS": str(secrets),
                "ITOPS_ACTOR": "bench",
                "COLUMNS": "200",
            }
            dbs.append(db)
            expected[code] = site_counts(db)
        total = sum(r for _, r in expected.values())
        with sb.itops_server(url, work) as (base, server, log):
            for (_n, code, _), db in zip(sites, dbs, strict=True):
                token = sb.enroll(url, code)
                subprocess.run(
                    [*sb.ITOPS, "sync", "join", base, token],
                    env=env_of[db],
                    cwd=sb.ROOT,
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
            watch = sb.PeakWatch().start()
            watch.watch(server.pid)
            cpu = sb.CpuMeter(server.pid, pg.postmaster)
            cpu.start()
            busy = sb.machine_busy_s()
            wall, lasts, collector_peaks, collector_cpu = sync_all(dbs, env_of, work, "first")
            _, server_cpu, pg_cpu = cpu.stop()
            others = sb.machine_busy_s() - busy - collector_cpu - server_cpu - pg_cpu
            watch.stop()
            first_pushes, window = pushes(log), push_window(log)
            got = server_counts(pg.conninfo("itops"))
            wall2, lasts2, _, _ = sync_all(dbs, env_of, work, "again")
            again = server_counts(pg.conninfo("itops"))
            second_pushes = pushes(log) - first_pushes
            server_peak = watch.peak.get(server.pid, 0.0)
        bad = [
            f"{code}: collector {expected[code]} vs server {got.get(code)}"
            for code in expected
            if got.get(code) != (expected[code][0], expected[code][0], expected[code][1])
        ]
        floor_s, floor_rows = copy_floor(pg, [cache / f"site-{n:03d}.csv" for n, _, _ in sites])
    finally:
        pg.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    runs = sum(r for r, _ in expected.values())
    print(
        f"data:       {total:,} results in {runs:,} runs at {a.sites} collectors "
        f"(collector output: {lasts[0][:100]!r})"
    )
    w = 26
    print(f"{'':{w}} {'itops sync (HTTP, PostgreSQL)':>30} {FLOOR:>26}")
    print(f"{'results loaded':{w}} {sum(v[2] for v in got.values()):>30,} {floor_rows:>26,}")
    print(f"{'wall s':{w}} {wall:>30.1f} {floor_s:>26.1f}")
    print(f"{'results/s':{w}} {total / wall:>30,.0f} {floor_rows / floor_s:>26,.0f}")
    print(f"{RATIO:{w}} {wall / floor_s:>30.1f}x")
    # the access log's times are whole seconds: a window under 2 s says nothing about a rate
    pushing = f"{window:.0f} s, {total / window:,.0f} results/s" if window >= 2 else "under 2 s"
    print(f"{'pushing (first to last ack)':{w}} {pushing:>30}")
    print(
        f"{'CPU s: collectors/server/PG':{w}} {f'{collector_cpu:.0f} / {server_cpu:.0f} / {pg_cpu:.0f}':>30}"
    )
    print(
        f"{'CPU s: other processes':{w}} {f'{max(0.0, others):.0f} (of {2 * wall:.0f} on 2 cores)':>30}"
    )
    print(f"{'peak RSS server MiB':{w}} {server_peak:>30.0f}")
    if collector_peaks:
        print(
            f"{'peak RSS collector MiB':{w}} {f'{max(collector_peaks):.0f} (max of {len(collector_peaks)}), first {collector_peaks[0]:.0f}':>30}"
        )
    print(
        f"integrity:  {'every school: runs, distinct origin ids and results equal the collector' if not bad else 'MISMATCH: ' + '; '.join(bad)}"
    )
    print(
        f"again:      second itops sync of all {a.sites}: {wall2:.1f} s, {second_pushes} push requests, "
        f"server counts {'unchanged' if again == got else 'CHANGED'} (output: {lasts2[0][:100]!r})"
    )
    ok = wall < LIMIT_S
    print(
        f"target:     catch-up < {LIMIT_S:g} s: {'PASS' if ok else 'FAIL'} ({wall:.1f} s; {sb.load()})"
    )
    return 0 if not bad and again == got else 1


if __name__ == "__main__":
    raise SystemExit(main())
