"""Escaping of device text in Markdown cells and formula neutralising in CSV cells."""

from __future__ import annotations

import datetime as dt

from kape_itops.reports import fmt
from kape_itops.reports.render_csv import cell
from kape_itops.reports.render_md import md


def test_markdown_cells_cannot_break_tables_or_inject_html() -> None:
    assert md("a|b") == "a\\|b"
    assert md("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert md("[link](http://x)") == "\\[link\\]\\(http://x\\)"
    assert md("line\nbreak") == "line break"
    assert md(None) == ""


def test_csv_cells() -> None:
    assert cell("=1+1") == "'=1+1"
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("-5") == "-5"  # a plain negative number stays a number
    assert cell(98.12345) == "98.123"
    assert cell(100.0) == "100"
    assert cell(None) == "" and cell(True) == "true"
    assert cell(dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)) == "2026-11-02T08:00:00+00:00"


def test_formatting() -> None:
    assert fmt.pct(98.765) == "98.8 %" and fmt.pct(None) == "—" and fmt.pct(5, 0) == "5 %"
    assert fmt.ms(12.34) == "12.3 ms" and fmt.num(14626.0) == "14,626"
    assert fmt.when(dt.datetime(2026, 11, 2, 8, 5, tzinfo=dt.UTC)) == "2026-11-02 08:05 UTC"
