"""Scoring the shipped sample RFQs end to end through the CLI (no database)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from kape_itops.cli import cli
from kape_itops.quotes.report import canonical_dumps
from tests.functional.quote_helpers import CATEGORIES, QUOTES, REPO, SPECS, copy_rfq

GOLDEN = REPO / "tests" / "golden" / "quote_laptop.json"


def score_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["quote", "score", *args, "--no-store", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def offers(data: dict[str, Any], lot: str | None = None) -> dict[str, dict[str, Any]]:
    lots = data["lots"] if lot is None else [lt for lt in data["lots"] if lt["lot"] == lot]
    return {o["quote"].rsplit(".", 1)[0]: o for lt in lots[:1] for o in lt["offers"]}


def flags(data: dict[str, Any], quote: str) -> list[str]:
    v = next(v for v in data["vendors"] if v["quote"].startswith(quote))
    return [f["code"] for f in v["flags"]]


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_sample_scores_from_xlsx_and_csv_alike(runner: CliRunner, category: str) -> None:
    from_xlsx = score_json(runner, str(QUOTES / category))
    from_csv = score_json(
        runner,
        str(QUOTES / category / "csv"),
        "--rfq",
        str(QUOTES / category / "rfq.yaml"),
        "--spec",
        str(SPECS / f"{category}.yaml"),
    )
    for lx, lc in zip(from_xlsx["lots"], from_csv["lots"], strict=True):
        rank_x = {o["vendor"]: (o["rank"], o["evaluated"]) for o in lx["offers"]}
        rank_c = {o["vendor"]: (o["rank"], o["evaluated"]) for o in lc["offers"]}
        assert rank_x == rank_c
    assert len(from_xlsx["vendors"]) >= 3


def test_laptop_traps(runner: CliRunner) -> None:
    data = score_json(runner, str(QUOTES / "laptop"))
    o = offers(data)
    assert o["a-angkor-digital"]["rank"] == 1
    assert data["lots"][0]["award_vendor"] == "Angkor Digital Co., Ltd."
    # line total 15,840 quoted for 24 x 645: corrected, unit price prevails
    a = next(v for v in data["vendors"] if v["quote"] == "a-angkor-digital.xlsx")
    fixed = [c for c in a["corrections"] if c["changed"]]
    assert fixed[0]["quoted_total"] == "15840" and fixed[0]["corrected_total"] == "15480.00"
    # the ranking's Quoted is the vendor's own total; the trail corrects it step by step
    assert o["a-angkor-digital"]["quoted"] == "16128.00"
    assert [s["amount"] for s in o["a-angkor-digital"]["trail"][:2]] == ["16128.00", "15768.00"]
    # KHR quote converted at the RFQ's dated rate, vendor's own rate reported only
    assert o["b-mekong-it"]["quoted_currency"] == "KHR"
    assert "vendor_rate" in flags(data, "b-mekong-it")
    assert data["rate"] == (
        "1 USD = 4,100 KHR on 2026-11-02 (source: National Bank of Cambodia official exchange rate)"
    )
    assert data["rate_source"] == "National Bank of Cambodia official exchange rate"
    # VAT-inclusive quote normalised; 'or equivalent' CPU cannot be verified
    assert "vat" in flags(data, "d-phnom-penh-office")
    assert o["c-sokha-computer"]["rank"] is None
    assert "cannot verify mandatory" in o["c-sokha-computer"]["reason"]
    # expired and missing the backpack line
    assert "expired" in flags(data, "e-battambang-tech")
    assert "missing item(s): BAG-1" in o["e-battambang-tech"]["reason"]
    # a priced deviation (8 GB instead of 16 GB) puts the cheaper KHR quote second
    assert o["b-mekong-it"]["deviations"] != "0.00" and o["b-mekong-it"]["rank"] == 2


def test_printer_abnormally_low_and_award_per_line(runner: CliRunner) -> None:
    data = score_json(runner, str(QUOTES / "printer"))
    assert [lt["lot"] for lt in data["lots"]] == ["PRN-1", "TON-1"]
    prn = offers(data, "PRN-1")
    assert prn["d-sunrise-tech"]["rank"] == 1
    assert any(f["code"] == "abnormally_low" for f in prn["d-sunrise-tech"]["flags"])
    assert "abnormally low" in data["lots"][0]["award_note"]
    ton = offers(data, "TON-1")
    assert ton["c-samaki-printing"]["rank"] is None  # quoted the printer only
    assert prn["c-samaki-printing"]["rank"] is not None


def test_camera_duplicate_vendor_and_too_few_quotes(runner: CliRunner) -> None:
    data = score_json(runner, str(QUOTES / "camera"))
    o = offers(data)
    assert o["b-cam-vision"]["rank"] is None and o["c-camvision-trading"]["rank"] is None
    assert "duplicate vendor" in o["b-cam-vision"]["reason"]
    assert "fewer than the required 3" in data["lots"][0]["notes"][0]
    # 4 received, 2 responsive (the duplicate pair is set aside), 1 compliant
    lot = data["lots"][0]
    assert (lot["received_count"], lot["responsive_count"], lot["compliant_count"]) == (4, 2, 1)
    assert "award rests on 1 compliant quotation of 3 required" in lot["award_note"]
    assert o["a-angkor-security"]["rank"] == 1


def test_hotspot_qcbs_and_tie_break(runner: CliRunner) -> None:
    data = score_json(runner, str(QUOTES / "hotspot"))
    assert data["method"] == "qcbs" and data["weights"] == [80, 20]
    install = offers(data, "2")
    assert "tie-break 'delivery_days'" in install["b-smart-link"]["reason"]
    lowest = score_json(runner, str(QUOTES / "hotspot"), "--method", "lowest")
    assert lowest["method"] == "lowest" and lowest["weights"] is None
    w = score_json(runner, str(QUOTES / "hotspot"), "--weights", "70:30")
    assert w["weights"] == [70, 30]


def test_cli_options_override_the_rfq(runner: CliRunner) -> None:
    base = offers(score_json(runner, str(QUOTES / "laptop")))
    rate = offers(score_json(runner, str(QUOTES / "laptop"), "--rate", "KHR=4000@2026-11-03"))
    assert rate["b-mekong-it"]["evaluated"] != base["b-mekong-it"]["evaluated"]
    vat0 = offers(score_json(runner, str(QUOTES / "laptop"), "--vat", "0"))
    assert vat0["d-phnom-penh-office"]["evaluated"] != base["d-phnom-penh-office"]["evaluated"]
    total = offers(score_json(runner, str(QUOTES / "laptop"), "--arithmetic", "line_total"))
    assert total["a-angkor-digital"]["evaluated"] == "16128.00"


def test_rich_output_shows_matrix_ranking_and_deviations(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["quote", "score", str(QUOTES / "laptop"), "--no-store"], env={"COLUMNS": "220"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Comparison — item LT-1" in out and "✓" in out and "✗" in out and "?" in out
    assert "recommended: Angkor Digital Co., Ltd." in out
    assert "unit price prevails" in out and "result SHA-256" in out


def test_same_inputs_give_byte_identical_json(runner: CliRunner) -> None:
    args = ["quote", "score", str(QUOTES / "camera"), "--no-store", "--json", "--evaluator", "x"]
    one = runner.invoke(cli, args)
    two = runner.invoke(cli, args)
    assert one.exit_code == 0
    assert one.stdout_bytes == two.stdout_bytes


def test_golden_json(runner: CliRunner) -> None:
    """Refresh with ITOPS_UPDATE_GOLDEN=1 (never silently)."""
    result = runner.invoke(
        cli,
        [
            "quote",
            "score",
            str(QUOTES / "laptop" / "csv"),
            "--rfq",
            str(QUOTES / "laptop" / "rfq.yaml"),
            "--spec",
            str(SPECS / "laptop.yaml"),
            "--no-store",
            "--json",
            "--evaluator",
            "golden",
        ],
    )
    assert result.exit_code == 0, result.output
    if os.environ.get("ITOPS_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        pretty = json.dumps(json.loads(result.stdout), sort_keys=True, ensure_ascii=False, indent=1)
        GOLDEN.write_text(pretty + "\n", "utf-8")
    assert GOLDEN.is_file(), "golden missing: run with ITOPS_UPDATE_GOLDEN=1"
    # the golden file is pretty-printed for review; its canonical form must match byte for byte
    assert result.stdout == canonical_dumps(json.loads(GOLDEN.read_text("utf-8")))


def test_reports_html_md_xlsx(runner: CliRunner, tmp_path: Path) -> None:
    html, md, xlsx = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.xlsx"
    result = runner.invoke(
        cli,
        [
            "quote",
            "score",
            str(QUOTES / "laptop"),
            "--no-store",
            "--report",
            str(html),
            "--report",
            str(md),
            "--report",
            str(xlsx),
        ],
    )
    assert result.exit_code == 0, result.output
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<script" not in page
    assert "Angkor Digital Co., Ltd." in page and "Comparison matrix" in page
    assert "Audit" in md.read_text() and "| Rank |" in md.read_text()
    wb = load_workbook(xlsx)
    assert wb.sheetnames == [
        "Summary",
        "Ranking",
        "Price build-up",
        "Matrix",
        "Deviations",
        "Arithmetic",
        "Audit",
    ]


def test_vendor_strings_are_escaped_everywhere(runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    path = folder / "a-angkor-digital.xlsx"
    wb = load_workbook(path)
    wb["Quotation"]["B1"] = "@SUM(1+1)<script>alert(1)</script>[red]x[/red]"
    wb.save(path)
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    result = runner.invoke(
        cli,
        [
            "quote",
            "score",
            str(folder),
            "--spec",
            str(SPECS / "laptop.yaml"),
            "--no-store",
            "--report",
            str(html),
            "--report",
            str(xlsx),
        ],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 0, result.output
    assert "[red]x[/red]" in result.output  # shown literally, not as markup
    page = html.read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    ranking = load_workbook(xlsx)["Ranking"]
    vendors = [row[2].value for row in ranking.iter_rows(min_row=2)]
    assert any(v.startswith("'@SUM") for v in vendors)
    assert not any(v.startswith("@") for v in vendors)


def test_quote_template_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    result = runner.invoke(
        cli,
        [
            "quote",
            "template",
            "--spec",
            str(SPECS / "camera.yaml"),
            "--rfq",
            str(QUOTES / "camera" / "rfq.yaml"),
            "-o",
            str(form),
        ],
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(form)
    ws = wb["Quotation"]
    assert ws["A1"].value == "Vendor" and ws["A11"].value == "Item"
    headers = [c.value for c in ws[11]]
    assert "ir_range (m)" in headers and "onvif" in headers and "resolution (WxH)" in headers
    assert ws["A12"].value == "CAM-1" and ws["D12"].value == 36
    assert "Requirements" in wb.sheetnames
    # a vendor fills it in; the reader accepts it
    values = {
        "B1": "Test Vendor",
        "B4": "2026-11-01",
        "B5": "2026-12-31",
        "B6": "USD",
        "F12": 80,
        "G12": 2880,
        "F13": 30,
        "G13": 1080,
    }
    for cell, value in values.items():
        ws[cell] = value
    for col, value in zip(
        headers,
        [
            "",
            "",
            "Hikvision X",
            None,
            None,
            None,
            None,
            "24 months",
            10,
            "2688x1520",
            "40 m",
            "Profile S",
            "802.3af",
            "IP67",
            "H.265",
            "120 dB",
            "yes",
        ],
        strict=False,
    ):
        if col and value:
            ws.cell(12, headers.index(col) + 1, value)
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    from kape_itops.quotes.readers import read_quotation

    q = read_quotation(filled)
    assert q.vendor == "Test Vendor" and q.lines[0].attributes["ir_range"] == "40 m"
    bad = runner.invoke(
        cli,
        [
            "quote",
            "template",
            "--spec",
            str(SPECS / "camera.yaml"),
            "-o",
            str(tmp_path / "form.csv"),
        ],
    )
    assert bad.exit_code == 2


def test_individual_files_with_rfq_found_next_to_them(runner: CliRunner) -> None:
    files = [str(QUOTES / "printer" / f) for f in ("a-khmer-office.xlsx", "b-lucky-star.xlsx")]
    data = score_json(runner, *files, "--spec", str(SPECS / "printer.yaml"))
    assert {v["quote"] for v in data["vendors"]} == {"a-khmer-office.xlsx", "b-lucky-star.xlsx"}
    assert "only 2 quotation(s) received" in data["notes"][0]
    mixed = score_json(runner, files[0], str(QUOTES / "printer" / "csv" / "c-samaki-printing.csv"))
    assert len(mixed["vendors"]) == 2
