"""Stored quotation evaluations (the audit record)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class EvaluationRow(Base):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]
    evaluator: Mapped[str] = mapped_column(String(100))
    rfq: Mapped[str] = mapped_column(String(300))
    spec_id: Mapped[str] = mapped_column(String(100))
    spec_version: Mapped[str] = mapped_column(String(50))
    method: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any]]
    result_json: Mapped[str] = mapped_column(Text)
    result_sha256: Mapped[str] = mapped_column(String(64))
    tool_version: Mapped[str] = mapped_column(String(32))
