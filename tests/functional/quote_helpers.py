"""Shared helpers for the quotation tests: sample paths and copies of sample folders."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
QUOTES = REPO / "quotes"
CATEGORIES = ("laptop", "desktop", "tablet", "printer", "hotspot", "switch", "camera", "nvr", "ups")


def copy_rfq(category: str, dest: Path, *, csv: bool = False) -> Path:
    """A private copy of a sample RFQ folder (rfq.yaml + quotations) to modify."""
    src = QUOTES / category
    out = dest / category
    out.mkdir(parents=True)
    shutil.copy(src / "rfq.yaml", out / "rfq.yaml")
    files = sorted((src / "csv").glob("*.csv")) if csv else sorted(src.glob("*.xlsx"))
    for f in files:
        shutil.copy(f, out / f.name)
    return out
