"""Quotation evaluation, pure: no I/O, same inputs -> same result.

Steps, as in World Bank / UNDP RFQ evaluation: responsiveness (validity, deadline, duplicate
vendors, complete lots) -> arithmetic check and correction -> conversion to one currency at the
stated, dated rate -> VAT on one basis -> compliance per requirement (mandatory: pass / fail /
cannot verify; desirable: points and priced deviations) -> ranking by lowest evaluated price or
QCBS, with the spec's tie-break rules -> award per lot. Abnormally low prices are flagged for
clarification, never rejected.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from kape_itops.errors import DataError
from kape_itops.quotes.cpu import CpuTable, compare_cpu
from kape_itops.quotes.khmer import ascii_digits, clean, has_khmer, latinise
from kape_itops.quotes.readers import Quotation, QuoteLine
from kape_itops.quotes.rfq import Lot, Rate, Rfq
from kape_itops.quotes.rules import (
    NOT_OFFERED,
    award_short,
    is_blank,
    is_placeholder,
    omitted_reason,
    quotation_counts,
)
from kape_itops.quotes.spec import Requirement, Spec
from kape_itops.quotes.trail import CENT, LinePrice, PricedDeviation, PriceStep, money, price_trail
from kape_itops.quotes.units import UnitError, compare, explain, parse_bool, parse_quantity

__all__ = [
    "Check",
    "Correction",
    "Evaluation",
    "Flag",
    "LotResult",
    "Offer",
    "Options",
    "Parameters",
    "PriceStep",
    "VendorResult",
    "check_requirement",
    "evaluate",
    "parameters",
]

PASS, FAIL, UNVERIFIED = "pass", "fail", "unverified"
REJECT, WARN, INFO = "reject", "warn", "info"


@dataclass(frozen=True, slots=True)
class Options:
    """Choices that override the RFQ file (from the command line)."""

    method: str | None = None
    weights: tuple[int, int] | None = None
    rate: Rate | None = None
    vat_rate: Decimal | None = None
    arithmetic: str | None = None
    evaluation_date: dt.date | None = None


class Check(NamedTuple):
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
    checks: tuple[Check, ...]


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


# ---------------------------------------------------------------- compliance


def _tokens(text: str) -> str:
    low = latinise(str(text)).lower().replace("-", " ").replace("_", " ")
    return " ".join(re.findall(r"[a-z0-9.+/]+", low))


def _has(actual: str, option: str) -> bool:
    act, opt = _tokens(actual), _tokens(option)
    if not opt:
        return False
    for needle in (opt, opt.replace(" ", "")):
        if re.search(r"(?<![a-z0-9])" + re.escape(needle) + r"(?![a-z0-9])", act):
            return True
    return False


def check_requirement(
    req: Requirement, line: QuoteLine, cpus: CpuTable, qty: Decimal, blank: str = "fail"
) -> Check:
    """Check ``req`` on ``line``: pass, fail, or unverified ("cannot verify") with the reason.

    A blank answer is "not offered" (fail) unless ``blank`` is the RFQ's ``clarify`` rule and the
    requirement is mandatory; a placeholder answer ("TBA", "Generic") cannot be verified.
    """
    value = line.attributes.get(req.attribute, "").strip()
    if is_blank(value):
        failed, reason = omitted_reason(req.attribute, req.mandatory, blank)
        status = FAIL if failed else UNVERIFIED
    elif is_placeholder(value):
        status, reason = UNVERIFIED, f"'{value}' names nothing checkable (clarification needed)"
    else:
        status, reason = _judge(req, value, cpus)
    brand = line.brand_model.strip()
    if status == PASS and req.evidence and is_blank(brand):
        failed, why = omitted_reason("brand/model", req.mandatory, blank)
        status = FAIL if failed else UNVERIFIED
        reason = f"{why} (this requirement needs the product named as evidence); {reason}"
    elif status == PASS and req.evidence and is_placeholder(brand):
        status = UNVERIFIED
        reason = f"{reason}; brand/model '{brand}' names no product (evidence required)"
    points = req.weight if status == PASS and not req.mandatory else Decimal(0)
    deviation = money(req.money_value * qty) if status != PASS and not req.mandatory else Decimal(0)
    return Check(req.id, line.item, status, value, reason, points, deviation)


@lru_cache(maxsize=16384)
def _judge(req: Requirement, value: str, cpus: CpuTable) -> tuple[str, str]:
    """(status, reason) of one value against one requirement; pure, so cached."""
    if not value:
        return UNVERIFIED, f"'{req.attribute}' not stated"
    if req.kind == "boolean":
        flag = parse_bool(value)
        if flag is None:
            return UNVERIFIED, f"'{value}' is not a clear yes or no"
        said = "yes" if flag else "no"
        return (PASS if flag else FAIL), f"{value} = {said}" if has_khmer(value) else said
    if req.kind == "text":
        ok = (
            any(_tokens(value) == _tokens(o) for o in req.options)
            if req.operator == "=="
            else any(_has(value, o) for o in req.options)
        )
        shown = ("matches " if ok else "does not match ") + " | ".join(req.options)
        if has_khmer(value):
            shown = f"{value} = {latinise(value)}: {shown}"
        return (PASS if ok else FAIL), shown
    if req.kind == "cpu":
        match = cpus.lookup(value)
        if match.cpu is None:
            return UNVERIFIED, match.reason
        verdict = compare_cpu(match.cpu, req.cpus)
        return (PASS if verdict.ok else FAIL), verdict.reason
    assert req.reference is not None
    try:
        got = parse_quantity(value, req.unit)
        ok = compare(got, req.operator, req.reference)
    except UnitError as exc:
        return UNVERIFIED, f"cannot read: {exc}"
    why = explain(value, got, req.operator, ok, req.reference, req.unit)
    return (PASS if ok else FAIL), why


# ---------------------------------------------------------------- helpers


def vendor_key(q: Quotation) -> str:
    """Tax ID if given, else the vendor name without company suffixes and punctuation."""
    tax = re.sub(r"[^A-Z0-9]", "", ascii_digits(clean(q.tax_id)).upper())
    if tax:
        return "tax:" + tax
    name = re.sub(r"[^\w ]|_", " ", ascii_digits(clean(q.vendor)).casefold())
    words = [w for w in name.split() if w not in ("co", "ltd", "company", "limited", "plc", "the")]
    return "name:" + " ".join(words)


def _convert(amount: Decimal, currency: str, target: str, rate: Rate | None) -> Decimal:
    if currency == target:
        return amount
    assert rate is not None
    return amount / rate.per_usd if target == "USD" else amount * rate.per_usd


def _hours(text: str, unit: str) -> float | None:
    try:
        return parse_quantity(text, unit).value
    except UnitError:
        return None


@dataclass
class _Quote:
    q: Quotation
    flags: list[Flag]
    corrections: list[Correction]
    checks: list[Check]
    lines: dict[str, QuoteLine]
    rejected: bool = False


def _prepare(
    q: Quotation,
    rfq: Rfq,
    spec: Spec,
    cpus: CpuTable,
    policy: str,
    rate: Rate | None,
    vat_rate: Decimal,
    when: dt.date,
) -> _Quote:
    flags: list[Flag] = []
    if q.valid_until < when:
        flags.append(
            Flag(
                "expired",
                REJECT,
                f"quotation expired: valid until {q.valid_until.isoformat()}, "
                f"evaluation on {when.isoformat()}",
            )
        )
    if rfq.submission_deadline and q.quote_date > rfq.submission_deadline:
        flags.append(
            Flag(
                "late",
                REJECT,
                f"quotation dated {q.quote_date.isoformat()}, after the submission deadline "
                f"{rfq.submission_deadline.isoformat()}",
            )
        )
    if q.rfq and q.rfq.strip() != rfq.id:
        flags.append(Flag("rfq_reference", WARN, f"quotes RFQ '{q.rfq}', not '{rfq.id}'"))
    if (
        q.currency != rfq.currency
        and rate is not None
        and q.stated_rate is not None
        and q.stated_rate != rate.per_usd
    ):
        flags.append(
            Flag(
                "vendor_rate",
                INFO,
                f"vendor states 1 USD = {q.stated_rate:,} {rate.currency}; "
                f"the evaluation uses the stated RFQ rate {rate}",
            )
        )
    if q.vat_inclusive != (rfq.vat_basis == "inclusive"):
        direction = "removed from" if q.vat_inclusive else "added to"
        flags.append(
            Flag(
                "vat",
                INFO,
                f"prices {'include' if q.vat_inclusive else 'exclude'} VAT; {vat_rate}% VAT "
                f"{direction} every price to compare on a VAT-{rfq.vat_basis} basis",
            )
        )
    wanted = {ln.item: ln for ln in rfq.lines}
    lines: dict[str, QuoteLine] = {}
    for line in q.lines:
        if line.item in lines:
            flags.append(
                Flag(
                    "duplicate_line",
                    WARN,
                    f"item {line.item} quoted twice (row {line.row} ignored)",
                )
            )
            continue
        if line.item not in wanted:
            flags.append(
                Flag(
                    "extra_item",
                    INFO,
                    f"item {line.item} (row {line.row}) is not in the RFQ; ignored",
                )
            )
            continue
        lines[line.item] = line
    for item in q.unpriced:
        if item in wanted and item not in lines:
            flags.append(Flag("unpriced", WARN, f"item {item} listed without a unit price"))
    corrections: list[Correction] = []
    checks: list[Check] = []
    for item, line in lines.items():
        rl = wanted[item]
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
        corrections.append(
            Correction(
                item,
                line.row,
                line.quantity,
                line.unit_price,
                line.line_total,
                computed,
                corrected,
                changed,
                note,
            )
        )
        if rl.technical:
            for req in spec.requirements:
                c = check_requirement(req, line, cpus, rl.quantity, rfq.blank_mandatory)
                if c.deviation:
                    dev = money(_convert(c.deviation, spec.currency, rfq.currency, rate))
                    c = Check(c.requirement, c.item, c.status, c.value, c.reason, c.points, dev)
                checks.append(c)
    return _Quote(q, flags, corrections, checks, lines)


# ---------------------------------------------------------------- ranking


@dataclass
class _Draft:
    quote: _Quote
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
        return self.responsive and self.compliance == PASS

    @property
    def responsive(self) -> bool:
        return not self.quote.rejected and not self.missing


def _priced(c: Check, req: Requirement, qty: Decimal, spec: Spec, rfq: Rfq) -> PricedDeviation:
    """A priced deviation with the arithmetic that gives it (money value × RFQ quantity)."""
    value = req.money_value if req.money_value != money(req.money_value) else money(req.money_value)
    raw = money(value * qty)
    how = f"{spec.currency} {value:,} × {qty} = {spec.currency} {raw:,}"
    if spec.currency != rfq.currency:
        how += f", at the stated rate = {rfq.currency} {c.deviation:,}"
    state = "fails" if c.status == FAIL else "cannot verify"
    how += f": {c.item} {state} desirable {req.id} ({req.label}): {c.reason}"
    return PricedDeviation(f"Deviation {req.id} ({c.item})", c.deviation, how)


def _price(
    qt: _Quote, lot: Lot, spec: Spec, rfq: Rfq, rate: Rate | None, vat: Decimal
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
        _priced(c, reqs[c.requirement], items[c.item].quantity, spec, rfq)
        for c in qt.checks
        if c.item in items and c.deviation
    ]
    return price_trail(
        lines, qt.q.currency, rfq.currency, rate, vat, qt.q.vat_inclusive, rfq.vat_basis, devs
    )


def _draft(
    qt: _Quote, lot: Lot, spec: Spec, rfq: Rfq, rate: Rate | None, vat_rate: Decimal
) -> _Draft:
    missing = [ln.item for ln in lot.lines if ln.item not in qt.lines]
    items = {ln.item for ln in lot.lines}
    checks = [c for c in qt.checks if c.item in items]
    reqs = {r.id: r for r in spec.requirements}
    failed = sorted(
        {c.requirement for c in checks if reqs[c.requirement].mandatory and c.status == FAIL}
    )
    unverified = sorted(
        {c.requirement for c in checks if reqs[c.requirement].mandatory and c.status == UNVERIFIED}
    )
    compliance = FAIL if failed else UNVERIFIED if unverified else PASS
    tech_lines = [ln for ln in lot.lines if ln.technical and ln.item in qt.lines]
    total_weight = spec.total_weight
    if tech_lines and total_weight:
        points = sum((c.points for c in checks), Decimal(0))
        technical = (Decimal(100) * points / (total_weight * len(tech_lines))).quantize(CENT)
    else:
        technical = Decimal("100.00")
    trail = _price(qt, lot, spec, rfq, rate, vat_rate)
    flags = (
        [
            Flag(
                "missing_item",
                REJECT,
                f"missing item(s) {', '.join(missing)} of lot {lot.id}",
                lot.id,
            )
        ]
        if missing
        else []
    )
    return _Draft(
        quote=qt,
        lot=lot,
        missing=missing,
        compliance=compliance,
        failed=failed,
        unverified=unverified,
        quoted=trail[0].amount,
        corrected=trail[1].amount,
        converted=trail[2].amount,
        vat_adjusted=trail[3].amount,
        deviations=trail[-1].amount - trail[3].amount,
        evaluated=trail[-1].amount,
        trail=trail,
        technical=technical,
        flags=flags,
    )


def _tie_value(d: _Draft, rule: str) -> tuple[object, str]:
    """(sort key, shown value) for one tie-break rule; unknown values sort last."""
    lines = [d.quote.lines[ln.item] for ln in d.lot.lines if ln.item in d.quote.lines]
    if rule == "technical_score":
        return -d.technical, f"technical score {d.technical}"
    if rule == "delivery_days":
        days = [h for ln in lines if (h := _hours(ln.attributes.get("delivery_days", ""), "days"))]
        if not days:
            return float("inf"), "delivery not stated"
        return max(days), f"delivery {max(days) / 24:g} days"
    if rule == "warranty":
        tech = {ln.item for ln in d.lot.lines if ln.technical}
        scope = [ln for ln in lines if ln.item in tech] or lines
        held = [h for ln in scope if (h := _hours(ln.attributes.get("warranty", ""), "months"))]
        if not held:
            return float("inf"), "warranty not readable"
        return -min(held), f"warranty {min(held) / 730.5:g} months"
    if rule == "quote_date":
        return d.quote.q.quote_date.toordinal(), f"quoted on {d.quote.q.quote_date.isoformat()}"
    return d.quote.q.vendor.casefold(), f"vendor name '{d.quote.q.vendor}'"


def _rank_lot(
    drafts: list[_Draft],
    spec: Spec,
    method: str,
    weights: tuple[int, int],
    currency: str,
    min_technical: Decimal = Decimal(0),
) -> None:
    eligible = [d for d in drafts if d.eligible]
    if method == "qcbs" and min_technical:
        for d in eligible:
            if d.technical < min_technical:
                d.below_minimum = True
        eligible = [d for d in eligible if not d.below_minimum]
    if method == "qcbs" and eligible:
        fmin = min(d.evaluated for d in eligible)
        wt, wf = Decimal(weights[0]), Decimal(weights[1])
        for d in eligible:
            d.financial = (
                (Decimal(100) * fmin / d.evaluated).quantize(CENT) if d.evaluated else Decimal(100)
            )
            d.combined = ((wt * d.technical + wf * d.financial) / 100).quantize(CENT)

    def primary(d: _Draft) -> Decimal:
        return -(d.combined or Decimal(0)) if method == "qcbs" else d.evaluated

    def key(d: _Draft) -> tuple[object, ...]:
        return (primary(d), *(_tie_value(d, r)[0] for r in spec.tie_breaks), d.quote.q.name)

    ordered = sorted(eligible, key=key)
    for i, d in enumerate(ordered):
        d.rank = i + 1
        if method == "qcbs":
            what = f"combined score {d.combined} (technical {d.technical}, financial {d.financial})"
        else:
            what = f"evaluated price {currency} {d.evaluated:,}"
        if i == 0:
            lead = "highest combined score" if method == "qcbs" else "lowest evaluated price"
            d.reason = f"{lead} among {len(ordered)} responsive, compliant quotation(s): {what}"
        else:
            first = ordered[0]
            if method == "qcbs":
                assert first.combined is not None and d.combined is not None
                gap = f"{first.combined - d.combined} points below rank 1"
            else:
                diff = d.evaluated - first.evaluated
                pct = (
                    (Decimal(100) * diff / first.evaluated).quantize(Decimal("0.1"))
                    if first.evaluated
                    else Decimal(0)
                )
                gap = f"{currency} {diff:,} ({pct}%) above rank 1"
            d.reason = f"{what}, {gap}"
        prev = ordered[i - 1] if i else None
        if prev is not None and primary(prev) == primary(d):
            for rule in spec.tie_breaks:
                a, b = _tie_value(prev, rule), _tie_value(d, rule)
                if a[0] != b[0]:
                    note = (
                        f"tied with {prev.quote.q.vendor} on "
                        f"{'combined score' if method == 'qcbs' else 'evaluated price'}; "
                        f"placed after it by the spec's tie-break '{rule}' ({b[1]} vs {a[1]})"
                    )
                    prev.reason += (
                        f"; tie with {d.quote.q.vendor} broken by '{rule}' ({a[1]} vs {b[1]})"
                    )
                    break
            else:
                d.rank = prev.rank
                note = (
                    f"tied with {prev.quote.q.vendor}: the declared tie-break rules "
                    f"({', '.join(spec.tie_breaks) or 'none'}) do not separate them; decide and record why"
                )
            d.reason += "; " + note
    reqs = {r.id: r for r in spec.requirements}
    for d in drafts:
        if d.rank is not None:
            continue
        why: list[str] = []
        why += [f.message for f in d.quote.flags if f.severity == REJECT]
        if d.missing:
            why.append(f"missing item(s): {', '.join(d.missing)}")
        if d.failed:
            lot_items = {ln.item for ln in d.lot.lines}
            fails = [c for c in d.quote.checks if c.item in lot_items and c.status == FAIL]
            blank = {c.requirement for c in fails if c.reason.startswith(NOT_OFFERED)}
            other = {c.requirement for c in fails if not c.reason.startswith(NOT_OFFERED)}
            if blank & set(d.failed):
                why.append(
                    "mandatory not offered (left blank): "
                    + "; ".join(f"{r} ({reqs[r].label})" for r in d.failed if r in blank)
                )
            if other & set(d.failed):
                why.append(
                    "fails mandatory: "
                    + "; ".join(f"{r} ({reqs[r].label})" for r in d.failed if r in other)
                )
        if d.unverified:
            why.append(
                "cannot verify mandatory (clarification needed): "
                + "; ".join(f"{r} ({reqs[r].label})" for r in d.unverified)
            )
        if d.below_minimum:
            why.append(
                f"technical score {d.technical} is below the RFQ's minimum {min_technical} (QCBS)"
            )
        d.reason = "not ranked: " + " | ".join(why)


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
    method, weights, rate, vat_rate, policy, when = (
        prm.method,
        prm.weights,
        prm.rate,
        prm.vat_rate,
        prm.arithmetic,
        prm.evaluation_date,
    )
    quotes = sorted(quotations, key=lambda q: q.name)
    for q in quotes:
        if q.currency != rfq.currency and rate is None:
            raise DataError(
                f"{q.location}: quotation in {q.currency} but no exchange rate was stated; give "
                f"--rate 'KHR=4100@YYYY-MM-DD SOURCE' or a dated 'rate:' in {rfq.source} "
                "(never fetched)"
            )
    prepared = [_prepare(q, rfq, spec, cpus, policy, rate, vat_rate, when) for q in quotes]
    groups: dict[str, list[_Quote]] = {}
    for p in prepared:
        groups.setdefault(vendor_key(p.q), []).append(p)
    for members in groups.values():
        if len(members) > 1:
            names = ", ".join(m.q.name for m in members)
            for m in members:
                m.flags.append(
                    Flag(
                        "duplicate_vendor",
                        REJECT,
                        f"duplicate vendor: quotations {names} come from the same vendor "
                        f"({m.q.vendor}, tax ID {m.q.tax_id or 'not stated'}); one vendor, one "
                        "quotation — all are set aside",
                    )
                )
    for p in prepared:
        p.rejected = any(f.severity == REJECT for f in p.flags)
    lots: list[LotResult] = []
    notes: list[str] = []
    if len(quotes) < rfq.required_quotes:
        notes.append(
            f"only {len(quotes)} quotation(s) received; the RFQ requires {rfq.required_quotes}: "
            "record the justification or re-advertise"
        )
    for lot in rfq.lots:
        drafts = [_draft(p, lot, spec, rfq, rate, vat_rate) for p in prepared]
        responsive = [d for d in drafts if d.responsive]
        median = (
            money(Decimal(statistics.median([d.evaluated for d in responsive])))
            if responsive
            else None
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
        _rank_lot(drafts, spec, method, weights, rfq.currency, rfq.min_technical_score)
        lot_items = {ln.item for ln in lot.lines}
        received = sum(1 for p in prepared if lot_items & set(p.lines))
        compliant = sum(1 for d in drafts if d.rank is not None)
        lot_notes: list[str] = []
        if compliant < rfq.required_quotes:
            lot_notes.append(
                f"fewer than the required {rfq.required_quotes} compliant quotations — "
                f"{quotation_counts(received, len(responsive), compliant)}: "
                "record the justification or re-advertise"
            )
        offers = [_offer(d, rfq.currency) for d in drafts]
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
        lots.append(
            LotResult(
                lot=lot.id,
                name=lot.name,
                items=tuple(ln.item for ln in lot.lines),
                offers=tuple(offers),
                award=award,
                award_vendor=award_vendor,
                award_note=note,
                median=median,
                responsive_count=len(responsive),
                notes=tuple(lot_notes),
                received_count=received,
                compliant_count=compliant,
            )
        )
    vendors = tuple(
        VendorResult(
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
        for p in prepared
    )
    requirements = tuple(
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
    return Evaluation(
        rfq=rfq.id,
        title=rfq.title,
        spec_id=spec.id,
        spec_version=spec.version,
        spec_title=spec.title,
        method=method,
        weights=weights if method == "qcbs" else None,
        currency=rfq.currency,
        evaluation_date=when,
        rate=str(rate) if rate else None,
        vat_rate=vat_rate,
        vat_basis=rfq.vat_basis,
        arithmetic=policy,
        required_quotes=rfq.required_quotes,
        award_mode=rfq.award,
        tie_breaks=spec.tie_breaks,
        requirements=requirements,
        vendors=vendors,
        lots=tuple(lots),
        notes=tuple(notes),
        audit=dict(audit or {}),
        rate_source=(rate.source or None) if rate else None,
        blank_mandatory=rfq.blank_mandatory,
    )


def _offer(d: _Draft, currency: str) -> Offer:
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
