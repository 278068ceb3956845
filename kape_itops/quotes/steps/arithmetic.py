"""Step 2, arithmetic: every line's total checked and corrected, the correction explained.

The unit price prevails by default (``unit_price``); the RFQ may choose ``line_total``. A line
quoted for another quantity than the RFQ's is evaluated at the RFQ's quantity.
"""

from __future__ import annotations

from kape_itops.quotes.readers import QuoteLine
from kape_itops.quotes.result import Correction
from kape_itops.quotes.rfq import RfqLine
from kape_itops.quotes.trail import CENT, money

__all__ = ["check_arithmetic"]


def check_arithmetic(line: QuoteLine, rl: RfqLine, policy: str) -> Correction:
    """The arithmetic check of ``line`` (requested as ``rl``) under ``policy``; reported even
    when nothing changed."""
    computed = money(line.quantity * line.unit_price)
    unit_price = line.unit_price
    note = "ok"
    changed = False
    corrected = computed
    if line.line_total is None:
        note = "line total not stated; quantity × unit price used"
    elif abs(line.line_total - computed) > CENT:
        changed = True
        if policy == "unit_price":
            note = (
                f"line total {line.line_total:,} ≠ {line.quantity} × {line.unit_price:,} = "
                f"{computed:,}; corrected to {computed:,} (unit price prevails)"
            )
        else:
            corrected = line.line_total
            unit_price = line.line_total / line.quantity
            note = (
                f"line total {line.line_total:,} ≠ {line.quantity} × {line.unit_price:,} = "
                f"{computed:,}; line total kept (line total prevails)"
            )
    if line.quantity != rl.quantity:
        changed = True
        corrected = money(unit_price * rl.quantity)
        note = (
            ("" if note == "ok" else note + "; ")
            + f"quoted quantity {line.quantity} ≠ RFQ quantity {rl.quantity}: "
            f"evaluated at {rl.quantity} × {money(unit_price):,} = {corrected:,}"
        )
    return Correction(
        line.item,
        line.row,
        line.quantity,
        line.unit_price,
        line.line_total,
        computed,
        corrected,
        changed,
        note,
    )
