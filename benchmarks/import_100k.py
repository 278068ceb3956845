"""Import speed and memory: 100,000 device rows into SQLite, next to sqlite3's own .import.

Usage: .venv/bin/python benchmarks/import_100k.py [ROWS ...]   (default: 20000 100000)

For each size it generates schools.csv + devices.csv, runs ``itops inventory import`` in a
child process (fresh database), then the same import again (every row unchanged), and
``sqlite3 :memory: .import`` of the same file as the floor a raw loader reaches without any
validation or change log. Peak RSS comes from getrusage of each child; flat memory means the
peak barely moves between sizes.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ITOPS = [sys.executable, "-m", "kape_itops"]
KINDS = ["laptop", "desktop", "tablet", "printer", "hotspot", "switch", "camera", "ups"]


def generate(folder: Path, rows: int) -> Path:
    """Twelve schools and ``rows`` devices, every serial and MAC unique."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "schools.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "subnets"])
        for i in range(1, 13):
            w.writerow(
                [f"BENCH-{i:02d}", f"Bench School {i}", f"10.30.{i}.0/24 10.{40 + i}.0.0/16"]
            )
    with (folder / "devices.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "asset_tag",
                "school",
                "kind",
                "manufacturer",
                "model",
                "serial",
                "mac",
                "ip",
                "room",
                "status",
                "funding",
                "purchase_date",
                "unit_price",
                "currency",
                "warranty_until",
                "notes",
            ]
        )
        for n in range(rows):
            school = n % 12 + 1
            w.writerow(
                [
                    f"B-{n:07d}",
                    f"BENCH-{school:02d}",
                    KINDS[n % len(KINDS)],
                    "Lenovo",
                    "ThinkPad E14 Gen 5",
                    f"PF{n:08X}",
                    f"54:ee:75:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
                    f"10.{40 + school}.{n >> 8 & 255}.{n & 255}" if n % 3 == 0 else "",
                    f"Room {n % 20}",
                    "deployed",
                    "IDEAL" if n % 2 else "AI Ready ASEAN",
                    f"20{19 + n % 8}-0{1 + n % 9}-1{n % 10}",
                    f"{500 + n % 300}.00",
                    "USD",
                    f"20{22 + n % 8}-0{1 + n % 9}-1{n % 10}",
                    "bench row" if n % 5 == 0 else "",
                ]
            )
    return folder


def child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``cmd``: wall seconds, CPU seconds and peak RSS in MiB of that child (wait4's
    rusage), and its last line of output."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read()[-2000:]}")
        lines = out.read().strip().splitlines() or [""]
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines[-1]


def bench(rows: int, work: Path) -> dict[str, float]:
    """One size: fresh import, unchanged re-import, sqlite3 .import."""
    folder = generate(work / f"data-{rows}", rows)
    db = work / f"bench-{rows}.db"
    env = {**os.environ, "ITOPS_DB": f"sqlite:///{db}", "ITOPS_ACTOR": "bench"}
    subprocess.run([*ITOPS, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    fresh, fresh_cpu, fresh_rss, fresh_out = child(
        [*ITOPS, "inventory", "import", str(folder)], env
    )
    again, again_cpu, again_rss, again_out = child(
        [*ITOPS, "inventory", "import", str(folder)], env
    )
    print(
        f"  fresh import:    {fresh:6.1f} s ({fresh_cpu:5.1f} s CPU) {rows / fresh:9,.0f} rows/s  -> {fresh_out}"
    )
    print(
        f"  re-import:       {again:6.1f} s ({again_cpu:5.1f} s CPU) {rows / again:9,.0f} rows/s  -> {again_out}"
    )
    out: dict[str, float] = {
        "fresh": fresh,
        "fresh_cpu": fresh_cpu,
        "again": again,
        "again_cpu": again_cpu,
        "rss": max(fresh_rss, again_rss),
    }
    sqlite3 = shutil.which("sqlite3")
    if sqlite3:
        raw, _, _, _ = child(
            [
                sqlite3,
                str(work / f"raw-{rows}.db"),
                ".mode csv",
                f".import {folder / 'devices.csv'} devices",
                "SELECT count(*) FROM devices;",
            ],
            env,
        )
        out["raw"] = raw
        print(
            f"  sqlite3 .import: {raw:6.1f} s  {rows / raw:9,.0f} rows/s  (no validation, no change log)"
        )
        print(f"  ratio itops/sqlite3: {fresh / raw:.1f}x")
    return out


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [20_000, 100_000]
    work = Path(tempfile.mkdtemp(prefix="itops-bench-"))
    try:
        results = {}
        for rows in sizes:
            print(f"== {rows:,} device rows")
            results[rows] = bench(rows, work)
        print("\nsummary (peak RSS of the import process itself):")
        print(
            f"  {'rows':>9}  {'import s':>8}  {'rows/s':>8}  {'re-import s':>11}  {'peak RSS MiB':>12}"
        )
        for rows, r in results.items():
            print(
                f"  {rows:>9,}  {r['fresh']:>8.1f}  {rows / r['fresh']:>8,.0f}  {r['again']:>11.1f}  {r['rss']:>12.0f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
