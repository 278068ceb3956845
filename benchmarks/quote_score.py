"""Benchmark: score 50 quotations x 200 lines against the laptop spec (target: under 2 s).

Generates the quotations (CSV and XLSX) in a temporary folder, then times `itops quote score`'s
Python API end to end (read, hash, evaluate with every line a technical line checked against
every requirement, canonical JSON), from CSV and from XLSX, plus a breakdown.
Run: .venv/bin/python benchmarks/quote_score.py
"""

from __future__ import annotations

import gc
import os
import random
import tempfile
import time
from pathlib import Path

import yaml

from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.evaluate import Options, evaluate
from kape_itops.quotes.readers import read_quotation
from kape_itops.quotes.report import canonical_json
from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.service import ScoreInputs, score
from kape_itops.quotes.spec import load_spec
from kape_itops.quotes.template import write_quotation_csv, write_quotation_xlsx

REPO = Path(__file__).resolve().parents[1]
QUOTES, LINES, TARGET = 50, 200, 2.0
CPUS = ["Core i5-1235U", "Ryzen 5 7530U", "Core i3-1215U", "Core i5 or equivalent", "Apple M2"]


def generate(folder: Path) -> tuple[Path, list[Path], list[Path]]:
    spec = load_spec(REPO / "specs" / "laptop.yaml")
    rng = random.Random(7)
    lines = [{"item": f"LT-{i:03d}", "quantity": 2, "unit": "pcs"} for i in range(LINES)]
    rfq = {
        "rfq": "BENCH",
        "title": "benchmark",
        "spec": "laptop",
        "evaluation_date": "2026-11-05",
        "rate": {"currency": "KHR", "per_usd": 4100, "date": "2026-11-01"},
        "lots": [{"id": "1", "name": "all", "lines": lines}],
    }
    rfq_path = folder / "rfq.yaml"
    rfq_path.write_text(yaml.safe_dump(rfq))
    (folder / "csv").mkdir()
    (folder / "xlsx").mkdir()
    csvs, xlsxs = [], []
    for q in range(QUOTES):
        khr = q % 5 == 0
        header = {
            "vendor": f"Vendor {q}",
            "tax_id": f"K{q:04d}",
            "quote_number": f"Q{q}",
            "quote_date": "2026-10-30",
            "valid_until": "2026-12-31",
            "currency": "KHR" if khr else "USD",
            "vat_inclusive": "yes" if q % 3 == 0 else "no",
        }
        rows = []
        for i in range(LINES):
            price = rng.randint(450, 800) * (4100 if khr else 1)
            rows.append(
                {
                    "item": f"LT-{i:03d}",
                    "description": "laptop",
                    "brand_model": f"Model {q}-{i}",
                    "quantity": 2,
                    "unit": "pcs",
                    "unit_price": price,
                    "line_total": price * 2 + (i % 17 == 0),
                    "warranty": rng.choice(["36 months", "3 yrs", "24 months"]),
                    "delivery_days": rng.randint(10, 60),
                    "cpu": rng.choice(CPUS),
                    "ram": rng.choice(["8 GB", "16GB DDR4", "32 GB"]),
                    "storage": rng.choice(["256 GB", "0.5 TB", "512GB SSD", "1 TB"]),
                    "storage_type": "NVMe SSD",
                    "display": rng.choice(['14"', "15.6 inch", "13.3 in"]),
                    "resolution": rng.choice(["1920x1080", "1366x768", "FHD"]),
                    "battery": rng.choice(["41 Wh", "54Wh", "3 cell"]),
                    "wifi": rng.choice(["Wi-Fi 6", "802.11ac"]),
                    "os": rng.choice(["Windows 11 Pro", "Windows 11 Home"]),
                    "keyboard": "Khmer/English",
                    "warranty_type": rng.choice(["on-site", "carry-in"]),
                    "weight": f"{rng.randint(12, 22) / 10} kg",
                }
            )
        c = folder / "csv" / f"q{q:02d}.csv"
        x = folder / "xlsx" / f"q{q:02d}.xlsx"
        write_quotation_csv(c, spec, header, rows)
        write_quotation_xlsx(x, spec, header, rows)
        csvs.append(c)
        xlsxs.append(x)
    return rfq_path, csvs, xlsxs


def timed(label: str, seconds: float, note: str = "") -> None:
    verdict = f"target < {TARGET:.1f} s: {'OK' if seconds < TARGET else 'SLOW'} ({seconds / TARGET:.2f} x)"
    print(f"  {label:<28}{seconds:7.3f} s   {note or verdict}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="itops-bench-") as tmp:
        folder = Path(tmp)
        rfq_path, csvs, xlsxs = generate(folder)
        spec_path = REPO / "specs" / "laptop.yaml"
        load = os.getloadavg()[0]
        print(
            f"{QUOTES} quotations x {LINES} lines against specs/laptop.yaml "
            f"(load average {load:.1f} on {os.cpu_count()} CPUs)"
        )
        results = {}
        for kind, files in (("CSV", csvs), ("XLSX", xlsxs)):
            wall = cpu = float("inf")
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                scored = score(ScoreInputs(rfq_path, spec_path, tuple(files)), Options(), "bench")
                wall = min(wall, time.perf_counter() - t0)
                cpu = min(cpu, time.process_time() - c0)
            results[kind] = scored
            timed(f"score from {kind}, CPU time", cpu)
            timed(f"score from {kind}, wall time", wall)
        ev = results["CSV"].evaluation
        checks = sum(len(v.checks) for v in ev.vendors)
        print(
            f"  ({checks:,} requirement checks, JSON {len(results['CSV'].json) / 1e6:.1f} MB, "
            f"best of 3)"
        )
        cpus = CpuTable.load()
        spec = load_spec(spec_path, cpus)
        rfq = load_rfq(rfq_path)
        gc.disable()
        t0 = time.process_time()
        quotes = [read_quotation(p) for p in csvs]
        t1 = time.process_time()
        [read_quotation(p) for p in xlsxs]
        t2 = time.process_time()
        ev = evaluate(spec, rfq, quotes, cpus)
        t3 = time.process_time()
        canonical_json(ev)
        t4 = time.process_time()
        gc.enable()
        print("breakdown (CPU time, single run):")
        timed("read 50 CSV", t1 - t0, "-")
        timed("read 50 XLSX", t2 - t1, "-")
        timed("evaluate", t3 - t2, "-")
        timed("canonical JSON", t4 - t3, "-")


if __name__ == "__main__":
    main()
