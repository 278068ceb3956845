"""A quotation evaluation as kept in the database (the audit trail of one scoring)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["StoredEvaluation"]


@dataclass(frozen=True, slots=True)
class StoredEvaluation:
    """An evaluation as kept in the database."""

    id: int
    created_at: dt.datetime
    evaluator: str
    rfq: str
    spec_id: str
    spec_version: str
    method: str
    result_sha256: str
    tool_version: str
    inputs: dict[str, Any]
    result_json: str
