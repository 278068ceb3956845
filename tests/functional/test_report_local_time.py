"""The health report shows times in ITOPS_TZ (named once), while JSON stays UTC."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.config import load_zone
from kape_itops.reports import charts, sample
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import HealthReport, Period, to_dict
from kape_itops.reports.render_csv import write_csv
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.reports.trends import Point
from kape_itops.store.db import Store

END = dt.datetime(2026, 1, 10, 17, 0, tzinfo=dt.UTC)  # midnight on 11 January in Phnom Penh
START = END - dt.timedelta(hours=12)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('tz') / 'itops.db'}"
    store = Store(url)
    store.upgrade()
    sample.seed_inventory(store, schools=1, devices_per_school=12, today=END.date())
    sample.generate_history(store, START, END)
    sample.generate_discovery(store, START, END)
    store.dispose()
    yield url


def build(url: str, tz: str) -> HealthReport:
    store = Store(url)
    try:
        opts = ReportOptions(today=END.date(), tz=tz, rollup_first=False)
        return build_report(store, Period(START, END), opts)
    finally:
        store.dispose()


def test_markdown_and_html_show_local_times_and_name_the_zone(url: str) -> None:
    rep = build(url, "Asia/Phnom_Penh")
    md = render_md(rep)
    assert "Period 2026-01-10 12:00 – 2026-01-11 00:00" in md
    assert "times in Asia/Phnom_Penh (+07)" in md and "| Since / last (+07) |" in md
    assert "05:00" not in md.split("\n")[2]  # the UTC start is not shown
    html = render_html(rep)
    assert "Period 2026-01-10 12:00 – 2026-01-11 00:00" in html
    assert "times in Asia/Phnom_Penh (+07)" in html
    assert "<th>Since / last (+07)</th>" in html and "<th>When (+07)</th>" in html
    utc = render_md(build(url, "UTC"))
    assert "Period 2026-01-10 05:00 – 2026-01-10 17:00" in utc and "times in UTC" in utc


def test_csv_times_carry_the_local_offset_and_json_stays_utc(url: str, tmp_path: Path) -> None:
    rep = build(url, "Asia/Phnom_Penh")
    write_csv(rep, tmp_path)
    with (tmp_path / "discovery.csv").open(newline="", encoding="utf-8") as f:
        started = [row["started_at"] for row in csv.DictReader(f)]
    assert started and all(s.endswith("+07:00") for s in started)
    doc = to_dict(rep)
    assert doc["tz"] == "Asia/Phnom_Penh"
    assert doc["period"]["start"] == "2026-01-10T05:00:00+00:00"


def test_hourly_chart_labels_are_local() -> None:
    pts = [Point(int(START.timestamp()), 99.0), Point(int(END.timestamp()), 98.0)]
    svg = str(charts.line_chart({"KPT": pts}, title="t", tz=load_zone("Asia/Phnom_Penh")))
    assert "10 Jan 12:00" in svg and "10 Jan 05:00" not in svg


def test_cli_summary_and_problems_in_local_time(url: str) -> None:
    runner = CliRunner()
    env = {"ITOPS_TZ": "Asia/Phnom_Penh", "COLUMNS": "80"}
    period = ["--from", "2026-01-10", "--to", "2026-01-10"]
    result = runner.invoke(cli, ["--db", url, "report", "health", *period], env=env)
    assert result.exit_code == 0, result.output
    assert "2026-01-10 07:00 +07 – 2026-01-11 07:00 +07" in result.output  # UTC days
    assert "since (+07)" in result.output
    result = runner.invoke(cli, ["--db", url, "report", "health", *period, "--json"], env=env)
    assert json.loads(result.output)["tz"] == "Asia/Phnom_Penh"
    bad = runner.invoke(cli, ["--db", url, "report", "health"], env={"ITOPS_TZ": "Nowhere"})
    assert bad.exit_code == 2 and "ITOPS_TZ 'Nowhere' is not a known time zone" in bad.output


def test_db_stats_and_prune_in_local_time(url: str) -> None:
    runner = CliRunner()
    env = {"ITOPS_TZ": "Asia/Phnom_Penh", "COLUMNS": "80"}
    stats = runner.invoke(cli, ["--db", url, "db", "stats"], env=env)
    assert stats.exit_code == 0 and "2026-01-10 12:00 +07" in stats.output  # the oldest result
    doc = json.loads(runner.invoke(cli, ["--db", url, "db", "stats", "--json"], env=env).output)
    assert doc["raw_oldest"] == "2026-01-10T05:00:00+00:00"
    pruned = runner.invoke(cli, ["--db", url, "db", "prune", "--keep", "36500d"], env=env)
    assert pruned.exit_code == 0 and " +07" in pruned.output
