"""The price trail of one offer: every step from the quoted total to the evaluated price, pure.

Each step is ``previous <op> operand``, rounded half up to cents (:func:`apply`), so a reader can
recompute every figure by hand from the report. The evaluation takes its prices from the trail:
the last step *is* the evaluated price. Steps, in order: the total as quoted, the
arithmetic-corrected total, the total converted at the stated rate, the total on the common VAT
basis, one step per priced deviation, and the evaluated price.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from kape_itops.quotes.rfq import Rate

__all__ = [
    "CENT",
    "OP_WORDS",
    "LinePrice",
    "PriceStep",
    "PricedDeviation",
    "apply",
    "money",
    "price_trail",
]

CENT = Decimal("0.01")
START, ADD, SUBTRACT, MULTIPLY, DIVIDE = "=", "+", "−", "×", "÷"
OP_WORDS = {
    START: "equals",
    ADD: "plus",
    SUBTRACT: "minus",
    MULTIPLY: "times",
    DIVIDE: "divided by",
}


def money(value: Decimal) -> Decimal:
    """Round half up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def apply(previous: Decimal, op: str, operand: Decimal) -> Decimal:
    """``previous op operand`` rounded half up to cents; ``=`` restates ``operand``."""
    if op == ADD:
        return money(previous + operand)
    if op == SUBTRACT:
        return money(previous - operand)
    if op == MULTIPLY:
        return money(previous * operand)
    if op == DIVIDE:
        return money(previous / operand)
    if op == START:
        return money(operand)
    raise ValueError(f"unknown price operation {op!r}")


def amount_text(value: Decimal) -> str:
    """A number as the reports print it: thousands separators, digits as computed."""
    return f"{value:,}"


class PriceStep(NamedTuple):
    """One step: ``amount`` = previous amount ``op`` ``operand``, rounded half up to cents."""

    label: str
    op: str
    operand: Decimal
    amount: Decimal
    currency: str
    how: str

    @property
    def operation(self) -> str:
        """The operation as printed: ``÷ 4,100``, ``+ 840.00``, ``= 15,480.00``."""
        return f"{self.op} {amount_text(self.operand)}"


class LinePrice(NamedTuple):
    """One quoted line's total as the vendor stated it and after the arithmetic check."""

    item: str
    row: int
    quoted: Decimal
    corrected: Decimal
    stated: bool
    note: str


class PricedDeviation(NamedTuple):
    """A priced deviation already in the evaluation currency, with how it was priced."""

    label: str
    amount: Decimal
    how: str


def price_trail(
    lines: Sequence[LinePrice],
    quote_currency: str,
    currency: str,
    rate: Rate | None,
    vat_rate: Decimal,
    vat_inclusive: bool,
    vat_basis: str,
    deviations: Sequence[PricedDeviation],
) -> tuple[PriceStep, ...]:
    """The steps for ``lines`` (one lot of one quotation); the last amount is the evaluated price."""
    cur = quote_currency
    parts = [
        f"{ln.item} row {ln.row} {cur} {amount_text(ln.quoted)}"
        + ("" if ln.stated else " (no line total stated: quantity × unit price)")
        for ln in lines
    ]
    quoted = money(sum((ln.quoted for ln in lines), Decimal(0)))
    steps = [
        PriceStep(
            "Quoted total",
            START,
            quoted,
            quoted,
            cur,
            "sum of the line totals as quoted: " + (" + ".join(parts) or "no lines"),
        )
    ]
    corrected = money(sum((ln.corrected for ln in lines), Decimal(0)))
    fixes = [f"{ln.item} row {ln.row}: {ln.note}" for ln in lines if ln.corrected != ln.quoted]
    delta = corrected - quoted
    steps.append(
        PriceStep(
            "Arithmetic-corrected total",
            SUBTRACT if delta < 0 else ADD,
            abs(delta),
            apply(quoted, ADD, delta),
            cur,
            "; ".join(fixes) if fixes else "no arithmetic error found",
        )
    )
    if cur == currency:
        op, operand, how = MULTIPLY, Decimal(1), f"already in {currency}: no conversion"
    else:
        assert rate is not None
        op = DIVIDE if currency == "USD" else MULTIPLY
        operand = rate.per_usd
        how = f"{op} {amount_text(rate.per_usd)} {rate.currency} per USD: the RFQ's rate {rate}"
    steps.append(
        PriceStep(
            f"Converted to {currency}", op, operand, apply(corrected, op, operand), currency, how
        )
    )
    factor = Decimal(1) + vat_rate / 100
    if vat_inclusive and vat_basis == "exclusive":
        op, operand = DIVIDE, factor
        how = f"÷ {factor}: prices include {vat_rate} % VAT, compared VAT-exclusive"
    elif not vat_inclusive and vat_basis == "inclusive":
        op, operand = MULTIPLY, factor
        how = f"× {factor}: {vat_rate} % VAT added, prices compared VAT-inclusive"
    else:
        op, operand = MULTIPLY, Decimal(1)
        how = f"prices already VAT-{vat_basis}: no change"
    steps.append(
        PriceStep(
            f"VAT-{vat_basis} total",
            op,
            operand,
            apply(steps[-1].amount, op, operand),
            currency,
            how,
        )
    )
    for dev in deviations:
        steps.append(
            PriceStep(
                dev.label,
                ADD,
                dev.amount,
                apply(steps[-1].amount, ADD, dev.amount),
                currency,
                dev.how,
            )
        )
    added = len(deviations)
    steps.append(
        PriceStep(
            "Evaluated price",
            START,
            steps[-1].amount,
            steps[-1].amount,
            currency,
            f"VAT-{vat_basis} total plus {added} priced deviation(s)"
            if added
            else f"VAT-{vat_basis} total; no priced deviation",
        )
    )
    return tuple(steps)
