"""Report renderers on an in-memory evaluation: escaping, neutralised cells, canonical JSON."""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from kape_itops.quotes.evaluate import evaluate
from kape_itops.quotes.report import canonical_dumps, canonical_json
from kape_itops.quotes.report_html import render_html
from kape_itops.quotes.report_md import md, render_markdown
from kape_itops.quotes.report_xlsx import write_xlsx
from kape_itops.quotes.result import Evaluation
from kape_itops.quotes.spec import load_spec
from tests.unit.test_evaluate import CPUS, line, make_rfq, quote

EVIL = "=cmd|' /C calc'!A0 <img src=x onerror=alert(1)> | *bold* [link](http://x)"


def evil_evaluation(spec_path: Path) -> Evaluation:
    spec = load_spec(spec_path, CPUS)
    qs = [dataclasses.replace(quote("a", "600"), vendor=EVIL), quote("b", "610"), quote("c", "620")]
    return evaluate(spec, make_rfq(), qs, CPUS, audit={"evaluator": EVIL, "inputs": []})


SPEC = Path(__file__).resolve().parents[2] / "specs" / "laptop.yaml"


def test_markdown_escapes_vendor_text() -> None:
    assert md("a|b*c_[d]<e>") == "a\\|b\\*c\\_\\[d\\]\\<e\\>"
    assert md("two\nlines") == "two lines"
    text = render_markdown(evil_evaluation(SPEC))
    assert re.search(r"(?<!\\)<img", text) is None and "\\<img" in text
    assert "\\| \\*bold\\*" in text


def test_html_is_escaped_and_self_contained() -> None:
    page = render_html(evil_evaluation(SPEC))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<link" not in page and "<script" not in page and "http://x" in page
    assert "<style>" in page


def test_xlsx_cells_are_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    write_xlsx(evil_evaluation(SPEC), out)
    wb = load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith("=")), (ws.title, value)
    vendors = [r[2] for r in wb["Ranking"].iter_rows(min_row=2, values_only=True)]
    assert "'" + EVIL in vendors


def test_canonical_json_is_sorted_compact_and_stable() -> None:
    ev = evil_evaluation(SPEC)
    text = canonical_json(ev)
    assert text.endswith("}\n") and "\n" not in text[:-1]
    assert text == canonical_dumps(json.loads(text))
    assert text == canonical_json(evil_evaluation(SPEC))


def test_each_price_step_is_rounded_so_a_reader_can_recompute_it() -> None:
    # KHR 440,021.90 VAT-inclusive at 4,000: ÷ 4,000 = 110.005475 → 110.01; ÷ 1.1 = 100.009 →
    # 100.01. Rounding only at the end (100.00499 → 100.00) would print figures that disagree.
    spec = load_spec(SPEC, CPUS)
    lines = (line("LT-1", "44000"), line("BAG-1", "2.19"))
    q = dataclasses.replace(quote("k", "0", lines=lines), currency="KHR", vat_inclusive=True)
    o = evaluate(spec, make_rfq(), [q], CPUS).lots[0].offers[0]
    assert [s.amount for s in o.trail] == [
        Decimal(x) for x in ("440021.90",) * 2 + ("110.01", "100.01", "100.01")
    ]
    assert (o.converted, o.vat_adjusted, o.evaluated) == (
        Decimal("110.01"),
        Decimal("100.01"),
        Decimal("100.01"),
    )
