"""Steps 3 and 4, currency and VAT: every price converted at the one stated, dated rate and put
on the RFQ's VAT basis, with each priced deviation added, as the offer's price trail
(:mod:`kape_itops.quotes.trail`).
"""

from __future__ import annotations

from decimal import Decimal

from kape_itops.quotes.readers import Quotation
from kape_itops.quotes.result import FAIL, INFO, Flag, RequirementCheck
from kape_itops.quotes.rfq import Lot, Rate, Rfq
from kape_itops.quotes.spec import Requirement, Spec
from kape_itops.quotes.steps.state import Received
from kape_itops.quotes.trail import LinePrice, PricedDeviation, PriceStep, money, price_trail

__all__ = ["convert", "lot_trail", "priced_deviation", "rate_flags", "vat_flags"]


def convert(amount: Decimal, currency: str, target: str, rate: Rate | None) -> Decimal:
    """``amount`` in ``currency`` as ``target`` at ``rate`` (unrounded)."""
    if currency == target:
        return amount
    assert rate is not None
    return amount / rate.per_usd if target == "USD" else amount * rate.per_usd


def rate_flags(q: Quotation, rfq: Rfq, rate: Rate | None) -> list[Flag]:
    """A note when the vendor states a rate other than the RFQ's (the RFQ's is used)."""
    if (
        q.currency != rfq.currency
        and rate is not None
        and q.stated_rate is not None
        and q.stated_rate != rate.per_usd
    ):
        return [
            Flag(
                "vendor_rate",
                INFO,
                f"vendor states 1 USD = {q.stated_rate:,} {rate.currency}; "
                f"the evaluation uses the stated RFQ rate {rate}",
            )
        ]
    return []


def vat_flags(q: Quotation, rfq: Rfq, vat_rate: Decimal) -> list[Flag]:
    """A note when the quotation's prices are on the other VAT basis than the RFQ's."""
    if q.vat_inclusive != (rfq.vat_basis == "inclusive"):
        direction = "removed from" if q.vat_inclusive else "added to"
        return [
            Flag(
                "vat",
                INFO,
                f"prices {'include' if q.vat_inclusive else 'exclude'} VAT; {vat_rate}% VAT "
                f"{direction} every price to compare on a VAT-{rfq.vat_basis} basis",
            )
        ]
    return []


def priced_deviation(
    c: RequirementCheck, req: Requirement, qty: Decimal, spec: Spec, rfq: Rfq
) -> PricedDeviation:
    """A priced deviation with the arithmetic that gives it (money value × RFQ quantity)."""
    value = req.money_value if req.money_value != money(req.money_value) else money(req.money_value)
    raw = money(value * qty)
    how = f"{spec.currency} {value:,} × {qty} = {spec.currency} {raw:,}"
    if spec.currency != rfq.currency:
        how += f", at the stated rate = {rfq.currency} {c.deviation:,}"
    state = "fails" if c.status == FAIL else "cannot verify"
    how += f": {c.item} {state} desirable {req.id} ({req.label}): {c.reason}"
    return PricedDeviation(f"Deviation {req.id} ({c.item})", c.deviation, how)


def lot_trail(
    qt: Received, lot: Lot, spec: Spec, rfq: Rfq, rate: Rate | None, vat: Decimal
) -> tuple[PriceStep, ...]:
    """The price trail of ``qt`` for ``lot``: quoted → corrected → converted → VAT → deviations."""
    items = {ln.item: ln for ln in lot.lines}
    reqs = {r.id: r for r in spec.requirements}
    lines = [
        LinePrice(
            c.item,
            c.row,
            c.computed_total if c.quoted_total is None else c.quoted_total,
            c.corrected_total,
            c.quoted_total is not None,
            c.note if c.changed else "",
        )
        for c in qt.corrections
        if c.item in items
    ]
    devs = [
        priced_deviation(c, reqs[c.requirement], items[c.item].quantity, spec, rfq)
        for c in qt.checks
        if c.item in items and c.deviation
    ]
    return price_trail(
        lines, qt.q.currency, rfq.currency, rate, vat, qt.q.vat_inclusive, rfq.vat_basis, devs
    )
