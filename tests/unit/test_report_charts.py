"""Inline SVG charts: escaped labels, gaps, empty data."""

from __future__ import annotations

from kape_itops.reports.charts import bar_chart, line_chart, sparkline
from kape_itops.reports.trends import Point

EVIL = '<script>alert("x")</script>&'


def test_line_chart_escapes_labels_and_breaks_at_gaps() -> None:
    pts = [Point(0, 1.0), Point(3600, 2.0), Point(7200, None), Point(10800, 3.0), Point(14400, 4.0)]
    svg = str(line_chart({EVIL: pts}, title=EVIL, unit="%"))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in svg or "&lt;script&gt;" in svg
    assert svg.count("<polyline") == 2  # the gap splits the line in two
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "href" not in svg and "<image" not in svg


def test_line_chart_without_data_says_so() -> None:
    svg = str(line_chart({"A": [Point(0, None)]}, title="t"))
    assert "no data in the period" in svg and "<polyline" not in svg


def test_bar_chart_values_and_missing() -> None:
    svg = str(bar_chart([("KPT-PSP", 98.5), (EVIL, None)], title="a", unit=" %", max_value=100))
    assert "98.5 %" in svg and "no data" in svg and "<script>" not in svg
    assert 'width="' in svg


def test_sparkline_needs_two_points() -> None:
    assert str(sparkline([Point(0, 1.0)])) == ""
    assert str(sparkline([Point(0, 1.0), Point(60, 2.0)])).count("<polyline") == 1
