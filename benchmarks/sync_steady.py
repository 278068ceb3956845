"""Steady state: 1,000 collectors × 50 devices, one batch each every 5 minutes (p99 ack < 1 s).

Usage: .venv/bin/python benchmarks/sync_steady.py [--collectors 1000] [--devices 50]
       [--duration 600] [--period 300] [--compare-duration S] [--quick] [--keep]

1. A private PostgreSQL (fsync on) with 1,000 schools × 50 devices, one ``itops server serve``
   process on 127.0.0.1, 1,000 sites enrolled (SyncServer.enroll, as ``itops server enroll``)
   and joined over the API (POST /api/sync/join with a fresh Ed25519 key each). Not timed.
2. Timed: one asyncio load generator (httpx, a new connection per batch as a collector makes)
   plays the 1,000 collectors for ``--duration`` seconds: each sends one batch (one run × 50
   ping results, the wire format of ``itops sync``) every ``--period`` seconds at a random phase,
   ≈ 3.3 batches/s, ≈ 170 results/s. Every acknowledgement's latency is recorded (request start
   to the whole answer read); the server's own time per push comes from its access log.
3. Then the server's runs and results from its sites are counted against what was acknowledged
   (nothing lost, nothing twice).
4. The floor: the same batches (one run row + 50 result rows, one transaction each) inserted
   directly with psycopg ``executemany`` at the same rate for ``--compare-duration`` seconds
   (no HTTP, no gzip, no JSON, no validation, no merge logic).
Server, PostgreSQL and other processes' CPU come from /proc over the timed window. Exit status 1
only on an error answer or a record lost or stored twice (a slow p99 prints FAIL, exits 0).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import json
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import syncbench as sb

from kape_itops import __version__
from kape_itops.domain import ping as ping_text
from kape_itops.domain.sync import FORMAT, RESULT_COLUMNS
from kape_itops.store.db import Store
from kape_itops.sync.http import GZIP_LEVEL
from kape_itops.sync.outbox import encode

P99_LIMIT_S = 1.0
PUSH_MS = re.compile(r"POST /api/sync/push (\d+) \d+B (\d+)ms")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]


class Collector:
    """One simulated site: its credential, school, devices, and the next run id."""

    def __init__(self, n: int, code: str, devices: list[tuple[str, Any, str]]) -> None:
        self.n, self.code, self.devices = n, code, devices
        self.uid = self.credential = ""
        self.next_id = 1
        self.rng = random.Random(n)

    def run(self, now: float) -> tuple[int, dict[str, Any], list[tuple[Any, ...]]]:
        """(run id, the wire item, the same rows for the direct-insert floor)."""
        run_id, self.next_id = self.next_id, self.next_id + 1
        cols: dict[str, list[Any]] = {k: [] for k in RESULT_COLUMNS}
        rows = []
        start = now - 20
        for j, (tag, _kind, ip) in enumerate(self.devices):
            rtt = round(self.rng.uniform(1.0, 30.0), 2)
            m = {
                "sent": 3,
                "received": 3,
                "loss_pct": 0.0,
                "rtt_min_ms": round(rtt * 0.8, 2),
                "rtt_avg_ms": rtt,
                "rtt_max_ms": round(rtt * 1.3, 2),
                "rtt_stddev_ms": round(rtt * 0.1, 2),
                "jitter_ms": round(rtt * 0.05, 2),
            }
            at = round(start + j * 0.04, 6)
            reason = ping_text.summary(3, 3, 0.0, rtt, rtt * 0.05)
            for k, v in (
                ("tag", tag),
                ("target", ip),
                ("probe", "ping"),
                ("status", "ok"),
                ("reason", reason),
                ("method", "icmp-raw"),
                ("metrics", m),
                ("at", at),
                ("duration_ms", round(rtt * 3 + 2, 1)),
                ("attempts", 1),
            ):
                cols[k].append(v)
            rows.append(
                (tag, ip, "ping", "ok", reason, "icmp-raw", json.dumps(m), at, rtt * 3 + 2, 1)
            )
        iso = lambda t: dt.datetime.fromtimestamp(t, dt.UTC).isoformat()  # noqa: E731
        item = {
            "id": run_id,
            "started_at": iso(start),
            "finished_at": iso(now),
            "status": "completed",
            "actor": "schedule",
            "selection": {"round": "5min"},
            "counts": {"results": len(rows)},
            "note": None,
            "results": cols,
        }
        return run_id, item, rows

    def batch(self, item: dict[str, Any], now: float) -> bytes:
        doc = {
            "format": FORMAT,
            "site": self.uid,
            "school": self.code,
            "sent_at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
            "version": __version__,
            "backlog": 0,
            "stream": "runs",
            "items": [item],
            "last": item["id"],
        }
        return gzip.compress(encode(doc), GZIP_LEVEL, mtime=0)  # as HttpTransport sends it


def schedule(n: int, period: float, duration: float, seed: int = 7) -> list[tuple[float, int]]:
    """(second, collector index) of every batch in [0, duration), each at a random phase."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        t = rng.uniform(0, period)
        while t < duration:
            events.append((t, i))
            t += period
    return sorted(events)


def enroll_and_join(url: str, base: str, collectors: list[Collector]) -> None:
    """Enrol every site in-process (as ``itops server enroll``) and join it over the API."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kape_itops.sync.http import HttpTransport
    from kape_itops.sync.server import SyncServer

    store = Store(url)
    server = SyncServer(store)
    tokens = [server.enroll(c.code, dt.timedelta(days=1), "bench")[0] for c in collectors]
    store.dispose()
    with HttpTransport(base) as http:
        for c, token in zip(collectors, tokens, strict=True):
            key = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
            grant = http.join(token, key, f"collector-{c.n}", __version__)
            c.uid, c.credential = grant["site"], grant["credential"]


async def load(
    base: str, collectors: list[Collector], events: list[tuple[float, int]]
) -> dict[str, Any]:
    """Play the schedule against the server; latencies, errors, what was acknowledged."""
    import httpx

    lat: list[float] = []
    lag: list[float] = []
    errors: list[str] = []
    acked = {"runs": 0, "results": 0}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=60, trust_env=False
    ) as client:

        async def send(c: Collector, planned: float, t0: float) -> None:
            now = time.time()
            lag.append(time.monotonic() - t0 - planned)
            run_id, item, _ = c.run(now)
            body = c.batch(item, now)
            headers = {
                "Authorization": f"Bearer {c.credential}",
                "Content-Encoding": "gzip",
                "Content-Type": "application/json",
            }
            start = time.perf_counter()
            try:
                answer = await client.post("/api/sync/push", content=body, headers=headers)
                took = time.perf_counter() - start
                if answer.status_code != 200:
                    errors.append(f"{c.code}: HTTP {answer.status_code} {answer.text[:200]}")
                    return
                ack = answer.json()
                if ack.get("mark") != run_id or ack.get("committed") != 1:
                    errors.append(f"{c.code}: ack {ack} for run {run_id}")
                    return
                lat.append(took)
                acked["runs"] += 1
                acked["results"] += len(item["results"]["at"])
            except httpx.HTTPError as exc:
                errors.append(f"{c.code}: {type(exc).__name__} {exc}")

        tasks = set()
        t0 = time.monotonic()
        for planned, i in events:
            delay = t0 + planned - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(send(collectors[i], planned, t0))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=120)
    return {"lat": lat, "lag": lag, "errors": errors, "acked": acked}


async def direct(
    conninfo: str, collectors: list[Collector], events: list[tuple[float, int]]
) -> list[float]:
    """The same batches straight into plain tables with psycopg, at the same times."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE runs (id bigserial PRIMARY KEY, site int, origin_id bigint, started_at timestamptz, "
            "finished_at timestamptz, status text, actor text, selection jsonb, counts jsonb, "
            "received_at timestamptz, UNIQUE (site, origin_id))"
        )
        await conn.execute(
            "CREATE TABLE results (id bigserial PRIMARY KEY, run_id bigint REFERENCES runs, tag text, "
            "target text, probe text, status text, reason text, method text, metrics jsonb, "
            "started_at timestamptz, duration_ms float8, attempts int)"
        )
        await conn.execute("CREATE INDEX ON results (tag, started_at)")
    pool: asyncio.Queue[Any] = asyncio.Queue()
    conns = [await psycopg.AsyncConnection.connect(conninfo) for _ in range(4)]
    for c in conns:
        pool.put_nowait(c)
    lat: list[float] = []

    async def insert(c: Collector) -> None:
        now = time.time()
        run_id, item, rows = c.run(now)
        start = time.perf_counter()
        conn = await pool.get()
        try:
            async with conn.transaction(), conn.cursor() as cur:
                await cur.execute(
                    "INSERT INTO runs (site, origin_id, started_at, finished_at, status, actor, selection, "
                    "counts, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now()) RETURNING id",
                    (
                        c.n,
                        run_id,
                        item["started_at"],
                        item["finished_at"],
                        "completed",
                        "schedule",
                        json.dumps(item["selection"]),
                        json.dumps(item["counts"]),
                    ),
                )
                row = await cur.fetchone()
                assert row is not None
                await cur.executemany(
                    "INSERT INTO results (run_id, tag, target, probe, status, reason, method, metrics, "
                    "started_at, duration_ms, attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
                    "to_timestamp(%s), %s, %s)",
                    [(row[0], *r) for r in rows],
                )
            lat.append(time.perf_counter() - start)
        finally:
            pool.put_nowait(conn)

    tasks = set()
    t0 = time.monotonic()
    for planned, i in events:
        delay = t0 + planned - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(insert(collectors[i]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=120)
    for c in conns:
        await c.close()
    return lat


def server_counts(conninfo: str) -> tuple[int, int, int]:
    """(runs, distinct (site, origin id), results) the server holds from its sites."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        runs, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (origin_site_id, origin_id)) FROM probe_runs "
            "WHERE origin_site_id IS NOT NULL"
        ).fetchone() or (0, 0)
        results = 0
        for table in ("ping_results", "probe_results"):
            got = conn.execute(
                f"SELECT count(*) FROM {table} p JOIN probe_runs r ON p.run_id = r.id "
                "WHERE r.origin_site_id IS NOT NULL"
            ).fetchone()
            results += got[0] if got else 0
    return int(runs), int(distinct), int(results)


def server_push_ms(log: Path) -> list[float]:
    """The server's own time per push (its access log)."""
    return [
        float(m.group(2))
        for m in PUSH_MS.finditer(log.read_text(errors="replace"))
        if m.group(1) == "200"
    ]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--collectors", type=int, default=1000)
    ap.add_argument("--devices", type=int, default=50, help="devices per collector")
    ap.add_argument("--duration", type=float, default=600, help="seconds of load")
    ap.add_argument(
        "--period", type=float, default=300, help="seconds between a collector's batches"
    )
    ap.add_argument(
        "--compare-duration",
        type=float,
        help="seconds of the direct-insert floor (default: min(duration, 120))",
    )
    ap.add_argument("--quick", action="store_true", help="200 collectors for 60 s")
    ap.add_argument("--keep", action="store_true", help="leave the work folder (server log) behind")
    a = ap.parse_args()
    try:
        sb.pg_bin()
    except RuntimeError as exc:
        print(f"sync_steady: skipped ({exc})")
        return 0
    if a.quick:
        a.collectors, a.duration = 200, 60
    compare = a.compare_duration or min(a.duration, 120)
    codes = [(n, f"BENCH-{n:04d}", f"Bench School {n}") for n in range(1, a.collectors + 1)]
    collectors = [Collector(n, code, sb.school_devices(n, code, a.devices)) for n, code, _ in codes]
    events = schedule(a.collectors, a.period, a.duration)
    rate = a.collectors * a.devices / a.period
    print(
        f"== steady state: {a.collectors} collectors × {a.devices} devices every {a.period:g} s "
        f"(≈ {a.collectors / a.period:.1f} batches/s, ≈ {rate:.0f} results/s) for {a.duration:g} s: "
        f"{len(events)} batches ({sb.load()})"
    )
    work = Path(tempfile.mkdtemp(prefix="itops-bench-steady-"))
    pg = sb.Postgres()
    try:
        pg.start()
        url = pg.create_database("itops")
        t = time.perf_counter()
        central = Store(url)
        central.upgrade()
        sb.seed(central, codes, a.devices, "benchmark inventory", dt.datetime.now(dt.UTC))
        central.dispose()
        print(
            f"setup:      {a.collectors} schools, {a.collectors * a.devices:,} devices ({time.perf_counter() - t:.0f} s)"
        )
        with sb.itops_server(url, work) as (base, server, log):
            t = time.perf_counter()
            enroll_and_join(url, base, collectors)
            print(
                f"setup:      {a.collectors} sites enrolled and joined over the API ({time.perf_counter() - t:.0f} s)"
            )
            cpu = sb.CpuMeter(server.pid, pg.postmaster)
            cpu.start()
            busy, mine = sb.machine_busy_s(), resource.getrusage(resource.RUSAGE_SELF)
            got = asyncio.run(load(base, collectors, events))
            wall, server_cpu, pg_cpu = cpu.stop()
            done = resource.getrusage(resource.RUSAGE_SELF)
            gen_cpu = done.ru_utime + done.ru_stime - mine.ru_utime - mine.ru_stime
            others = sb.machine_busy_s() - busy - server_cpu - pg_cpu - gen_cpu
            rss, hwm = sb.proc_mem_mb(server.pid)
            runs, distinct, results = server_counts(pg.conninfo("itops"))
        push_ms = server_push_ms(log)
        pg.create_database("direct")
        floor_events = [(t, i) for t, i in schedule(a.collectors, a.period, compare, seed=8)]
        cpu = sb.CpuMeter(0, pg.postmaster)
        cpu.start()
        floor = asyncio.run(direct(pg.conninfo("direct"), collectors, floor_events))
        floor_wall, _, floor_pg_cpu = cpu.stop()
    finally:
        pg.stop()
        if a.keep:
            print(f"files:      {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    lat, errors, acked = got["lat"], got["errors"], got["acked"]
    lost = acked["results"] - results
    w = 24
    print(f"{'':{w}} {'itops server (HTTP)':>22} {'psycopg executemany':>22}")
    print(f"{'batches acknowledged':{w}} {len(lat):>22,} {len(floor):>22,}")
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        print(
            f"{name + ' ack latency ms':{w}} {percentile(lat, q) * 1000:>22.1f} {percentile(floor, q) * 1000:>22.1f}"
        )
    print(f"{'p99 ratio':{w}} {percentile(lat, 0.99) / max(percentile(floor, 0.99), 1e-9):>22.1f}x")
    print(
        f"{'results/s':{w}} {acked['results'] / wall:>22.0f} {len(floor) * a.devices / floor_wall:>22.0f}"
    )
    print(f"{'server CPU %':{w}} {100 * server_cpu / wall:>22.1f} {'-':>22}")
    print(
        f"{'PostgreSQL CPU %':{w}} {100 * pg_cpu / wall:>22.1f} {100 * floor_pg_cpu / floor_wall:>22.1f}"
    )
    print(f"{'load generator CPU %':{w}} {100 * gen_cpu / wall:>22.1f}")
    print(
        f"{'other processes CPU %':{w}} {100 * max(0.0, others) / wall:>22.1f} {'(of 200 on 2 cores)':>22}"
    )
    print(f"{'server RSS MiB (peak)':{w}} {f'{rss:.0f} ({hwm:.0f})':>22}")
    if push_ms:
        print(
            f"server:     own time per push (access log): p50 {percentile(push_ms, 0.5):.0f} ms, "
            f"p99 {percentile(push_ms, 0.99):.0f} ms, max {max(push_ms):.0f} ms"
        )
    late = percentile(got["lag"], 0.99)
    kept = (
        "kept to its schedule"
        if late < 0.1
        else "FELL BEHIND: it is the bottleneck, not the server"
    )
    print(
        f"generator:  start lag p99 {late * 1000:.0f} ms, max {max(got['lag'], default=0) * 1000:.0f} ms "
        f"(the load generator {kept}); floor ran {compare:g} s at the same rate"
    )
    print(
        f"integrity:  sent {len(events):,} batches, acknowledged {acked['runs']:,} runs / {acked['results']:,} results; "
        f"server holds {runs:,} runs ({distinct:,} distinct origin ids) / {results:,} results: "
        f"{'nothing lost, nothing twice' if lost == 0 and runs == distinct == acked['runs'] else f'MISMATCH ({lost:+,} results)'}"
    )
    print(f"errors:     {len(errors)}" + (": " + "; ".join(errors[:5]) if errors else ""))
    p99 = percentile(lat, 0.99)
    ok = p99 < P99_LIMIT_S and not errors and lost == 0 and runs == distinct == acked["runs"]
    print(
        f"target:     p99 ack < {P99_LIMIT_S:g} s, no error, nothing lost: {'PASS' if ok else 'FAIL'} "
        f"(p99 {p99 * 1000:.0f} ms; {sb.load()})"
    )
    return 0 if not errors and lost == 0 and runs == distinct == acked["runs"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
