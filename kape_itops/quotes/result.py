"""The result of a quotation evaluation: frozen values, serialised canonically by
:mod:`kape_itops.quotes.report` (field names become JSON keys, so renaming a field changes the
stored JSON; renaming a class does not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from kape_itops.quotes.trail import PriceStep

__all__ = [
    "FAIL",
    "INFO",
    "PASS",
    "REJECT",
    "UNVERIFIED",
    "WARN",
    "Correction",
    "Evaluation",
    "Flag",
    "LotResult",
    "Offer",
    "RequirementCheck",
    "VendorResult",
]

PASS, FAIL, UNVERIFIED = "pass", "fail", "unverified"
"""A requirement's verdict; ``unverified`` is "cannot verify"."""
REJECT, WARN, INFO = "reject", "warn", "info"
"""A flag's severity; ``reject`` sets the quotation aside."""


class RequirementCheck(NamedTuple):
    """One requirement checked on one quoted line (a tuple: there are many of them)."""

    requirement: str
    item: str
    status: str
    value: str
    reason: str
    points: Decimal = Decimal(0)
    deviation: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Correction:
    """Arithmetic check of one line (reported even when nothing changed)."""

    item: str
    row: int
    quantity: Decimal
    unit_price: Decimal
    quoted_total: Decimal | None
    computed_total: Decimal
    corrected_total: Decimal
    changed: bool
    note: str


@dataclass(frozen=True, slots=True)
class Flag:
    """A responsiveness or clarification finding; ``reject`` removes the offer from ranking."""

    code: str
    severity: str
    message: str
    lot: str | None = None


@dataclass(frozen=True, slots=True)
class VendorResult:
    """Everything found about one quotation."""

    quote: str
    vendor: str
    tax_id: str
    quote_number: str
    quote_date: dt.date
    valid_until: dt.date
    currency: str
    vat_inclusive: bool
    stated_rate: Decimal | None
    responsive: bool
    flags: tuple[Flag, ...]
    corrections: tuple[Correction, ...]
    checks: tuple[RequirementCheck, ...]


@dataclass(frozen=True, slots=True)
class Offer:
    """One quotation's offer for one lot, priced and scored.

    ``quoted`` is the total as the vendor quoted it, ``corrected`` after the arithmetic check
    (both in ``quoted_currency``); ``trail`` holds every step to ``evaluated``.
    """

    quote: str
    vendor: str
    lot: str
    complete: bool
    missing: tuple[str, ...]
    compliance: str
    quoted: Decimal
    quoted_currency: str
    corrected: Decimal
    converted: Decimal
    vat_adjusted: Decimal
    deviations: Decimal
    evaluated: Decimal
    trail: tuple[PriceStep, ...]
    technical_score: Decimal
    financial_score: Decimal | None
    combined_score: Decimal | None
    rank: int | None
    reason: str
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class LotResult:
    """Ranking and award of one lot."""

    lot: str
    name: str
    items: tuple[str, ...]
    offers: tuple[Offer, ...]
    award: str | None
    award_vendor: str | None
    award_note: str
    median: Decimal | None
    responsive_count: int
    notes: tuple[str, ...]
    received_count: int = 0
    compliant_count: int = 0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The whole result; serialised canonically by :mod:`kape_itops.quotes.report`."""

    rfq: str
    title: str
    spec_id: str
    spec_version: str
    spec_title: str
    method: str
    weights: tuple[int, int] | None
    currency: str
    evaluation_date: dt.date
    rate: str | None
    vat_rate: Decimal
    vat_basis: str
    arithmetic: str
    required_quotes: int
    award_mode: str
    tie_breaks: tuple[str, ...]
    requirements: tuple[dict[str, str], ...]
    vendors: tuple[VendorResult, ...]
    lots: tuple[LotResult, ...]
    notes: tuple[str, ...]
    audit: dict[str, object] = field(default_factory=dict)
    rate_source: str | None = None
    blank_mandatory: str = "fail"
