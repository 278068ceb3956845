"""Step 7, award: the lot goes to the single rank-1 offer; a tie left unresolved or no ranked
offer means no award yet. The award line carries the abnormally-low and too-few-quotations
warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kape_itops.quotes.result import LotResult, Offer
from kape_itops.quotes.rfq import Lot, Rfq
from kape_itops.quotes.rules import award_short
from kape_itops.quotes.steps.state import Draft

__all__ = ["award_lot", "offer"]


def offer(d: Draft, currency: str) -> Offer:
    """The frozen offer of a draft."""
    return Offer(
        quote=d.quote.q.name,
        vendor=d.quote.q.vendor,
        lot=d.lot.id,
        complete=not d.missing,
        missing=tuple(d.missing),
        compliance=d.compliance,
        quoted=d.quoted,
        quoted_currency=d.quote.q.currency,
        corrected=d.corrected,
        converted=d.converted,
        vat_adjusted=d.vat_adjusted,
        deviations=d.deviations,
        evaluated=d.evaluated,
        trail=d.trail,
        technical_score=d.technical,
        financial_score=d.financial,
        combined_score=d.combined,
        rank=d.rank,
        reason=d.reason,
        flags=tuple(d.flags),
    )


def award_lot(
    lot: Lot,
    drafts: Sequence[Draft],
    rfq: Rfq,
    median: Decimal | None,
    counts: tuple[int, int, int],
    notes: Sequence[str],
) -> LotResult:
    """The lot's offers (ranked first) and its award; ``counts`` is (received, responsive,
    compliant)."""
    received, responsive, compliant = counts
    offers = [offer(d, rfq.currency) for d in drafts]
    offers.sort(key=lambda o: (o.rank is None, o.rank or 0, o.quote))
    winners = [o for o in offers if o.rank == 1]
    award: str | None
    award_vendor: str | None
    if len(winners) == 1:
        w = winners[0]
        award, award_vendor = w.quote, w.vendor
        note = f"recommended: {w.vendor} ({w.quote}), {rfq.currency} {w.evaluated:,}"
        if any(f.code == "abnormally_low" for f in w.flags):
            note += "; subject to a satisfactory explanation of the abnormally low price"
        short = award_short(compliant, rfq.required_quotes)
        if short:
            note += f"; {short}"
    elif winners:
        award = award_vendor = None
        note = "no award yet: unresolved tie between " + ", ".join(o.vendor for o in winners)
    else:
        award = award_vendor = None
        note = "no award: no responsive, compliant quotation"
    return LotResult(
        lot=lot.id,
        name=lot.name,
        items=tuple(ln.item for ln in lot.lines),
        offers=tuple(offers),
        award=award,
        award_vendor=award_vendor,
        award_note=note,
        median=median,
        responsive_count=responsive,
        notes=tuple(notes),
        received_count=received,
        compliant_count=compliant,
    )
