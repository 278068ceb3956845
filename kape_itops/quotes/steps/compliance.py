"""Step 5, compliance per requirement: pass, fail or cannot verify, with the values compared.

A mandatory requirement is a gate; a desirable one earns technical points when met, and its
money value prices the deviation when not. A value that cannot be read is never a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache

from kape_itops.quotes.comparison import compare, explain
from kape_itops.quotes.cpu import CpuTable, compare_cpu
from kape_itops.quotes.khmer import has_khmer, latinise
from kape_itops.quotes.readers import QuoteLine
from kape_itops.quotes.result import FAIL, PASS, UNVERIFIED, RequirementCheck
from kape_itops.quotes.rfq import Lot, Rate, Rfq, RfqLine
from kape_itops.quotes.rules import is_blank, is_placeholder, omitted_reason
from kape_itops.quotes.spec import Requirement, Spec
from kape_itops.quotes.steps.pricing import convert
from kape_itops.quotes.trail import CENT, money
from kape_itops.quotes.units import UnitError, parse_bool, parse_quantity

__all__ = ["check_line", "check_requirement", "lot_verdict", "technical_score"]


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
) -> RequirementCheck:
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
    return RequirementCheck(req.id, line.item, status, value, reason, points, deviation)


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


def check_line(
    line: QuoteLine, rl: RfqLine, spec: Spec, cpus: CpuTable, rfq: Rfq, rate: Rate | None
) -> list[RequirementCheck]:
    """Every requirement of ``spec`` on one technical line, deviations priced in the RFQ's
    currency at the stated rate."""
    checks: list[RequirementCheck] = []
    for req in spec.requirements:
        c = check_requirement(req, line, cpus, rl.quantity, rfq.blank_mandatory)
        if c.deviation:
            dev = money(convert(c.deviation, spec.currency, rfq.currency, rate))
            c = RequirementCheck(c.requirement, c.item, c.status, c.value, c.reason, c.points, dev)
        checks.append(c)
    return checks


def lot_verdict(
    checks: Sequence[RequirementCheck], reqs: Mapping[str, Requirement]
) -> tuple[str, list[str], list[str]]:
    """(compliance, mandatory requirements failed, mandatory requirements unverified) of one
    offer from the checks of its lot's lines: any failure fails, else any doubt is unverified."""
    failed = sorted(
        {c.requirement for c in checks if reqs[c.requirement].mandatory and c.status == FAIL}
    )
    unverified = sorted(
        {c.requirement for c in checks if reqs[c.requirement].mandatory and c.status == UNVERIFIED}
    )
    compliance = FAIL if failed else UNVERIFIED if unverified else PASS
    return compliance, failed, unverified


def technical_score(
    checks: Sequence[RequirementCheck], lot: Lot, quoted: Mapping[str, QuoteLine], spec: Spec
) -> Decimal:
    """Points earned as a share of the points available on the lot's quoted technical lines."""
    tech_lines = [ln for ln in lot.lines if ln.technical and ln.item in quoted]
    total_weight = spec.total_weight
    if tech_lines and total_weight:
        points = sum((c.points for c in checks), Decimal(0))
        return (Decimal(100) * points / (total_weight * len(tech_lines))).quantize(CENT)
    return Decimal("100.00")
