"""Procurement rules end to end through the CLI: an omitted mandatory answer in a real workbook,
the RFQ's blank_mandatory rule, compliant-quotation counts on the award, the rate's source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from openpyxl import load_workbook

from kape_itops.cli import cli
from tests.functional.quote_helpers import copy_rfq

WIDE = {"COLUMNS": "250"}


def blank_battery(folder: Path) -> None:
    """The laptop sample's winner leaves its battery (Wh) answer blank."""
    path = folder / "a-angkor-digital.xlsx"
    wb = load_workbook(path)
    ws = wb["Quotation"]
    col = next(c.column_letter for c in ws[11] if str(c.value).startswith("battery"))
    assert ws[f"{col}12"].value
    ws[f"{col}12"] = None
    wb.save(path)


def edit_rfq(folder: Path, old: str, new: str) -> None:
    path = folder / "rfq.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def score(runner: CliRunner, folder: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["quote", "score", str(folder), "--no-store", "--json", *extra])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def offer(data: dict[str, Any], quote: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in data["lots"][0]["offers"] if o["quote"] == quote)
    return found


def test_blank_mandatory_answer_in_a_workbook_is_not_offered(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = copy_rfq("laptop", tmp_path)
    blank_battery(folder)
    data = score(runner, folder)
    a = offer(data, "a-angkor-digital.xlsx")
    assert a["rank"] is None and a["compliance"] == "fail"
    assert "mandatory not offered (left blank): battery" in a["reason"]
    lot = data["lots"][0]
    assert lot["award"] == "b-mekong-it.xlsx"
    assert (lot["received_count"], lot["responsive_count"], lot["compliant_count"]) == (5, 4, 2)
    assert lot["award_note"].endswith(
        "award rests on 2 compliant quotations of 3 required: the procurement rules may require "
        "re-advertising or a justification"
    )
    assert data["blank_mandatory"] == "fail" and data["audit"]["blank_mandatory"] == "fail"
    out = runner.invoke(cli, ["quote", "score", str(folder), "--no-store"], env=WIDE).output
    assert "blank_mandatory: fail — a mandatory requirement left blank is not offered" in out
    assert "quotations: 5 received, 4 responsive, 2 compliant (3 required)" in out
    assert "award rests on 2 compliant quotations of 3 required" in out


def test_rfq_may_choose_clarification_for_blank_answers(runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    blank_battery(folder)
    edit_rfq(
        folder, "arithmetic: unit_price\n", "arithmetic: unit_price\nblank_mandatory: clarify\n"
    )
    data = score(runner, folder)
    a = offer(data, "a-angkor-digital.xlsx")
    assert a["compliance"] == "unverified"
    assert "cannot verify mandatory (clarification needed): battery" in a["reason"]
    assert data["blank_mandatory"] == "clarify" and data["audit"]["blank_mandatory"] == "clarify"
    out = runner.invoke(cli, ["quote", "score", str(folder), "--no-store"], env=WIDE).output
    assert "blank_mandatory: clarify" in out


def test_rate_source_from_the_command_line_reaches_every_report(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = copy_rfq("laptop", tmp_path)
    rate = "KHR=4000@2026-11-03 National Bank of Cambodia"
    data = score(runner, folder, "--rate", rate)
    shown = "1 USD = 4,000 KHR on 2026-11-03 (source: National Bank of Cambodia)"
    assert data["rate"] == shown and data["rate_source"] == "National Bank of Cambodia"
    assert data["audit"]["rate"] == shown
    assert data["audit"]["rate_source"] == "National Bank of Cambodia"
    md, html, xlsx = tmp_path / "r.md", tmp_path / "r.html", tmp_path / "r.xlsx"
    reports = ["--report", str(md), "--report", str(html), "--report", str(xlsx)]
    args = ["quote", "score", str(folder), "--no-store", "--rate", rate, *reports]
    result = runner.invoke(cli, args, env=WIDE)
    assert result.exit_code == 0, result.output
    assert shown in result.output
    assert shown in md.read_text("utf-8") and shown in html.read_text("utf-8")
    wb = load_workbook(xlsx)
    summary = dict(r[:2] for r in wb["Summary"].iter_rows(values_only=True))
    assert summary["Exchange rate"] == shown
    assert summary["Rate source"] == "National Bank of Cambodia"
    audit = dict(r[:2] for r in wb["Audit"].iter_rows(values_only=True))
    assert audit["rate_source"] == "National Bank of Cambodia"
    helptext = runner.invoke(cli, ["quote", "score", "--help"], env=WIDE).output
    assert "'KHR=4100@2026-11-01 National Bank of Cambodia'" in " ".join(helptext.split())


def test_rate_without_a_source_is_marked(runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    edit_rfq(folder, "  source: National Bank of Cambodia official exchange rate\n", "")
    data = score(runner, folder)
    assert data["rate"] == "1 USD = 4,100 KHR on 2026-11-02 (source not stated)"
    assert data["rate_source"] is None and data["audit"]["rate_source"] is None
    out = runner.invoke(cli, ["quote", "score", str(folder), "--no-store"], env=WIDE).output
    assert "note: the exchange rate's source is not stated" in out
    bare = score(runner, folder, "--rate", "KHR=4000@2026-11-03")
    assert bare["rate"].endswith("(source not stated)")
