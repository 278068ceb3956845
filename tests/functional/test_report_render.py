"""HTML, Markdown and CSV renderings of a sample report: self-contained, escaped, neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from markupsafe import escape

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.problems import ProblemKind, Severity
from kape_itops.inventory.service import Inventory
from kape_itops.reports import sample
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import HealthReport, Period
from kape_itops.reports.render_csv import FILES, write_csv
from kape_itops.reports.render_html import CSP, render_html
from kape_itops.reports.render_md import render_md
from kape_itops.store.db import Store

EVIL_MODEL = '=HYPERLINK("http://x.invalid","<b>click</b>")'


@pytest.fixture
def report(store: Store) -> HealthReport:
    today = dt.date.today()
    sample.seed_inventory(store, schools=2, devices_per_school=20, today=today)
    Inventory(store, "t").set("KAPE-01-020", {"model": EVIL_MODEL})
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    sample.generate_history(store, end - dt.timedelta(hours=12), end)
    sample.generate_discovery(store, end - dt.timedelta(hours=12), end)
    return build_report(
        store,
        Period(end - dt.timedelta(hours=12), end),
        ReportOptions(title='Report <for> donors & "M&E"', today=today),
    )


def test_html_is_self_contained_and_escaped(report: HealthReport) -> None:
    html = render_html(report)
    csp = str(escape(CSP))  # attribute-escaped; the browser reads it back as CSP
    assert f'<meta http-equiv="Content-Security-Policy" content="{csp}">' in html
    assert "<script" not in html.lower()
    assert "Report &lt;for&gt; donors &amp; &#34;M&amp;E&#34;" in html
    assert "Cyan &lt;Toner&gt; &#34;CX-1&#34;" in html  # a device-supplied supply name
    assert "<b>click</b>" not in html and "&lt;b&gt;click&lt;/b&gt;" in html
    # nothing to fetch: no src/href except in-page anchors, no url(), no @import
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#)[^"]*"', html) == []
    assert "url(" not in html and "@import" not in html
    assert "@media print" in html and "size: A4" in html
    assert 'name="viewport"' in html
    assert html.count("<svg") >= 5
    assert "Discovery sweeps" in html
    assert "<img" not in html and "IPC &lt;img src=x onerror=alert(1)&gt; &#34;Lobby&#34;" in html
    assert f"MAC {sample.UNKNOWN_AP} at 10.30.1.201, vendor Ubiquiti (arp sweep)" in html


def test_discovery_findings(report: HealthReport) -> None:
    unknown = {p.part: p for p in report.problems if p.kind == ProblemKind.UNKNOWN_DEVICE}
    assert sorted(unknown) == ["10.30.1.203", sample.UNKNOWN_AP, sample.UNKNOWN_PHONE]
    assert unknown[sample.UNKNOWN_AP].since == report.period.start  # first of two sweeps
    assert unknown[sample.UNKNOWN_PHONE].since == report.period.end - dt.timedelta(hours=1)
    assert {p.severity for p in unknown.values()} == {Severity.WARN}
    assert [(w.school, w.method) for w in report.discovery] == [
        ("KPT-PSP", "arp"),
        ("KPT-PSP", "onvif"),
    ]


def test_markdown_escapes_device_text(report: HealthReport) -> None:
    md = render_md(report)
    assert md.startswith('# Report &lt;for&gt; donors &amp; "M&amp;E"')
    assert 'Cyan &lt;Toner&gt; "CX\\-1"' in md
    assert "<b>" not in md and "<Toner>" not in md and "<img" not in md
    assert "### Discovery sweeps" in md and "unknown device" in md
    assert "## Problems" in md and "| crit | down |" in md
    # every table row has the same number of cells as its header
    for block in re.findall(r"(\|.*\|\n\|[-|]+\|\n(?:\|.*\|\n)*)", md):
        rows = block.strip().split("\n")
        widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) == 1, rows[:3]


def test_csv_files_neutralise_formulas(report: HealthReport, tmp_path: Path) -> None:
    files = write_csv(report, tmp_path / "out")
    assert [f.name for f in files] == list(FILES)
    with (tmp_path / "out" / "devices.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    printer = next(r for r in rows if r["asset_tag"] == "KAPE-01-020")
    assert printer["model"] == "'" + EVIL_MODEL
    assert printer["kind"] == DeviceKind.PRINTER.value
    assert float(printer["availability_pct"]) > 90
    assert "Cyan <Toner>" in printer["supplies"]
    with (tmp_path / "out" / "problems.csv").open(newline="", encoding="utf-8") as f:
        problems = list(csv.DictReader(f))
    assert problems[0]["severity"] == "crit"
    unknown = [p for p in problems if p["kind"] == "unknown_device"]
    assert len(unknown) == 3 and any("onerror" in p["detail"] for p in unknown)
    with (tmp_path / "out" / "discovery.csv").open(newline="", encoding="utf-8") as f:
        sweeps = list(csv.DictReader(f))
    assert [(w["school"], w["method"], w["unknown"]) for w in sweeps] == [
        ("KPT-PSP", "arp", "2"),
        ("KPT-PSP", "onvif", "1"),
    ]
    with (tmp_path / "out" / "schools.csv").open(newline="", encoding="utf-8") as f:
        schools = list(csv.DictReader(f))
    assert [s["school"] for s in schools] == ["KPT-PSH", "KPT-PSP"]
    for line in (tmp_path / "out" / "changes.csv").read_text(encoding="utf-8").splitlines()[1:]:
        assert not re.match(r'^"?[=+@]', line.split(",")[6] if len(line.split(",")) > 6 else "")
