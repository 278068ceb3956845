"""Evaluation reports: canonical JSON, a render-neutral model, HTML, Markdown and XLSX.

The canonical JSON (sorted keys, no clock time) is what is hashed and stored: the same inputs give
byte-identical JSON. HTML is rendered by Jinja2 with autoescape and inline CSS; XLSX cells are
neutralised against formula injection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment

from kape_itops.atomic import save_workbook, write_text
from kape_itops.domain.text import reveal, reveal_json, reveal_value
from kape_itops.errors import UsageError
from kape_itops.inventory.sanitize import safe_cell
from kape_itops.quotes.audit import sha256_bytes
from kape_itops.quotes.evaluate import FAIL, PASS, Check, Evaluation, LotResult, Offer
from kape_itops.quotes.khmer import LANGS, bilingual
from kape_itops.quotes.rules import blank_rule, quotation_counts, rate_note
from kape_itops.quotes.trail import OP_WORDS

__all__ = [
    "SYMBOLS",
    "Cell",
    "Matrix",
    "MatrixRow",
    "canonical_dumps",
    "canonical_json",
    "decisive",
    "deviations",
    "header_notes",
    "jsonable",
    "lot_counts",
    "matrices",
    "render_html",
    "render_markdown",
    "result_sha256",
    "write_report",
    "write_xlsx",
]

SYMBOLS = {PASS: "✓", FAIL: "✗"}
UNVERIFIED_SYMBOL = "?"


def symbol(status: str) -> str:
    """✓ pass, ✗ fail, ? cannot verify."""
    return SYMBOLS.get(status, UNVERIFIED_SYMBOL)


_FIELDS: dict[type, tuple[tuple[str, int], ...]] = {}


def _names(value: Any) -> tuple[tuple[str, int], ...] | None:
    """(field, position) pairs of a dataclass or named tuple, sorted by field name; cached."""
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None:
        if hasattr(kind, "_fields") and isinstance(value, tuple):
            fields = list(kind._fields)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [f.name for f in dataclasses.fields(value)]
        else:
            return None
        names = _FIELDS[kind] = tuple(sorted((n, i) for i, n in enumerate(fields)))
    return names


def jsonable(value: Any) -> Any:
    """Plain JSON values with every object's keys in sorted order.

    Dataclasses and named tuples become objects, decimals strings, dates ISO text. Keys come out
    sorted, so the canonical encoder needs no ``sort_keys`` pass.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is Decimal:
        return str(value)
    names = _FIELDS.get(kind) or _names(value)
    if names is not None:
        if isinstance(value, tuple):
            return {
                n: v if type(v) is str else str(v) if type(v) is Decimal else jsonable(v)
                for n, i in names
                for v in (value[i],)
            }
        return {n: jsonable(getattr(value, n)) for n, _ in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return (
            {k: jsonable(value[k]) for k in sorted(value, key=str)}
            if all(type(k) is str for k in value)
            else {str(k): jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        )
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def canonical_json(evaluation: Evaluation) -> str:
    """Sorted keys, compact separators, UTF-8 text, one trailing newline; no clock time."""
    dumped = json.dumps(jsonable(evaluation), ensure_ascii=False, separators=(",", ":"))
    return reveal_json(dumped) + "\n"


def canonical_dumps(data: Any) -> str:
    """The canonical text of plain JSON data (also used to compare with a pretty golden file)."""
    dumped = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return reveal_json(dumped) + "\n"


def result_sha256(evaluation: Evaluation) -> str:
    """SHA-256 of the canonical JSON."""
    return sha256_bytes(canonical_json(evaluation).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Cell:
    """One requirement × vendor cell."""

    value: str
    status: str
    reason: str

    @property
    def symbol(self) -> str:
        """✓, ✗ or ?."""
        return symbol(self.status)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One requirement across vendors."""

    id: str
    label: str
    rule: str
    level: str
    cells: tuple[Cell | None, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    """The comparison matrix of one technical item."""

    item: str
    vendors: tuple[str, ...]
    rows: tuple[MatrixRow, ...]


def matrices(ev: Evaluation) -> list[Matrix]:
    """A requirement × vendor matrix per technical item quoted by anyone."""
    items: list[str] = []
    for v in ev.vendors:
        for c in v.checks:
            if c.item not in items:
                items.append(c.item)
    out: list[Matrix] = []
    for item in items:
        by_vendor: list[dict[str, Check]] = [
            {c.requirement: c for c in v.checks if c.item == item} for v in ev.vendors
        ]
        rows = []
        for r in ev.requirements:
            cells = tuple(
                Cell(hit.value, hit.status, hit.reason) if (hit := checks.get(r["id"])) else None
                for checks in by_vendor
            )
            rows.append(MatrixRow(r["id"], r["label"], r["rule"], r["level"], cells))
        out.append(Matrix(item, tuple(v.vendor for v in ev.vendors), tuple(rows)))
    return out


def deviations(ev: Evaluation) -> dict[str, list[str]]:
    """Every deviation per quotation: flags, corrections, failed and unverified requirements."""
    labels = {r["id"]: r["label"] for r in ev.requirements}
    levels = {r["id"]: r["level"] for r in ev.requirements}
    out: dict[str, list[str]] = {}
    for v in ev.vendors:
        found = [f"[{f.severity}] {f.message}" for f in v.flags]
        found += [
            f"[arithmetic] {c.item} row {c.row}: {c.note}" for c in v.corrections if c.changed
        ]
        for c in v.checks:
            if c.status == PASS:
                continue
            state = "fails" if c.status == FAIL else "cannot verify"
            price = f"; priced deviation {ev.currency} {c.deviation:,}" if c.deviation else ""
            found.append(
                f"[{levels[c.requirement]}] {c.item} {state} {c.requirement} "
                f"({labels[c.requirement]}): {c.reason}{price}"
            )
        for lot in ev.lots:
            for o in lot.offers:
                if o.quote == v.quote:
                    found += [f"[{f.severity}] lot {lot.lot}: {f.message}" for f in o.flags]
        out[v.quote] = found
    return out


def decisive(ev: Evaluation) -> dict[tuple[str, str], list[str]]:
    """Per (lot, quote) not ranked: the mandatory checks that kept it out, with their findings
    ("LT-1 cpu: Core i3-1215U index 185 < Ryzen 5 5500U index 215 …"), for the ranking table."""
    mandatory = {r["id"] for r in ev.requirements if r["level"] == "mandatory"}
    checks = {v.quote: v.checks for v in ev.vendors}
    out: dict[tuple[str, str], list[str]] = {}
    for lot in ev.lots:
        for o in lot.offers:
            if o.rank is not None:
                continue
            out[(lot.lot, o.quote)] = [
                f"{c.item} {c.requirement}: {c.reason}"
                for c in checks.get(o.quote, ())
                if c.item in lot.items and c.requirement in mandatory and c.status != PASS
            ]
    return out


def header_notes(ev: Evaluation) -> list[str]:
    """Notes on the whole evaluation: a rate without a source, then the evaluation's notes."""
    warning = rate_note(ev.rate, ev.rate_source)
    return ([warning] if warning else []) + list(ev.notes)


def lot_counts(ev: Evaluation, lot: LotResult) -> str:
    """The lot's quotation counts: "4 received, 2 responsive, 1 compliant (3 required)"."""
    return quotation_counts(
        lot.received_count, lot.responsive_count, lot.compliant_count, ev.required_quotes
    )


def audit_inputs(ev: Evaluation) -> list[dict[str, str]]:
    """The hashed input files of the audit block."""
    inputs = ev.audit.get("inputs", [])
    return [dict(i) for i in inputs] if isinstance(inputs, list) else []


def _env(lang: str = "en") -> Environment:
    env = Environment(autoescape=True, finalize=reveal_value, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda d: "" if d is None else f"{d:,}"
    env.filters["symbol"] = symbol
    env.filters["t"] = lambda label: bilingual(label, lang)
    return env


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
    return lang


def render_html(ev: Evaluation, lang: str = "en") -> str:
    """A self-contained HTML report (inline CSS, everything escaped); ``lang`` "en" or "en+km"
    (Khmer labels beside the English headings)."""
    text = (
        resources.files("kape_itops.quotes").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    template = _env(_lang(lang)).from_string(text)
    return template.render(
        ev=ev,
        matrices=matrices(ev),
        deviations=deviations(ev),
        decisive=decisive(ev),
        vendors={v.quote: v for v in ev.vendors},
        header_notes=header_notes(ev),
        blank_rule=blank_rule(ev.blank_mandatory),
        counts={lot.lot: lot_counts(ev, lot) for lot in ev.lots},
        json_sha256=result_sha256(ev),
    )


_RANK_HEADS = ("Rank", "Vendor", "Quote", "Quoted", "Evaluated", "Technical", "Combined", "Reason")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: object) -> str:
    """Escape Markdown (and inline HTML) in a vendor-supplied string; one line."""
    one_line = " ".join(str(text if text is not None else "").split())
    return _MD_SPECIAL.sub(r"\\\1", reveal(one_line, newlines=False))


def render_markdown(ev: Evaluation, lang: str = "en") -> str:
    """A Markdown report with the same content as the HTML one; ``lang`` as for HTML."""
    _lang(lang)

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


def _x(value: object) -> object:
    """A safe XLSX cell value."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, int | float):
        return value
    return safe_cell(str(value))


def _xlsx_trails(ev: Evaluation, ws: Any) -> None:
    """One row per price step; each amount is the previous amount (operation) operand."""
    ws.append(
        ["Lot", "Quote", "Vendor", "Step", "Label", "Op", "Operand", "Amount", "Currency", "How"]
    )
    for lot in ev.lots:
        for o in lot.offers:
            for n, s in enumerate(o.trail, 1):
                ws.append(
                    [
                        _x(v)
                        for v in (
                            lot.lot,
                            o.quote,
                            o.vendor,
                            n,
                            s.label,
                            OP_WORDS[s.op],
                            s.operand,
                            s.amount,
                            s.currency,
                            s.how,
                        )
                    ]
                )


def write_xlsx(ev: Evaluation, path: Path) -> None:
    """Sheets: Summary, Ranking, Price build-up, Matrix, Deviations, Arithmetic, Audit."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    rows: list[list[object]] = [
        ["RFQ", ev.rfq],
        ["Title", ev.title],
        ["Spec", f"{ev.spec_id} {ev.spec_version}"],
        ["Method", ev.method + (f" {ev.weights[0]}:{ev.weights[1]}" if ev.weights else "")],
        ["Evaluation date", ev.evaluation_date.isoformat()],
        ["Currency", ev.currency],
        ["Exchange rate", ev.rate or "none needed"],
        ["Rate source", (ev.rate_source or "source not stated") if ev.rate else "no rate used"],
        ["Blank mandatory answers", blank_rule(ev.blank_mandatory)],
        ["VAT", f"{ev.vat_rate}% VAT-{ev.vat_basis}"],
        ["Arithmetic", f"{ev.arithmetic} prevails"],
    ]
    rows += [["Note", n] for n in header_notes(ev)]
    for lot in ev.lots:
        rows += [
            [f"Lot {lot.lot}", lot.award_note],
            [f"Lot {lot.lot} quotations", lot_counts(ev, lot)],
        ]
    for summary in rows:
        ws.append([_x(v) for v in summary])
    rk = wb.create_sheet("Ranking")
    rk.append(
        [
            "Lot",
            "Rank",
            "Vendor",
            "Quote",
            "Quoted",
            "Currency",
            "Evaluated",
            "Deviations",
            "Technical",
            "Financial",
            "Combined",
            "Compliance",
            "Reason",
        ]
    )
    for lot in ev.lots:
        for o in lot.offers:
            rk.append(
                [
                    _x(v)
                    for v in (
                        lot.lot,
                        o.rank,
                        o.vendor,
                        o.quote,
                        o.quoted,
                        o.quoted_currency,
                        o.evaluated,
                        o.deviations,
                        o.technical_score,
                        o.financial_score,
                        o.combined_score,
                        o.compliance,
                        o.reason,
                    )
                ]
            )
    _xlsx_trails(ev, wb.create_sheet("Price build-up"))
    mx = wb.create_sheet("Matrix")
    for m in matrices(ev):
        mx.append([_x(f"Item {m.item}")])
        mx.append(["Requirement", "Rule", "Level", *[_x(v) for v in m.vendors]])
        for r in m.rows:
            mx.append(
                [
                    _x(r.label),
                    _x(r.rule),
                    r.level,
                    *[_x(f"{c.value} {c.symbol}\n{c.reason}") if c else None for c in r.cells],
                ]
            )
        mx.append([])
    dv = wb.create_sheet("Deviations")
    dv.append(["Quote", "Deviation"])
    for quote, items in deviations(ev).items():
        for i in items:
            dv.append([_x(quote), _x(i)])
    ar = wb.create_sheet("Arithmetic")
    ar.append(
        [
            "Quote",
            "Item",
            "Row",
            "Quantity",
            "Unit price",
            "Quoted total",
            "Computed",
            "Corrected",
            "Changed",
            "Note",
        ]
    )
    for v in ev.vendors:
        for c in v.corrections:
            ar.append(
                [
                    _x(x)
                    for x in (
                        v.quote,
                        c.item,
                        c.row,
                        c.quantity,
                        c.unit_price,
                        c.quoted_total,
                        c.computed_total,
                        c.corrected_total,
                        "yes" if c.changed else "no",
                        c.note,
                    )
                ]
            )
    au = wb.create_sheet("Audit")
    au.append(["Role", "File", "SHA-256"])
    for inp in audit_inputs(ev):
        au.append([_x(inp["role"]), _x(inp["name"]), _x(inp["sha256"])])
    for key in (
        "evaluator",
        "tool_version",
        "method",
        "weights",
        "rate",
        "rate_source",
        "vat",
        "blank_mandatory",
    ):
        au.append([key, _x(ev.audit.get(key))])
    au.append(["result_sha256", result_sha256(ev)])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    save_workbook(wb, path)


def write_report(ev: Evaluation, path: Path, lang: str = "en") -> None:
    """Write HTML, Markdown or XLSX by the file's suffix; ``lang`` "en+km" adds Khmer labels
    beside the English headings of HTML and Markdown."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        write_text(path, render_html(ev, lang))
    elif suffix == ".md":
        write_text(path, render_markdown(ev, lang))
    elif suffix == ".xlsx":
        write_xlsx(ev, path)
    elif suffix == ".json":
        write_text(path, canonical_json(ev))
    else:
        raise UsageError(f"report {path}: use .html, .md, .xlsx or .json")
