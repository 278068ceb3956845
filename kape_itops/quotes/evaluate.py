"""Quotation evaluation, pure: no I/O, same inputs -> same result.

Steps, as in World Bank / UNDP RFQ evaluation, each a module of :mod:`kape_itops.quotes.steps`:
responsiveness (validity, deadline, duplicate vendors, complete lots) -> arithmetic check and
correction -> conversion to one currency at the stated, dated rate -> VAT on one basis ->
compliance per requirement (mandatory: pass / fail / cannot verify; desirable: points and priced
deviations) -> flags (abnormally low prices are flagged for clarification, never rejected) ->
ranking by lowest evaluated price or QCBS, with the spec's tie-break rules -> award per lot.
This module runs the steps; the result types are in :mod:`kape_itops.quotes.result`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kape_itops.errors import DataError
from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.readers import Quotation
from kape_itops.quotes.result import Evaluation, LotResult, RequirementCheck, VendorResult
from kape_itops.quotes.rfq import Lot, Rate, Rfq
from kape_itops.quotes.spec import Spec
from kape_itops.quotes.steps import (
    arithmetic,
    award,
    compliance,
    flags,
    pricing,
    ranking,
    responsiveness,
)
from kape_itops.quotes.steps.state import Draft, Received

__all__ = ["Options", "Parameters", "evaluate", "parameters"]


@dataclass(frozen=True, slots=True)
class Options:
    """Choices that override the RFQ file (from the command line)."""

    method: str | None = None
    weights: tuple[int, int] | None = None
    rate: Rate | None = None
    vat_rate: Decimal | None = None
    arithmetic: str | None = None
    evaluation_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Parameters:
    """The settings an evaluation runs with, after command-line overrides of the RFQ."""

    method: str
    weights: tuple[int, int]
    rate: Rate | None
    vat_rate: Decimal
    arithmetic: str
    evaluation_date: dt.date


def parameters(rfq: Rfq, quotations: Sequence[Quotation], options: Options | None) -> Parameters:
    """Options override the RFQ; the evaluation date defaults to the latest quotation date."""
    opts = options or Options()
    return Parameters(
        method=opts.method or rfq.method,
        weights=opts.weights or rfq.weights,
        rate=opts.rate or rfq.rate,
        vat_rate=rfq.vat_rate if opts.vat_rate is None else opts.vat_rate,
        arithmetic=opts.arithmetic or rfq.arithmetic,
        evaluation_date=(
            opts.evaluation_date
            or rfq.evaluation_date
            or max((q.quote_date for q in quotations), default=dt.date(1970, 1, 1))
        ),
    )


def _receive(q: Quotation, rfq: Rfq, spec: Spec, cpus: CpuTable, prm: Parameters) -> Received:
    """Steps 1-5 for one quotation: flags on receipt, arithmetic and compliance per line."""
    found = (
        responsiveness.receipt_flags(q, rfq, prm.evaluation_date)
        + pricing.rate_flags(q, rfq, prm.rate)
        + pricing.vat_flags(q, rfq, prm.vat_rate)
    )
    lines, line_flags = responsiveness.select_lines(q, rfq)
    found += line_flags
    wanted = {ln.item: ln for ln in rfq.lines}
    corrections = []
    checks: list[RequirementCheck] = []
    for item, line in lines.items():
        rl = wanted[item]
        corrections.append(arithmetic.check_arithmetic(line, rl, prm.arithmetic))
        if rl.technical:
            checks += compliance.check_line(line, rl, spec, cpus, rfq, prm.rate)
    return Received(q, found, corrections, checks, lines)


def _draft(qt: Received, lot: Lot, spec: Spec, rfq: Rfq, prm: Parameters) -> Draft:
    """One quotation's offer for one lot: complete or not, compliant or not, priced."""
    missing, missing_flags = responsiveness.missing_items(qt, lot)
    items = {ln.item for ln in lot.lines}
    checks = [c for c in qt.checks if c.item in items]
    verdict, failed, unverified = compliance.lot_verdict(
        checks, {r.id: r for r in spec.requirements}
    )
    trail = pricing.lot_trail(qt, lot, spec, rfq, prm.rate, prm.vat_rate)
    return Draft(
        quote=qt,
        lot=lot,
        missing=missing,
        compliance=verdict,
        failed=failed,
        unverified=unverified,
        quoted=trail[0].amount,
        corrected=trail[1].amount,
        converted=trail[2].amount,
        vat_adjusted=trail[3].amount,
        deviations=trail[-1].amount - trail[3].amount,
        evaluated=trail[-1].amount,
        trail=trail,
        technical=compliance.technical_score(checks, lot, qt.lines, spec),
        flags=missing_flags,
    )


def _lot(received: list[Received], lot: Lot, spec: Spec, rfq: Rfq, prm: Parameters) -> LotResult:
    """Steps 6-7 for one lot: price every offer, flag, rank and award."""
    drafts = [_draft(p, lot, spec, rfq, prm) for p in received]
    responsive = [d for d in drafts if d.responsive]
    median = flags.flag_abnormally_low(responsive, rfq, lot)
    ranking.rank_lot(drafts, spec, prm.method, prm.weights, rfq.currency, rfq.min_technical_score)
    lot_items = {ln.item for ln in lot.lines}
    counts = (
        sum(1 for p in received if lot_items & set(p.lines)),
        len(responsive),
        sum(1 for d in drafts if d.rank is not None),
    )
    notes = flags.lot_notes(*counts, rfq)
    return award.award_lot(lot, drafts, rfq, median, counts, notes)


def _vendor(p: Received) -> VendorResult:
    return VendorResult(
        quote=p.q.name,
        vendor=p.q.vendor,
        tax_id=p.q.tax_id,
        quote_number=p.q.quote_number,
        quote_date=p.q.quote_date,
        valid_until=p.q.valid_until,
        currency=p.q.currency,
        vat_inclusive=p.q.vat_inclusive,
        stated_rate=p.q.stated_rate,
        responsive=not p.rejected,
        flags=tuple(p.flags),
        corrections=tuple(p.corrections),
        checks=tuple(p.checks),
    )


def _requirements(spec: Spec) -> tuple[dict[str, str], ...]:
    return tuple(
        {
            "id": r.id,
            "label": r.label,
            "attribute": r.attribute,
            "rule": r.shown,
            "level": r.level,
            "weight": str(r.weight),
            "money_value": str(r.money_value),
            "evidence": "yes" if r.evidence else "no",
        }
        for r in spec.requirements
    )


def evaluate(
    spec: Spec,
    rfq: Rfq,
    quotations: Sequence[Quotation],
    cpus: CpuTable,
    options: Options | None = None,
    audit: dict[str, object] | None = None,
) -> Evaluation:
    """Evaluate ``quotations`` for ``rfq`` against ``spec``; raises DataError for a missing rate."""
    if rfq.spec != spec.id:
        raise DataError(
            f"{rfq.source}: the RFQ uses spec '{rfq.spec}', but spec '{spec.id}' was given"
        )
    prm = parameters(rfq, quotations, options)
    rate = prm.rate
    quotes = sorted(quotations, key=lambda q: q.name)
    for q in quotes:
        if q.currency != rfq.currency and rate is None:
            raise DataError(
                f"{q.location}: quotation in {q.currency} but no exchange rate was stated; give "
                f"--rate 'KHR=4100@YYYY-MM-DD SOURCE' or a dated 'rate:' in {rfq.source} "
                "(never fetched)"
            )
    received = [_receive(q, rfq, spec, cpus, prm) for q in quotes]
    responsiveness.set_aside_duplicates(received)
    lots = [_lot(received, lot, spec, rfq, prm) for lot in rfq.lots]
    return Evaluation(
        rfq=rfq.id,
        title=rfq.title,
        spec_id=spec.id,
        spec_version=spec.version,
        spec_title=spec.title,
        method=prm.method,
        weights=prm.weights if prm.method == "qcbs" else None,
        currency=rfq.currency,
        evaluation_date=prm.evaluation_date,
        rate=str(rate) if rate else None,
        vat_rate=prm.vat_rate,
        vat_basis=rfq.vat_basis,
        arithmetic=prm.arithmetic,
        required_quotes=rfq.required_quotes,
        award_mode=rfq.award,
        tie_breaks=spec.tie_breaks,
        requirements=_requirements(spec),
        vendors=tuple(_vendor(p) for p in received),
        lots=tuple(lots),
        notes=tuple(flags.received_notes(len(quotes), rfq)),
        audit=dict(audit or {}),
        rate_source=(rate.source or None) if rate else None,
        blank_mandatory=rfq.blank_mandatory,
    )
