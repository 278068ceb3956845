"""Step 6, flags: abnormally low prices (flagged for clarification, never rejected) and too few
quotations received or compliant against the RFQ's ``required_quotes``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from decimal import Decimal

from kape_itops.quotes.result import WARN, Flag
from kape_itops.quotes.rfq import Lot, Rfq
from kape_itops.quotes.rules import quotation_counts
from kape_itops.quotes.steps.state import Draft
from kape_itops.quotes.trail import money

__all__ = ["flag_abnormally_low", "lot_notes", "received_notes"]


def received_notes(received: int, rfq: Rfq) -> list[str]:
    """A note on the whole evaluation when fewer quotations came than the RFQ requires."""
    if received < rfq.required_quotes:
        return [
            f"only {received} quotation(s) received; the RFQ requires {rfq.required_quotes}: "
            "record the justification or re-advertise"
        ]
    return []


def flag_abnormally_low(responsive: Sequence[Draft], rfq: Rfq, lot: Lot) -> Decimal | None:
    """Flag each responsive offer below ``abnormally_low`` × the median of the responsive
    offers (when there are two or more); returns that median, or None without offers."""
    median = (
        money(Decimal(statistics.median([d.evaluated for d in responsive]))) if responsive else None
    )
    if median is not None and len(responsive) >= 2:
        limit = median * rfq.abnormally_low
        for d in responsive:
            if d.evaluated < limit:
                pct = (Decimal(100) * d.evaluated / median).quantize(Decimal(1))
                d.flags.append(
                    Flag(
                        "abnormally_low",
                        WARN,
                        f"abnormally low: {rfq.currency} {d.evaluated:,} is {pct}% of the "
                        f"median {median:,} of {len(responsive)} responsive quotation(s) "
                        f"(threshold {int(rfq.abnormally_low * 100)}%); ask the vendor to "
                        "explain the price — flagged, not rejected",
                        lot.id,
                    )
                )
    return median


def lot_notes(received: int, responsive: int, compliant: int, rfq: Rfq) -> list[str]:
    """A note on the lot when fewer quotations are compliant than the RFQ requires."""
    if compliant < rfq.required_quotes:
        return [
            f"fewer than the required {rfq.required_quotes} compliant quotations — "
            f"{quotation_counts(received, responsive, compliant)}: "
            "record the justification or re-advertise"
        ]
    return []
