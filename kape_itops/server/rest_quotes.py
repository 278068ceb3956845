"""``/api/v1/quotes``: recorded quotation evaluations (each with its audit record) and RFQs.

Reading them needs the quotations right (reviewer, admin), as the quotation pages do.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kape_itops.quotes.procurement import Procurement
from kape_itops.quotes.service import Evaluations
from kape_itops.server.rest_auth import QuotesReader
from kape_itops.server.rest_models import (
    Error,
    EvaluationOut,
    EvaluationSummary,
    evaluation_summary,
)
from kape_itops.server.web.auth import database

router = APIRouter(prefix="/quotes", tags=["quotations"])


class RfqLine(BaseModel):
    id: int
    rfq: str
    title: str
    spec_id: str
    submission_deadline: dt.date | None
    created_at: dt.datetime
    created_by: str
    vendors: int
    evaluations: int
    decided: bool


class RfqPage(BaseModel):
    rfqs: list[RfqLine]
    page: int
    pages: int


@router.get("")
def evaluations(
    request: Request,
    _user: QuotesReader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EvaluationSummary]:
    """Recorded evaluations, newest first (``itops quote history``)."""
    return [evaluation_summary(e) for e in Evaluations(database(request).store).newest(limit)]


@router.get("/evaluations/{evaluation_id}", responses={404: {"model": Error}})
def evaluation(request: Request, _user: QuotesReader, evaluation_id: int) -> EvaluationOut:
    """One recorded evaluation: its result and the audit record of its inputs."""
    found = Evaluations(database(request).store).get(evaluation_id)
    summary = evaluation_summary(found).model_dump()
    return EvaluationOut(**summary, inputs=found.inputs, result=json.loads(found.result_json))


@router.get("/rfqs")
def rfqs(
    request: Request,
    user: QuotesReader,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> RfqPage:
    """Requests for quotation made on the web pages, newest first, 50 per page."""
    found, pages = Procurement(database(request).store, user.name, source="api").rfqs(page)
    lines = [
        RfqLine(
            id=r.id,
            rfq=r.rfq,
            title=r.title,
            spec_id=r.spec_id,
            submission_deadline=r.submission_deadline,
            created_at=r.created_at,
            created_by=r.created_by,
            vendors=r.vendors,
            evaluations=r.evaluations,
            decided=r.decided,
        )
        for r in found
    ]
    return RfqPage(rfqs=lines, page=min(page, pages), pages=pages)
