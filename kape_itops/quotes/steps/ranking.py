"""Step 7, ranking: lowest evaluated price, or QCBS (Sf = 100 × Fmin / F, weighted with the
technical score); ties broken by the spec's declared rules, which the reasons name. Offers that
cannot be ranked say why.
"""

from __future__ import annotations

from decimal import Decimal

from kape_itops.quotes.result import FAIL, REJECT
from kape_itops.quotes.rules import NOT_OFFERED
from kape_itops.quotes.spec import Spec
from kape_itops.quotes.steps.state import Draft
from kape_itops.quotes.trail import CENT
from kape_itops.quotes.units import UnitError, parse_quantity

__all__ = ["rank_lot", "tie_value"]


def _hours(text: str, unit: str) -> float | None:
    try:
        return parse_quantity(text, unit).value
    except UnitError:
        return None


def tie_value(d: Draft, rule: str) -> tuple[object, str]:
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


def rank_lot(
    drafts: list[Draft],
    spec: Spec,
    method: str,
    weights: tuple[int, int],
    currency: str,
    min_technical: Decimal = Decimal(0),
) -> None:
    """Rank the eligible offers of one lot (``rank`` and ``reason`` set on each draft)."""
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

    def primary(d: Draft) -> Decimal:
        return -(d.combined or Decimal(0)) if method == "qcbs" else d.evaluated

    def key(d: Draft) -> tuple[object, ...]:
        return (primary(d), *(tie_value(d, r)[0] for r in spec.tie_breaks), d.quote.q.name)

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
                a, b = tie_value(prev, rule), tie_value(d, rule)
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
    for d in drafts:
        if d.rank is None:
            d.reason = _not_ranked(d, spec, min_technical)


def _not_ranked(d: Draft, spec: Spec, min_technical: Decimal) -> str:
    """Why an offer has no rank: rejections, missing items, mandatory failures and doubts."""
    reqs = {r.id: r for r in spec.requirements}
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
    return "not ranked: " + " | ".join(why)
