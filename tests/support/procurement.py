"""A sample rfq.yaml as the plain values a reviewer types into the RFQ form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def form_of(rfq_yaml: Path, **changes: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(field values, line rows) of the form that makes the RFQ of ``rfq_yaml``."""
    data: dict[str, Any] = yaml.safe_load(rfq_yaml.read_text("utf-8"))
    values = {
        k: str(data[k])
        for k in (
            "rfq",
            "title",
            "spec",
            "buyer",
            "currency",
            "evaluation_date",
            "submission_deadline",
            "required_quotes",
            "arithmetic",
            "blank_mandatory",
            "method",
            "weights",
            "award",
            "abnormally_low",
            "min_technical_score",
        )
        if k in data
    }
    rate = data.get("rate") or {}
    for k in ("per_usd", "date", "source"):
        if k in rate:
            values[f"rate_{k}"] = str(rate[k])
    for k in ("rate", "basis"):
        if k in data.get("vat", {}):
            values[f"vat_{k}"] = str(data["vat"][k])
    lines = [
        {
            "lot": str(lot["id"]),
            "lot_name": str(lot.get("name", "")),
            "item": str(ln["item"]),
            "description": str(ln.get("description", "")),
            "quantity": str(ln["quantity"]),
            "unit": str(ln.get("unit", "")),
            "technical": "on" if ln.get("technical", True) else "",
        }
        for lot in data["lots"]
        for ln in lot["lines"]
    ]
    values.update(changes)
    return values, lines
