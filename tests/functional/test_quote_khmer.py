"""A vendor who answers in Khmer (XLSX and CSV) is read and scored like any other, through the CLI.

The sample ``tests/fixtures/quotes_km/f-kampong-thom-computer.csv`` is the laptop RFQ answered in
Khmer: Khmer labels, Khmer digits, riel, "៣៦ ខែ" warranty, "ខ្មែរ/English" keyboard, zero-width
spaces and variant spellings. It is the cheapest compliant offer and must win.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from kape_itops.cli import cli
from kape_itops.quotes.readers import read_quotation
from tests.functional.quote_helpers import REPO, copy_rfq

SAMPLE = REPO / "tests" / "fixtures" / "quotes_km" / "f-kampong-thom-computer.csv"
VENDOR = "ហាងកុំព្យូទ័រកំពង់ធំ"


def khmer_only(label: str) -> str:
    """'ram (GB) / អង្គចងចាំ' -> 'អង្គចងចាំ (GB)': the label a vendor typing in Khmer writes."""
    if " / " not in label:
        return label
    english, km = label.split(" / ", 1)
    unit = re.search(r"\(.*?\)", english)
    return f"{km} {unit.group()}" if unit else km


def sample_rows() -> list[list[str]]:
    with SAMPLE.open(encoding="utf-8") as fh:
        return list(csv.reader(fh))


def add_sample(folder: Path, fmt: str) -> Path:
    if fmt == "csv":
        return Path(shutil.copy(SAMPLE, folder / SAMPLE.name))
    wb = Workbook()
    ws = wb.active
    ws.title = "Quotation"
    for row in sample_rows():
        ws.append([khmer_only(c) for c in row] if row and row[0].startswith("Item") else row)
    path = folder / "f-kampong-thom-computer.xlsx"
    wb.save(path)
    return path


def score(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(cli, ["quote", "score", *args, "--no-store"])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_khmer_quotation_is_read_and_wins(runner: CliRunner, tmp_path: Path, fmt: str) -> None:
    folder = copy_rfq("laptop", tmp_path)
    path = add_sample(folder, fmt)
    q = read_quotation(path)
    assert (q.vendor, q.currency, q.vat_inclusive, str(q.stated_rate)) == (
        VENDOR,
        "KHR",
        False,
        "4100",
    )
    assert (q.quote_date.isoformat(), q.valid_until.isoformat()) == ("2026-10-29", "2026-12-28")
    laptop = q.lines[0]
    assert (laptop.quantity, laptop.unit_price, laptop.line_total) == (24, 2542000, 61008000)

    data = json.loads(score(runner, str(folder), "--json").stdout)
    lot = data["lots"][0]
    assert lot["award_vendor"] == VENDOR
    checks = {
        c["requirement"]: c
        for v in data["vendors"]
        if v["vendor"] == VENDOR
        for c in v["checks"]
        if c["item"] == "LT-1"
    }
    assert all(c["status"] == "pass" for c in checks.values()), checks
    assert checks["warranty"]["reason"] == "៣៦ខែ = 36 months ≥ 36 months"
    assert checks["keyboard"]["reason"].endswith("matches Khmer")
    assert checks["display"]["reason"] == "១៥.៦ អុិញ = 15.6 in ≥ 14 in"


def test_bilingual_form_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    rfq = REPO / "quotes" / "laptop" / "rfq.yaml"
    args = ["quote", "template", "--spec", "laptop", "--rfq", str(rfq), "-o", str(form)]
    result = runner.invoke(cli, [*args, "--lang", "en+km"])
    assert result.exit_code == 0, result.output
    wb = load_workbook(form)
    ws = wb["Quotation"]
    assert ws["A1"].value == "Vendor / អ្នកផ្គត់ផ្គង់"
    head = [c.value for c in ws[11]]
    assert head[:3] == ["Item / មុខទំនិញ", "Description / ការពិពណ៌នា", "Brand/Model / ម៉ាក/ម៉ូដែល"]
    assert "ram (GB) / អង្គចងចាំ" in head
    assert wb["Requirements"]["A1"].value == "Requirement / តម្រូវការ"
    # a vendor fills the bilingual form: it reads back like the English one
    for row, value in enumerate(["ហាង​ក", "", "", "២៩/១០/២០២៦", "២៨/១២/២០២៦", None, "ទេ"], 1):
        if value is not None:
            ws.cell(row, 2, value)
    col = {h: i + 1 for i, h in enumerate(head)}
    ws.cell(12, col["Unit price / តម្លៃឯកតា"], "៦២០")
    ws.cell(12, col["Warranty / ការធានា"], "៣៦ ខែ")
    ws.cell(12, col["ram (GB) / អង្គចងចាំ"], "១៦ ជីកាបៃ")
    ws.cell(13, col["Unit price / តម្លៃឯកតា"], "១១")
    wb.save(form)
    q = read_quotation(form)
    assert (q.vendor, q.currency, q.rfq) == ("ហាងក", "USD", "KAPE-RFQ-2026-011")
    assert q.lines[0].unit_price == 620 and q.lines[0].attributes["ram"] == "១៦ ជីកាបៃ"
    assert q.lines[0].attributes["warranty"] == "៣៦ ខែ"
    english = tmp_path / "en.xlsx"
    assert runner.invoke(cli, [*args[:-1], str(english)]).exit_code == 0
    assert load_workbook(english)["Quotation"]["A1"].value == "Vendor"


def test_reports_with_khmer_labels_and_normalised_cells(runner: CliRunner, tmp_path: Path) -> None:
    folder = copy_rfq("laptop", tmp_path)
    add_sample(folder, "csv")
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    result = score(runner, str(folder), "--report", str(html), "--report", str(md), "--lang", "km")
    page, text = html.read_text("utf-8"), md.read_text("utf-8")
    for label in ("Rank / ចំណាត់ថ្នាក់", "Comparison matrix / តារាងប្រៀបធៀប", "Audit / សវនកម្ម"):
        assert label in page and label in text
    cell = "៣៦ខែ = 36 months ≥ 36 months"
    assert f"<small>{cell}</small>" in page
    assert f"✓ — {cell}" in text
    assert "0.5 TB = 500 GB &lt; 512 GB" in page and "0.5 TB = 500 GB \\< 512 GB" in text
    terminal = " ".join(result.output.split())
    assert "0.5 TB = 500 GB < 512 GB" in terminal
    plain = score(runner, str(folder), "--report", str(html))
    assert "Rank</th>" in html.read_text("utf-8") and "ចំណាត់ថ្នាក់" not in html.read_text("utf-8")
    assert plain.exit_code == 0
