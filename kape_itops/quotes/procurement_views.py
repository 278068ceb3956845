"""What the procurement service returns to pages: an RFQ with its forms, evaluations and
decisions, the effect of other settings, and the audit trail (built here, pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kape_itops.domain.procurement import Decision, QuotationFile, RecordedEvaluation, RfqRecord
from kape_itops.quotes.rfq import Rfq
from kape_itops.quotes.service import Scored

__all__ = ["Effect", "RfqView", "SpecChoice", "TrailEntry", "trail_of"]


@dataclass(frozen=True, slots=True)
class SpecChoice:
    """A spec an RFQ can be made from."""

    id: str
    version: str
    title: str


@dataclass(frozen=True, slots=True)
class RfqView:
    """One RFQ: the record, its parsed lines and settings, forms, evaluations and decisions."""

    record: RfqRecord
    rfq: Rfq
    files: tuple[QuotationFile, ...]
    evaluations: tuple[RecordedEvaluation, ...]
    decisions: tuple[Decision, ...]

    @property
    def current(self) -> tuple[QuotationFile, ...]:
        """The forms that count: each vendor's newest."""
        return tuple(f for f in self.files if f.replaced_by is None)

    @property
    def awards(self) -> dict[str, Decision]:
        """The decision that counts per lot: the newest."""
        return {d.lot: d for d in self.decisions}


@dataclass(frozen=True, slots=True)
class Effect:
    """The evaluation with the RFQ's settings and, when other ones change it, with those."""

    base: Scored
    changed: Scored | None


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One step of an RFQ's audit trail; ``kind``: created, upload, evaluation, decision."""

    at: dt.datetime
    actor: str
    kind: str
    text: str
    sha256: str | None = None
    ref: int | None = None
    comment: str = ""


def trail_of(view: RfqView) -> list[TrailEntry]:
    """Everything done on the RFQ, oldest first."""
    r = view.record
    out = [TrailEntry(r.created_at, r.created_by, "created", f"{r.rfq} — {r.title}", r.rfq_sha256)]
    names = {f.id: f.filename for f in view.files}
    for f in view.files:
        text = f"{f.vendor}: {f.filename}"
        if f.replaced_by is not None:
            text += f" (replaced by {names[f.replaced_by]})"
        out.append(TrailEntry(f.uploaded_at, f.uploaded_by, "upload", text, f.sha256, f.id))
    for e in view.evaluations:
        how = e.method + (f" {e.weights}" if e.weights and e.method == "qcbs" else "")
        out.append(
            TrailEntry(
                e.created_at,
                e.evaluator,
                "evaluation",
                f"evaluation {e.id}: {how}",
                e.result_sha256,
                e.id,
            )
        )
    for d in view.decisions:
        what = f"lot {d.lot}: {d.vendor or 'no award'} (evaluation {d.evaluation_id})"
        out.append(TrailEntry(d.decided_at, d.decided_by, "decision", what, None, d.id, d.comment))
    return sorted(out, key=lambda t: (t.at, t.kind != "created"))
