"""Requests for quotation kept in the database (web procurement): records the store returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Decision", "QuotationFile", "RecordedEvaluation", "RfqRecord", "RfqSummary"]


@dataclass(frozen=True, slots=True)
class RfqRecord:
    """One RFQ: its ``rfq.yaml`` text and the spec text it was issued against."""

    id: int
    rfq: str
    title: str
    spec_id: str
    spec_version: str
    currency: str
    submission_deadline: dt.date | None
    created_at: dt.datetime
    created_by: str
    rfq_yaml: str
    rfq_sha256: str
    spec_yaml: str
    spec_sha256: str


@dataclass(frozen=True, slots=True)
class RfqSummary:
    """One line of the RFQ list."""

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


@dataclass(frozen=True, slots=True)
class QuotationFile:
    """One uploaded quotation form (its bytes are read separately); ``replaced_by`` is the id of
    the same vendor's newer form, None for the current one."""

    id: int
    rfq_id: int
    vendor: str
    vendor_key: str
    filename: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str
    replaced_by: int | None = None


@dataclass(frozen=True, slots=True)
class RecordedEvaluation:
    """An evaluation recorded for an RFQ (its full audit record is in ``evaluations``)."""

    id: int
    created_at: dt.datetime
    evaluator: str
    method: str
    weights: str | None
    result_sha256: str


@dataclass(frozen=True, slots=True)
class Decision:
    """An award decision on one lot; ``vendor`` empty when nothing is awarded."""

    id: int
    rfq_id: int
    evaluation_id: int
    lot: str
    vendor: str
    quote: str
    comment: str
    decided_at: dt.datetime
    decided_by: str
