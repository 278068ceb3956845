"""Stored quotation evaluations: add, list, get (returns domain objects, not rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kape_itops.domain.evaluations import StoredEvaluation
from kape_itops.errors import NotFoundError
from kape_itops.store.models import EvaluationRow


def _domain(row: EvaluationRow) -> StoredEvaluation:
    return StoredEvaluation(
        id=row.id,
        created_at=row.created_at,
        evaluator=row.evaluator,
        rfq=row.rfq,
        spec_id=row.spec_id,
        spec_version=row.spec_version,
        method=row.method,
        result_sha256=row.result_sha256,
        tool_version=row.tool_version,
        inputs=dict(row.inputs),
        result_json=row.result_json,
    )


class EvaluationRepo:
    """Evaluation records in one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        created_at: dt.datetime,
        evaluator: str,
        rfq: str,
        spec_id: str,
        spec_version: str,
        method: str,
        inputs: dict[str, Any],
        result_json: str,
        result_sha256: str,
        tool_version: str,
    ) -> int:
        """Insert one evaluation; returns its id."""
        row = EvaluationRow(
            created_at=created_at,
            evaluator=evaluator[:100],
            rfq=rfq[:300],
            spec_id=spec_id[:100],
            spec_version=spec_version[:50],
            method=method,
            inputs=inputs,
            result_json=result_json,
            result_sha256=result_sha256,
            tool_version=tool_version[:32],
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def list(self, limit: int = 100) -> list[StoredEvaluation]:
        """Newest first."""
        rows = self.session.scalars(
            select(EvaluationRow).order_by(EvaluationRow.id.desc()).limit(limit)
        )
        return [_domain(r) for r in rows]

    def get(self, evaluation_id: int) -> StoredEvaluation:
        """One evaluation by id."""
        row = self.session.get(EvaluationRow, evaluation_id)
        if row is None:
            raise NotFoundError(f"no stored evaluation with id {evaluation_id}")
        return _domain(row)
