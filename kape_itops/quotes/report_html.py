"""The HTML report: one self-contained page (inline CSS, every value escaped by Jinja2)."""

from __future__ import annotations

from importlib import resources

from jinja2 import Environment

from kape_itops.domain.text import reveal_value
from kape_itops.fonts import embed_font
from kape_itops.quotes.khmer import bilingual
from kape_itops.quotes.report import (
    check_lang,
    decisive,
    deviations,
    header_notes,
    lot_counts,
    matrices,
    result_sha256,
    symbol,
)
from kape_itops.quotes.result import Evaluation
from kape_itops.quotes.rules import blank_rule

__all__ = ["render_html", "report_context"]


def _env(lang: str = "en") -> Environment:
    env = Environment(autoescape=True, finalize=reveal_value, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda d: "" if d is None else f"{d:,}"
    env.filters["symbol"] = symbol
    env.filters["t"] = lambda label: bilingual(label, lang)
    return env


def render_html(ev: Evaluation, lang: str = "en") -> str:
    """A self-contained HTML report (inline CSS, everything escaped); ``lang`` "en" or "en+km"
    (Khmer labels beside the English headings)."""
    text = (
        resources.files("kape_itops.quotes").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    template = _env(check_lang(lang)).from_string(text)
    return embed_font(template.render(**report_context(ev)))  # Khmer drawn on any machine


def report_context(ev: Evaluation) -> dict[str, object]:
    """What the report shows, for any template (the web page of an evaluation renders it too)."""
    return {
        "ev": ev,
        "matrices": matrices(ev),
        "deviations": deviations(ev),
        "decisive": decisive(ev),
        "vendors": {v.quote: v for v in ev.vendors},
        "header_notes": header_notes(ev),
        "blank_rule": blank_rule(ev.blank_mandatory),
        "counts": {lot.lot: lot_counts(ev, lot) for lot in ev.lots},
        "json_sha256": result_sha256(ev),
    }
