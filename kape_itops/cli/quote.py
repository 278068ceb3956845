"""``itops quote …``: score quotations, make a blank form, list and show stored evaluations."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from rich.table import Table

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.datafiles import data_folder
from kape_itops.domain.text import reveal_json
from kape_itops.errors import UsageError
from kape_itops.quotes.evaluate import Options
from kape_itops.quotes.report import (
    deviations,
    header_notes,
    lot_counts,
    matrices,
    symbol,
)
from kape_itops.quotes.report_files import write_report
from kape_itops.quotes.result import FAIL, PASS, Evaluation
from kape_itops.quotes.rfq import load_rfq, parse_rate, parse_weights
from kape_itops.quotes.rules import blank_rule
from kape_itops.quotes.service import find_spec, resolve_inputs, score
from kape_itops.quotes.spec import load_spec
from kape_itops.quotes.template import write_form
from kape_itops.reports import fmt

_COLOURS = {PASS: "green", FAIL: "red"}
_LANG = click.option(
    "--lang",
    type=click.Choice(["en", "km", "en+km"]),
    default="en",
    show_default=True,
    help="Labels: English, or Khmer beside English (km and en+km are the same).",
)


@click.group()
def quote() -> None:
    """Score vendor quotations against a spec template, transparently and auditably."""


def _options(
    method: str | None,
    weights: str | None,
    rate: str | None,
    vat: str | None,
    arithmetic: str | None,
    date: str | None,
) -> Options:
    try:
        vat_rate = Decimal(vat) if vat is not None else None
    except InvalidOperation as exc:
        raise UsageError(f"--vat '{vat}' is not a percentage") from exc
    if vat_rate is not None and not 0 <= vat_rate <= 100:
        raise UsageError(f"--vat {vat} must be between 0 and 100")
    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError as exc:
        raise UsageError(f"--date '{date}' is not YYYY-MM-DD") from exc
    return Options(
        method=method,
        weights=parse_weights(weights) if weights else None,
        rate=parse_rate(rate) if rate else None,
        vat_rate=vat_rate,
        arithmetic=arithmetic,
        evaluation_date=day,
    )


@quote.command("score")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--spec",
    "spec_file",
    metavar="ID|FILE",
    help="Spec template: an id (laptop) or a file [default: the RFQ's spec].",
)
@click.option(
    "--rfq",
    "rfq_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="rfq.yaml [default: in the RFQ folder or next to the files].",
)
@click.option(
    "--method",
    type=click.Choice(["lowest", "qcbs"]),
    help="Lowest evaluated compliant price, or QCBS [default: from the RFQ, else lowest].",
)
@click.option("--weights", metavar="TECH:FIN", help="QCBS weights, e.g. 80:20.")
@click.option(
    "--rate",
    metavar="'KHR=RATE@DATE [SOURCE]'",
    help="Stated, dated rate and where it comes from, quoted as one argument, e.g. "
    "'KHR=4100@2026-11-01 National Bank of Cambodia'; without a source the reports say "
    "'source not stated'.",
)
@click.option("--vat", metavar="PERCENT", help="VAT rate [default: from the RFQ, else 10].")
@click.option(
    "--arithmetic",
    type=click.Choice(["unit_price", "line_total"]),
    help="Which prevails when a line total ≠ quantity × unit price [default unit_price].",
)
@click.option("--date", metavar="YYYY-MM-DD", help="Evaluation date [default: from the RFQ].")
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a report: .html, .md, .xlsx or .json (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the canonical JSON result.")
@click.option("--evaluator", help="Who evaluates [default: --actor].")
@click.option(
    "--store/--no-store",
    default=True,
    show_default=True,
    help="Keep the evaluation in the database.",
)
@_LANG
@pass_app
@handle_errors()
def score_cmd(
    app: App,
    paths: tuple[Path, ...],
    spec_file: str | None,
    rfq_file: Path | None,
    method: str | None,
    weights: str | None,
    rate: str | None,
    vat: str | None,
    arithmetic: str | None,
    date: str | None,
    reports: tuple[Path, ...],
    as_json: bool,
    evaluator: str | None,
    store: bool,
    lang: str,
) -> None:
    """Score RFQ_DIR (rfq.yaml + quotations) or quotation FILES against a spec."""
    options = _options(method, weights, rate, vat, arithmetic, date)
    for r in reports:
        if r.suffix.lower() not in (".html", ".htm", ".md", ".xlsx", ".json"):
            raise UsageError(f"--report {r}: use .html, .md, .xlsx or .json")
    kept = app.evaluations() if store else None
    who = evaluator or app.actor
    inputs = resolve_inputs(list(paths), spec_file, rfq_file, app.settings.data_dir)
    scored = score(inputs, options, who)
    for r in reports:
        write_report(scored.evaluation, r, "en" if lang == "en" else "en+km")
    stored_id = kept.add(scored, who) if kept is not None else None
    if as_json:
        click.echo(scored.json, nl=False)
        if stored_id is not None:
            click.echo(f"stored as evaluation {stored_id}", err=True)
        return
    _render(scored.evaluation)
    for r in reports:
        console.print(f"report written: {safe(r)}")
    console.print(f"result SHA-256 {scored.sha256}")
    if stored_id is not None:
        console.print(f"stored as evaluation {stored_id} (itops quote show {stored_id})")


def _render(ev: Evaluation) -> None:
    weights = f" {ev.weights[0]}:{ev.weights[1]}" if ev.weights else ""
    console.print(
        f"[bold]{safe(ev.rfq)}[/] {safe(ev.title)}\n"
        f"spec {safe(ev.spec_id)} {safe(ev.spec_version)} · method {ev.method}{weights} · "
        f"{ev.evaluation_date.isoformat()} · {ev.currency} · rate {safe(ev.rate or 'none needed')}"
        f" · VAT {ev.vat_rate}% ({ev.vat_basis}) · {ev.arithmetic} prevails\n"
        f"{safe(blank_rule(ev.blank_mandatory))}"
    )
    for note in header_notes(ev):
        console.print(f"[yellow]note:[/] {safe(note)}")
    for m in matrices(ev):
        t = Table(title=f"Comparison — item {safe(m.item)}", header_style="bold")
        t.add_column("Requirement", overflow="fold")
        t.add_column("Rule", overflow="fold")
        for v in m.vendors:
            t.add_column(safe(v), overflow="fold")
        for r in m.rows:
            cells = []
            for c in r.cells:
                if c is None:
                    cells.append("")
                    continue
                colour = _COLOURS.get(c.status, "yellow")
                cells.append(
                    f"{safe(c.value) or '—'} [{colour}]{symbol(c.status)}[/]\n[dim]{safe(c.reason)}[/]"
                )
            level = "" if r.level == "mandatory" else " [dim](D)[/]"
            t.add_row(safe(r.id) + level, safe(r.rule), *cells)
        console.print(t)
    for lot in ev.lots:
        rows = [
            (
                o.rank or "—",
                o.vendor,
                o.quote,
                f"{o.evaluated:,}" if o.complete else "incomplete",
                o.technical_score,
                "" if o.combined_score is None else o.combined_score,
                o.reason,
            )
            for o in lot.offers
        ]
        console.print(
            table(
                f"Lot {lot.lot} — {lot.name}",
                ["Rank", "Vendor", "Quote", f"Evaluated {ev.currency}", "Tech", "Score", "Reason"],
                rows,
            )
        )
        console.print(f"quotations: {safe(lot_counts(ev, lot))}")
        for n in lot.notes:
            console.print(f"[yellow]note:[/] {safe(n)}")
        console.print(f"[bold]{safe(lot.award_note)}[/]")
    for quote_name, items in deviations(ev).items():
        vendor = next(v.vendor for v in ev.vendors if v.quote == quote_name)
        console.print(f"\n[bold]{safe(vendor)}[/] ({safe(quote_name)}): {len(items)} deviation(s)")
        for i in items:
            console.print(f"  • {safe(i)}")


@quote.command("template")
@click.option(
    "--spec",
    "spec_file",
    required=True,
    metavar="ID|FILE",
    help="Spec template: an id (laptop) or a file.",
)
@click.option(
    "--rfq",
    "rfq_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Pre-fill the RFQ's lines.",
)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False))
@_LANG
@pass_app
@handle_errors()
def template_cmd(app: App, spec_file: str, rfq_file: Path | None, output: Path, lang: str) -> None:
    """Write a blank quotation form (XLSX) from a spec for vendors to fill in."""
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"-o {output}: the form is an .xlsx workbook")
    specs = data_folder(app.settings.data_dir).area("specs")
    spec = load_spec(find_spec(spec_file, specs))
    rfq = load_rfq(rfq_file) if rfq_file else None
    write_form(spec, output, rfq, "en" if lang == "en" else "en+km")
    console.print(
        f"wrote {safe(output)}: {len(spec.attributes)} attribute column(s) for {safe(spec.id)}"
    )


@quote.command("history")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def history_cmd(app: App, limit: int, as_json: bool) -> None:
    """Stored evaluations, newest first."""
    items = app.evaluations().newest(limit)
    if as_json:
        print_json(
            [
                {k: v for k, v in vars_of(e).items() if k not in ("result_json", "inputs")}
                for e in items
            ]
        )
        return
    console.print(
        table(
            "Stored evaluations",
            ["ID", "When", "RFQ", "Spec", "Method", "Evaluator", "Result SHA-256"],
            [
                (
                    e.id,
                    e.created_at,
                    e.rfq,
                    f"{e.spec_id} {e.spec_version}",
                    e.method,
                    e.evaluator,
                    e.result_sha256[:16],
                )
                for e in items
            ],
            tz=app.settings.zone(),
            keys=("RFQ", "Result SHA-256"),
        )
    )


def vars_of(e: object) -> dict[str, object]:
    """A dataclass as a dict (slots-friendly)."""
    from dataclasses import asdict, is_dataclass

    assert is_dataclass(e) and not isinstance(e, type)
    return asdict(e)


@quote.command("show")
@click.argument("evaluation_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the stored canonical JSON.")
@pass_app
@handle_errors()
def show_cmd(app: App, evaluation_id: int, as_json: bool) -> None:
    """One stored evaluation: audit record and result."""
    e = app.evaluations().get(evaluation_id)
    if as_json:
        click.echo(reveal_json(e.result_json), nl=False)
        return
    result = json.loads(e.result_json)
    console.print(
        f"[bold]evaluation {e.id}[/] · {safe(e.rfq)} · spec {safe(e.spec_id)} "
        f"{safe(e.spec_version)} · {e.method} · by {safe(e.evaluator)} · "
        f"{fmt.when(e.created_at, app.settings.zone())} · kape-itops {safe(e.tool_version)}"
    )
    console.print(f"result SHA-256 {e.result_sha256}")
    for lot in result.get("lots", []):
        console.print(f"lot {safe(lot['lot'])}: {safe(lot['award_note'])}")
    console.print(
        table(
            "Inputs",
            ["Role", "File", "SHA-256"],
            [(i["role"], i["name"], i["sha256"]) for i in e.inputs.get("inputs", [])],
            keys=("Role", "File"),
        )
    )
