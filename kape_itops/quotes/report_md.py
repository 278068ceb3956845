"""The Markdown report: the same content as the HTML one, vendor text escaped."""

from __future__ import annotations

import re

from kape_itops.domain.text import reveal
from kape_itops.quotes.khmer import bilingual
from kape_itops.quotes.report import (
    audit_inputs,
    check_lang,
    deviations,
    header_notes,
    lot_counts,
    matrices,
    result_sha256,
)
from kape_itops.quotes.result import Evaluation, Offer
from kape_itops.quotes.rules import blank_rule

__all__ = ["md", "render_markdown"]

_RANK_HEADS = ("Rank", "Vendor", "Quote", "Quoted", "Evaluated", "Technical", "Combined", "Reason")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: object) -> str:
    """Escape Markdown (and inline HTML) in a vendor-supplied string; one line."""
    one_line = " ".join(str(text if text is not None else "").split())
    return _MD_SPECIAL.sub(r"\\\1", reveal(one_line, newlines=False))


def render_markdown(ev: Evaluation, lang: str = "en") -> str:
    """A Markdown report with the same content as the HTML one; ``lang`` as for HTML."""
    check_lang(lang)

    def t(label: str) -> str:
        return bilingual(label, lang)

    out: list[str] = [
        f"# {t('Quotation evaluation')} — {md(ev.rfq)}",
        "",
        f"{md(ev.title)}",
        "",
        f"- {t('Spec')}: {md(ev.spec_id)} version {md(ev.spec_version)} — {md(ev.spec_title)}",
        f"- {t('Method')}: {ev.method}"
        + (f" (weights {ev.weights[0]}:{ev.weights[1]})" if ev.weights else ""),
        f"- {t('Evaluation date')}: {ev.evaluation_date.isoformat()}; currency {ev.currency}",
        f"- {t('Exchange rate')}: {md(ev.rate or 'none needed')}",
        f"- Blank mandatory answers: {md(blank_rule(ev.blank_mandatory))}",
        f"- {t('VAT')}: {ev.vat_rate}% on a VAT-{ev.vat_basis} basis; arithmetic: "
        f"{ev.arithmetic} prevails",
        f"- {t('Award')}: per {ev.award_mode}; tie-breaks: {', '.join(ev.tie_breaks) or 'none'}",
        "",
    ]
    for note in header_notes(ev):
        out.append(f"> **Note:** {md(note)}")
    for lot in ev.lots:
        out += ["", f"## {t('Lot')} {md(lot.lot)} — {md(lot.name)}", ""]
        out += [f"**{md(lot.award_note)}**", ""]
        out += [f"Quotations: {lot_counts(ev, lot)}", ""]
        out += [f"> {md(n)}" for n in lot.notes]
        named = [t(h) + (f" ({ev.currency})" if h == "Evaluated" else "") for h in _RANK_HEADS]
        out += ["| " + " | ".join(named) + " |", "|---|---|---|---:|---:|---:|---:|---|"]
        for o in lot.offers:
            out.append(
                f"| {o.rank or '—'} | {md(o.vendor)} | {md(o.quote)} | "
                f"{o.quoted_currency} {o.quoted:,} | "
                f"{f'{o.evaluated:,}' if o.complete else 'incomplete'} | "
                f"{o.technical_score} | {o.combined_score if o.combined_score is not None else ''} | "
                f"{md(o.reason)} |"
            )
        out += _md_trails(lot.lot, lot.offers)
    for m in matrices(ev):
        out += ["", f"## {t('Comparison matrix')} — {t('item')} {md(m.item)}", ""]
        heads = [t("Requirement"), t("Rule"), *(md(v) for v in m.vendors)]
        out.append("| " + " | ".join(heads) + " |")
        out.append("|---|---|" + "---|" * len(m.vendors))
        for r in m.rows:
            cells = [
                f"{md(c.value) or '—'} {c.symbol} — {md(c.reason)}" if c else "" for c in r.cells
            ]
            level = "M" if r.level == "mandatory" else "D"
            out.append(f"| {md(r.label)} ({level}) | {md(r.rule)} | " + " | ".join(cells) + " |")
    out += ["", f"## {t('Deviations per vendor')}", ""]
    for quote, items in deviations(ev).items():
        vendor = next(v.vendor for v in ev.vendors if v.quote == quote)
        out.append(f"### {md(vendor)} ({md(quote)})")
        out += [f"- {md(i)}" for i in items] or ["- none"]
        out.append("")
    out += [f"## {t('Audit')}", "", f"| {t('Input')} | {t('File')} | SHA-256 |", "|---|---|---|"]
    for inp in audit_inputs(ev):
        out.append(f"| {md(inp['role'])} | {md(inp['name'])} | `{inp['sha256']}` |")
    out += [
        "",
        f"Evaluator: {md(ev.audit.get('evaluator'))}; tool kape-itops "
        f"{md(ev.audit.get('tool_version'))}; result SHA-256 `{result_sha256(ev)}`",
        "",
    ]
    return reveal("\n".join(out))


def _md_trails(lot: str, offers: tuple[Offer, ...]) -> list[str]:
    """Markdown: every step from the quoted total to the evaluated price, per offer."""
    out = ["", f"### Price build-up — lot {md(lot)}"]
    for o in offers:
        out += ["", f"**{md(o.vendor)}** ({md(o.quote)})" + ("" if o.complete else " — incomplete")]
        out += ["", "| Step | Operation | Amount | How |", "|---|---:|---:|---|"]
        out += [
            f"| {md(s.label)} | {md(s.operation)} | {s.currency} {s.amount:,} | {md(s.how)} |"
            for s in o.trail
        ]
    return out
