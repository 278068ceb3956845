"""The audit record: hashes of every input, spec version, rate and its source, method, rules,
evaluator, tool version."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from kape_itops import __version__

__all__ = ["build_audit", "sha256_bytes", "sha256_file"]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def build_audit(
    *,
    rfq_file: Path,
    spec_file: Path,
    spec_id: str,
    spec_version: str,
    quotation_files: list[Path],
    evaluator: str,
    method: str,
    weights: tuple[int, int] | None,
    rate: str | None,
    vat: str,
    arithmetic: str,
    evaluation_date: dt.date,
    cpu_table_sha256: str,
    rate_source: str | None = None,
    blank_mandatory: str = "fail",
) -> dict[str, Any]:
    """The audit block: files are named by base name so the record does not depend on paths."""
    return {
        "tool": "kape-itops",
        "tool_version": __version__,
        "evaluator": evaluator,
        "evaluation_date": evaluation_date.isoformat(),
        "method": method,
        "weights": f"{weights[0]}:{weights[1]}" if weights else None,
        "rate": rate,
        "rate_source": rate_source,
        "vat": vat,
        "blank_mandatory": blank_mandatory,
        "arithmetic": arithmetic,
        "spec": {"id": spec_id, "version": spec_version},
        "inputs": [
            {"role": "rfq", "name": rfq_file.name, "sha256": sha256_file(rfq_file)},
            {"role": "spec", "name": spec_file.name, "sha256": sha256_file(spec_file)},
            {"role": "cpu_table", "name": "cpus.csv", "sha256": cpu_table_sha256},
            *(
                {"role": "quotation", "name": p.name, "sha256": sha256_file(p)}
                for p in sorted(quotation_files, key=lambda p: p.name)
            ),
        ],
    }

