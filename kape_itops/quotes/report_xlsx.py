"""The XLSX report: Summary, Ranking, Price build-up, Matrix, Deviations, Arithmetic, Audit.

Every text cell is neutralised against formula injection (:func:`safe_cell`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from kape_itops.atomic import save_workbook
from kape_itops.inventory.sanitize import safe_cell
from kape_itops.quotes.report import (
    audit_inputs,
    deviations,
    header_notes,
    lot_counts,
    matrices,
    result_sha256,
)
from kape_itops.quotes.result import Evaluation
from kape_itops.quotes.rules import blank_rule
from kape_itops.quotes.trail import OP_WORDS

__all__ = ["write_xlsx"]


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
