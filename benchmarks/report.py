"""Health report speed and database size: 1,000 devices probed every 5 minutes for 30 days.

Usage: .venv/bin/python benchmarks/report.py [--days 30] [--devices-per-school 84]
       [--schools 12] [--db PATH] [--keep-db] [--prune-keep DAYS] [--vacuum] [--reuse]

Steps, each timed and printed:
1. a fresh SQLite database with 12 schools × 84 devices (1,008) from the sample generator;
2. probe history written in bulk (ping every 5 minutes for every device, SNMP/ONVIF/SSH hourly
   for printers, NVRs, network gear and cameras): ≈ 8.7 million raw results for 30 days;
3. the hourly and daily rollups (``itops db prune`` does the same before pruning);
4. the 30-day report built from the rollups and rendered to one HTML file (target < 10 s);
5. side by side, the "standard" way: one GROUP BY over the raw results for per-device status
   counts only (no latency, supplies, problems, trends or HTML);
6. the database size on disk (target < 1 GB), and again after pruning raw results older than
   ``--prune-keep`` days when given (and after ``--vacuum``).
``--reuse --db PATH`` measures steps 3-6 again on a database made by an earlier run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kape_itops.reports import retention, sample  # noqa: E402
from kape_itops.reports.build import ReportOptions, build_report  # noqa: E402
from kape_itops.reports.model import Period  # noqa: E402
from kape_itops.reports.render_html import render_html  # noqa: E402
from kape_itops.store import ping_codec  # noqa: E402
from kape_itops.store.db import Store  # noqa: E402

GB = 1024**3


def size_on_disk(path: Path) -> int:
    """The database file plus its WAL after a checkpoint."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def live_bytes(path: Path) -> int:
    """Bytes in use (pages minus free pages): what the file shrinks to after VACUUM."""
    con = sqlite3.connect(path)
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    return int((pages - free) * size)


def table_bytes(con: sqlite3.Connection) -> None:
    """Print bytes on disk per table and index, and per row of the two raw result tables."""
    try:
        sizes = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("ping_results", "probe_results")
    }
    for table, n in counts.items():
        parts = [(name, b) for name, b in sizes if name == table or table in name]
        total = sum(b for _, b in parts)
        detail = ", ".join(f"{name} {b / 1e6:.0f} MB" for name, b in sorted(parts))
        print(f"table:      {table}: {n:,} rows, {total / max(1, n):.0f} bytes/row ({detail})")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--schools", type=int, default=12)
    ap.add_argument("--devices-per-school", type=int, default=84)
    ap.add_argument("--db", type=Path, help="database file to create (default: a temp dir)")
    ap.add_argument("--keep-db", action="store_true", help="leave the database behind")
    ap.add_argument("--prune-keep", type=int, help="then prune raw results older than N days")
    ap.add_argument("--vacuum", action="store_true", help="after pruning, VACUUM and measure again")
    ap.add_argument("--reuse", action="store_true", help="measure an existing --db (no generation)")
    a = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="itops-bench-report-"))
    db = a.db or folder / "itops.db"
    if db.exists() and not a.reuse:
        sys.exit(f"{db} exists: give a new file, or --reuse to measure it again")
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    if a.reuse:
        st = retention.stats(store)
        count, newest = st["probe_results"], st["raw_newest"]
        end = newest.replace(minute=0, second=0, microsecond=0)
        end += dt.timedelta(hours=1)
        start = end - dt.timedelta(days=a.days)
        gen = sample.GenStats(0, int(count), 0.0)
        print(f"history:    {count:,} raw results already stored (reused {db})")
    else:
        t = time.perf_counter()
        n = sample.seed_inventory(store, a.schools, a.devices_per_school)
        print(f"inventory:  {n} devices in {a.schools} schools ({time.perf_counter() - t:.1f} s)")
        end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        start = end - dt.timedelta(days=a.days)
        last = [time.perf_counter()]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 30:
                last[0] = time.perf_counter()
                print(f"  … {done}/{total} runs", flush=True)

        gen = sample.generate_history(store, start, end, progress=progress)
        print(
            f"history:    {gen.results:,} raw results in {gen.runs:,} runs "
            f"({gen.seconds:.0f} s, {gen.results / gen.seconds:,.0f} results/s)"
        )
    raw_size = size_on_disk(db)

    t = time.perf_counter()
    roll = retention.rollup(store)
    roll_s = time.perf_counter() - t
    print(
        f"rollup:     {roll.results_read:,} results → {roll.hourly_written:,} hourly + "
        f"{roll.daily_written:,} daily buckets ({roll_s:.0f} s, {roll.results_read / max(roll_s, 1e-9):,.0f} results/s)"
    )

    period = Period(start, end)
    t = time.perf_counter()
    report = build_report(store, period, ReportOptions(title="Benchmark report"))
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    html = render_html(report)
    render_s = time.perf_counter() - t
    out = folder / "report.html"
    out.write_text(html, encoding="utf-8")
    total_s = build_s + render_s
    print(
        f"report:     {len(report.problems)} problems, {sum(len(s.devices) for s in report.schools)} "
        f"devices, HTML {len(html) / 1e6:.1f} MB: build {build_s:.2f} s + render {render_s:.2f} s "
        f"= {total_s:.2f} s  (target < 10 s: {'PASS' if total_s < 10 else 'FAIL'})"
    )

    con = sqlite3.connect(db)
    t = time.perf_counter()
    rows = con.execute(
        "SELECT device_id, status, count(*) FROM probe_results WHERE probe = 'ping' "
        "AND started_at >= ? GROUP BY device_id, status",
        (start.replace(tzinfo=None).isoformat(sep=" "),),
    ).fetchall()
    rows += con.execute(
        "SELECT device_id, status, count(*) FROM ping_results WHERE started_us >= ? "
        "GROUP BY device_id, status",
        (ping_codec.to_us(start),),
    ).fetchall()
    raw_s = time.perf_counter() - t
    table_bytes(con)
    con.close()
    print(
        f"raw scan:   GROUP BY over raw results (status counts only, {len(rows)} rows): {raw_s:.2f} s "
        f"→ full report from rollups is {raw_s / total_s:.1f}× faster than this one query"
    )

    size = size_on_disk(db)
    print(
        f"database:   {size / GB:.2f} GB on disk with {a.days:g} days of raw results "
        f"(raw results alone: {raw_size / GB:.2f} GB; "
        f"{size / max(1, gen.results):.0f} bytes per result incl. indexes and rollups) "
        f"(target < 1 GB: {'PASS' if size < GB else 'FAIL'})"
    )
    if a.prune_keep:
        t = time.perf_counter()
        pr = retention.prune(store, dt.timedelta(days=a.prune_keep))
        print(
            f"prune:      raw results older than {a.prune_keep} d: {pr.results_deleted:,} deleted "
            f"({time.perf_counter() - t:.0f} s); live data {live_bytes(db) / GB:.2f} GB "
            f"(file {size_on_disk(db) / GB:.2f} GB until VACUUM; SQLite reuses the free pages)"
        )
        t = time.perf_counter()
        report = build_report(store, period, ReportOptions(title="Benchmark report"))
        html = render_html(report)
        print(f"report:     after pruning, from rollups: {time.perf_counter() - t:.2f} s")
        if a.vacuum:
            t = time.perf_counter()
            retention.vacuum(store)
            print(
                f"vacuum:     {time.perf_counter() - t:.0f} s; file now {size_on_disk(db) / GB:.2f} GB "
                f"(target < 1 GB: {'PASS' if size_on_disk(db) < GB else 'FAIL'})"
            )
    store.dispose()
    print(f"files:      {out}" + (f", {db}" if a.keep_db or a.db else " (database removed)"))
    if not (a.keep_db or a.db):
        for p in folder.glob("itops.db*"):
            os.remove(p)


if __name__ == "__main__":
    main()
