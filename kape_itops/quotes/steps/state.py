"""The working records the scoring steps pass along (mutable, internal to one evaluation).

A :class:`Received` quotation collects its flags, corrections and checks; a :class:`Draft` is
its offer for one lot while that lot is priced, flagged and ranked. The frozen results are in
:mod:`kape_itops.quotes.result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kape_itops.quotes.readers import Quotation, QuoteLine
from kape_itops.quotes.result import PASS, Correction, Flag, RequirementCheck
from kape_itops.quotes.rfq import Lot
from kape_itops.quotes.trail import PriceStep

__all__ = ["Draft", "Received"]


@dataclass
class Received:
    """One quotation as received: its lines by item and everything found about it."""

    q: Quotation
    flags: list[Flag]
    corrections: list[Correction]
    checks: list[RequirementCheck]
    lines: dict[str, QuoteLine]
    rejected: bool = False


@dataclass
class Draft:
    """One quotation's offer for one lot while it is priced, flagged and ranked."""

    quote: Received
    lot: Lot
    missing: list[str]
    compliance: str
    failed: list[str]
    unverified: list[str]
    quoted: Decimal
    corrected: Decimal
    converted: Decimal
    vat_adjusted: Decimal
    deviations: Decimal
    evaluated: Decimal
    trail: tuple[PriceStep, ...]
    technical: Decimal
    flags: list[Flag]
    financial: Decimal | None = None
    combined: Decimal | None = None
    rank: int | None = None
    reason: str = ""
    below_minimum: bool = False

    @property
    def eligible(self) -> bool:
        """Responsive and compliant: it may be ranked."""
        return self.responsive and self.compliance == PASS

    @property
    def responsive(self) -> bool:
        """Not set aside, and every item of the lot quoted."""
        return not self.quote.rejected and not self.missing
