"""RFQs made on the web, their uploaded forms, recorded evaluations and decisions (domain
objects out, never rows); every write also goes to the change log (entity ``rfq``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kape_itops.domain.enums import ChangeAction, EntityType
from kape_itops.domain.evaluations import StoredEvaluation
from kape_itops.domain.procurement import (
    Decision,
    QuotationFile,
    RecordedEvaluation,
    RfqRecord,
    RfqSummary,
)
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.store.evaluation_repo import EvaluationRepo
from kape_itops.store.models import (
    ChangeRow,
    EvaluationRow,
    RfqDecisionRow,
    RfqEvaluationRow,
    RfqFileRow,
    RfqRow,
)

__all__ = ["ProcurementRepo", "Stamp"]


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who writes, when, and through what (for the change log)."""

    actor: str
    at: dt.datetime
    source: str


def _record(r: RfqRow) -> RfqRecord:
    return RfqRecord(
        id=r.id,
        rfq=r.rfq,
        title=r.title,
        spec_id=r.spec_id,
        spec_version=r.spec_version,
        currency=r.currency,
        submission_deadline=r.submission_deadline,
        created_at=r.created_at,
        created_by=r.created_by,
        rfq_yaml=r.rfq_yaml,
        rfq_sha256=r.rfq_sha256,
        spec_yaml=r.spec_yaml,
        spec_sha256=r.spec_sha256,
    )


def _decision(r: RfqDecisionRow) -> Decision:
    return Decision(
        id=r.id,
        rfq_id=r.rfq_id,
        evaluation_id=r.evaluation_id,
        lot=r.lot,
        vendor=r.vendor,
        quote=r.quote,
        comment=r.comment,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
    )


class ProcurementRepo:
    """Reads and writes of the RFQ tables; writes belong in a ``Store.write()`` session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- RFQs --------------------------------------------------------------------------------
    def add_rfq(self, record: RfqRecord, stamp: Stamp) -> int:
        """A new RFQ (``record.id`` is ignored); UsageError when its reference is taken."""
        if self.s.scalar(select(RfqRow.id).where(RfqRow.rfq == record.rfq)) is not None:
            raise UsageError(f"an RFQ '{record.rfq}' exists already")
        row = RfqRow(
            rfq=record.rfq,
            title=record.title,
            spec_id=record.spec_id,
            spec_version=record.spec_version,
            currency=record.currency,
            submission_deadline=record.submission_deadline,
            created_at=record.created_at,
            created_by=record.created_by,
            rfq_yaml=record.rfq_yaml,
            rfq_sha256=record.rfq_sha256,
            spec_yaml=record.spec_yaml,
            spec_sha256=record.spec_sha256,
        )
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError as exc:
            raise UsageError(f"an RFQ '{record.rfq}' exists already") from exc
        self.log(
            stamp, record.rfq, ChangeAction.CREATE, None, None, record.title, record.rfq_sha256
        )
        return row.id

    def rfq(self, rfq_id: int) -> RfqRecord:
        """One RFQ by id (NotFoundError)."""
        row = self.s.get(RfqRow, rfq_id)
        if row is None:
            raise NotFoundError(f"no RFQ with id {rfq_id}")
        return _record(row)

    def count(self) -> int:
        """How many RFQs there are."""
        return int(self.s.scalar(select(func.count()).select_from(RfqRow)) or 0)

    def summaries(self, limit: int, offset: int = 0) -> list[RfqSummary]:
        """Newest first, with counts of current vendors, recorded evaluations and decisions."""
        vendors = (
            select(func.count(func.distinct(RfqFileRow.vendor_key)))
            .where(RfqFileRow.rfq_id == RfqRow.id)
            .scalar_subquery()
        )
        evals = (
            select(func.count())
            .select_from(RfqEvaluationRow)
            .where(RfqEvaluationRow.rfq_id == RfqRow.id)
            .scalar_subquery()
        )
        decided = (
            select(func.count())
            .select_from(RfqDecisionRow)
            .where(RfqDecisionRow.rfq_id == RfqRow.id)
            .scalar_subquery()
        )
        q = (
            select(RfqRow, vendors, evals, decided)
            .order_by(RfqRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [
            RfqSummary(
                id=r.id,
                rfq=r.rfq,
                title=r.title,
                spec_id=r.spec_id,
                submission_deadline=r.submission_deadline,
                created_at=r.created_at,
                created_by=r.created_by,
                vendors=int(v or 0),
                evaluations=int(e or 0),
                decided=bool(d),
            )
            for r, v, e, d in self.s.execute(q)
        ]

    # -- uploaded forms ----------------------------------------------------------------------
    def files(self, rfq_id: int) -> list[QuotationFile]:
        """Every form uploaded for the RFQ, oldest first, each marked with its replacement."""
        rows = self.s.scalars(
            select(RfqFileRow).where(RfqFileRow.rfq_id == rfq_id).order_by(RfqFileRow.id)
        ).all()
        newer: dict[str, int] = {}
        out: list[QuotationFile] = []
        for r in reversed(rows):
            out.append(
                QuotationFile(
                    id=r.id,
                    rfq_id=r.rfq_id,
                    vendor=r.vendor,
                    vendor_key=r.vendor_key,
                    filename=r.filename,
                    size=r.size,
                    sha256=r.sha256,
                    uploaded_at=r.uploaded_at,
                    uploaded_by=r.uploaded_by,
                    replaced_by=newer.get(r.vendor_key),
                )
            )
            newer[r.vendor_key] = r.id
        return out[::-1]

    def content(self, file_ids: Sequence[int]) -> dict[int, bytes]:
        """The bytes of the given forms, by id."""
        if not file_ids:
            return {}
        q = select(RfqFileRow.id, RfqFileRow.content).where(RfqFileRow.id.in_(list(file_ids)))
        return {int(i): bytes(c) for i, c in self.s.execute(q)}

    def add_file(self, f: QuotationFile, content: bytes, rfq: str, stamp: Stamp) -> int:
        """Keep one uploaded form (``f.id`` ignored); logged as the vendor's quotation."""
        row = RfqFileRow(
            rfq_id=f.rfq_id,
            vendor=f.vendor[:300],
            vendor_key=f.vendor_key[:300],
            filename=f.filename[:200],
            content=content,
            size=len(content),
            sha256=f.sha256,
            uploaded_at=stamp.at,
            uploaded_by=stamp.actor,
        )
        self.s.add(row)
        self.s.flush()
        self.log(
            stamp,
            rfq,
            ChangeAction.UPDATE,
            "quotation",
            None,
            f"{f.vendor}: {f.filename}",
            f.sha256,
        )
        return row.id

    # -- evaluations and decisions -----------------------------------------------------------
    def link_evaluation(
        self, rfq_id: int, evaluation_id: int, rfq: str, stamp: Stamp, what: str
    ) -> None:
        """Record that evaluation ``evaluation_id`` (already stored) belongs to the RFQ."""
        self.s.add(RfqEvaluationRow(rfq_id=rfq_id, evaluation_id=evaluation_id))
        self.s.flush()
        self.log(
            stamp,
            rfq,
            ChangeAction.UPDATE,
            "evaluation",
            None,
            f"evaluation {evaluation_id}: {what}",
        )

    def evaluations(self, rfq_id: int) -> list[RecordedEvaluation]:
        """The evaluations recorded for the RFQ, newest first."""
        e = EvaluationRow
        q = (
            select(e.id, e.created_at, e.evaluator, e.method, e.inputs, e.result_sha256)
            .join(RfqEvaluationRow, RfqEvaluationRow.evaluation_id == e.id)
            .where(RfqEvaluationRow.rfq_id == rfq_id)
            .order_by(e.id.desc())
        )
        return [
            RecordedEvaluation(
                id=i,
                created_at=at if at.tzinfo else at.replace(tzinfo=dt.UTC),
                evaluator=who,
                method=method,
                weights=(inputs or {}).get("weights"),
                result_sha256=sha,
            )
            for i, at, who, method, inputs, sha in self.s.execute(q)
        ]

    def evaluation(self, rfq_id: int, evaluation_id: int) -> StoredEvaluation:
        """A recorded evaluation of this RFQ (NotFoundError if it is not one)."""
        linked = self.s.scalar(
            select(RfqEvaluationRow.id).where(
                RfqEvaluationRow.rfq_id == rfq_id, RfqEvaluationRow.evaluation_id == evaluation_id
            )
        )
        if linked is None:
            raise NotFoundError(f"evaluation {evaluation_id} is not recorded for this RFQ")
        return EvaluationRepo(self.s).get(evaluation_id)

    def add_decision(self, d: Decision, rfq: str, stamp: Stamp) -> int:
        """Append a decision (``d.id``, time and author come from ``stamp``)."""
        before = self.decisions(d.rfq_id)
        old = next((x.vendor or "no award" for x in reversed(before) if x.lot == d.lot), None)
        row = RfqDecisionRow(
            rfq_id=d.rfq_id,
            evaluation_id=d.evaluation_id,
            lot=d.lot[:100],
            vendor=d.vendor[:300],
            quote=d.quote[:200],
            comment=d.comment,
            decided_at=stamp.at,
            decided_by=stamp.actor,
        )
        self.s.add(row)
        self.s.flush()
        self.log(
            stamp, rfq, ChangeAction.UPDATE, f"award lot {d.lot}"[:64], old, d.vendor or "no award"
        )
        return row.id

    def decisions(self, rfq_id: int) -> list[Decision]:
        """Every decision on the RFQ, oldest first."""
        rows = self.s.scalars(
            select(RfqDecisionRow)
            .where(RfqDecisionRow.rfq_id == rfq_id)
            .order_by(RfqDecisionRow.id)
        )
        return [_decision(r) for r in rows]

    # -- change log --------------------------------------------------------------------------
    def log(
        self,
        stamp: Stamp,
        rfq: str,
        action: ChangeAction,
        field: str | None,
        old: str | None,
        new: str | None,
        sha256: str | None = None,
    ) -> None:
        """One change-log entry about the RFQ ``rfq``."""
        self.s.add(
            ChangeRow(
                at=stamp.at,
                actor=stamp.actor[:100],
                entity=EntityType.RFQ.value,
                key=rfq[:100],
                action=action.value,
                field=field,
                old=old,
                new=new,
                source=stamp.source[:300],
                source_sha256=sha256,
            )
        )
