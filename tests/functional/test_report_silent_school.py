"""A server's health report with a silent school (issue #13), on both database backends.

Three schools: KPT-PSP's collector last synced 3 hours before the end of the period, KPT-PSH's
two minutes before, KPT-TKP has no enrolled site (only a revoked one) and stops at the same
time as KPT-PSP. Results go through the normal write path (ProbeRepo); sites are rows of
``sync_sites`` written here directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.problems import ProblemKind
from kape_itops.reports import alerts
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import HealthReport, Period, SchoolHealth, to_dict
from kape_itops.reports.render_csv import write_csv
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.store.db import Store
from kape_itops.store.models import ProbeRunRow, SchoolRow, SiteRow
from kape_itops.store.site_reads import SiteReads
from tests.support.report_data import T0, ping, seed, write_run

M5 = dt.timedelta(minutes=5)
HOUR = dt.timedelta(hours=1)
END = T0 + 6 * HOUR
SILENT_AT = T0 + 3 * HOUR  # KPT-PSP's last sync; its newest result is 5 minutes before
TZ = "Asia/Phnom_Penh"


def add_site(
    store: Store,
    school: str,
    last_sync: dt.datetime | None,
    *,
    revoked: dt.datetime | None = None,
    name: str = "collector",
    enrolled: dt.datetime = T0 - dt.timedelta(days=10),
) -> int:
    """An enrolled site of ``school`` as the sync service would leave it; returns its id."""
    with store.write() as s:
        school_id = s.scalar(select(SchoolRow.id).where(SchoolRow.code == school))
        assert school_id is not None
        row = SiteRow(
            uid=str(uuid.uuid4()),
            school_id=school_id,
            name=name,
            token_sha256=uuid.uuid4().hex + uuid.uuid4().hex,
            public_key="ab" * 32,
            enrolled_at=enrolled,
            revoked_at=revoked,
            last_sync_at=last_sync,
        )
        s.add(row)
        s.flush()
        return row.id


def history(
    store: Store, start: dt.datetime, silent_at: dt.datetime, end: dt.datetime
) -> dict[str, int]:
    """Three schools; until ``silent_at`` every device of KPT-PSP and KPT-TKP answers (but
    P-DOWN, down since one hour in, and P-DARK, which stops answering 10 minutes before);
    KPT-PSH answers to the end."""
    seed(store, {"P-SW": DeviceKind.SWITCH, "P-DOWN": DeviceKind.HOTSPOT}, "KPT-PSP")
    seed(store, {"P-DARK": DeviceKind.PRINTER}, "KPT-PSP", {"P-DARK": {"ip": "10.30.1.9"}})
    seed(store, {"H-SW": DeviceKind.SWITCH}, "KPT-PSH")
    ids = seed(store, {"T-SW": DeviceKind.SWITCH}, "KPT-TKP")
    at = start
    while at < end:
        rows = [(ids["H-SW"], "ping", "ok", ping(2.0))]
        if at < silent_at:
            rows.append((ids["P-SW"], "ping", "ok", ping(1.0)))
            rows.append((ids["T-SW"], "ping", "ok", ping(1.0)))
            down = at >= start + HOUR
            rows.append(
                (ids["P-DOWN"], "ping", "crit" if down else "ok", ping(None if down else 3.0))
            )
            dark = at >= silent_at - 2 * M5
            rows.append(
                (ids["P-DARK"], "ping", "crit" if dark else "ok", ping(None if dark else 3.0))
            )
        write_run(store, at, rows)
        at += M5
    return ids


def school(rep: HealthReport, code: str) -> SchoolHealth:
    return next(s for s in rep.schools if s.code == code)


def test_silent_school_is_one_problem_and_no_data_not_down(store: Store, tmp_path: Path) -> None:
    history(store, T0, SILENT_AT, END)
    with store.write() as s:  # a hostile school name: escaped in the HTML (autoescape)
        row = s.scalars(select(SchoolRow).where(SchoolRow.code == "KPT-PSP")).one()
        row.name = '<img src=x onerror="alert(1)">'
    opts = ReportOptions(today=T0.date(), tz=TZ)
    before = build_report(store, Period(T0, END), opts)  # no site yet: the single-machine report
    add_site(store, "KPT-PSP", SILENT_AT)
    add_site(store, "KPT-PSH", END - dt.timedelta(minutes=2))
    add_site(store, "KPT-TKP", T0, revoked=T0 + HOUR)  # revoked: as if none
    with store.session() as s:
        syncs = SiteReads(s).schools()
    assert sorted(syncs) == ["KPT-PSH", "KPT-PSP"] and syncs["KPT-PSP"].last_sync_at == SILENT_AT
    rep = build_report(store, Period(T0, END), opts)

    # One school problem, first, with the local time and age; the device that went dark with
    # the school is folded into it, the device down long before stays a device problem.
    first = rep.problems[0]
    assert (first.kind, first.severity.value, first.school) == (
        ProblemKind.COLLECTOR_SILENT,
        "crit",
        "KPT-PSP",
    )
    assert first.detail == (
        "KPT-PSP collector silent since 2026-11-02 18:00 +07 (3 h 0 min); "
        "no data since 2026-11-02 17:55 +07; 1 device stopped answering as it went silent"
    )
    silent = [p for p in rep.problems if p.kind == ProblemKind.COLLECTOR_SILENT]
    assert silent == [first]
    downs = {p.asset_tag: p for p in rep.problems if p.kind == ProblemKind.DOWN}
    assert set(downs) == {"P-DOWN"} and downs["P-DOWN"].since == T0 + HOUR
    assert not [p for p in before.problems if p.kind == ProblemKind.COLLECTOR_SILENT]
    assert {p.asset_tag for p in before.problems if p.kind == ProblemKind.DOWN} == {
        "P-DOWN",
        "P-DARK",
    }

    # The silent 3 hours 5 minutes are no data: not down, not the devices' unknown.
    psp = school(rep, "KPT-PSP")
    assert psp.silence is not None and psp.silence.no_data_since == SILENT_AT - M5
    dev = {d.asset_tag: d.availability for d in psp.devices}
    sw = dev["P-SW"]
    assert sw is not None and (sw.expected, sw.up, sw.down, sw.unknown, sw.no_data) == (
        72,
        36,
        0,
        0,
        36,
    )
    dark = dev["P-DARK"]
    assert dark is not None and (dark.down, dark.unknown, dark.no_data) == (2, 0, 36)
    a = psp.availability
    assert a.down == 2 + 24 and a.no_data == 3 * 36 and a.unknown == 0
    assert a.pct_no_data == pytest.approx(50.0)
    old = school(before, "KPT-PSP").availability
    assert (old.down, old.unknown, old.no_data) == (26, 3 * 36, 0)  # no site: all unknown
    assert rep.availability.no_data == 3 * 36
    trend = [p.v for p in rep.trends.availability["KPT-PSP"]]
    assert trend[3:] == [None, None, None]  # not 0 %: nothing known

    # The current school and the school without a site are exactly as before.
    assert school(rep, "KPT-PSH") == school(before, "KPT-PSH")
    assert school(rep, "KPT-TKP") == school(before, "KPT-TKP")
    tkp = school(rep, "KPT-TKP")
    assert tkp.silence is None and tkp.availability.unknown == 36
    assert rep.trends.availability["KPT-TKP"] == before.trends.availability["KPT-TKP"]

    # Every output says "no data" for KPT-PSP.
    html = render_html(rep)
    assert (
        "<b>KPT-PSP: no data since 2026-11-02 17:55</b> · collector silent since 2026-11-02 18:00"
        in html
    )
    assert "KPT-PSP collector silent since 2026-11-02 18:00 +07 (3 h 0 min)" in html
    assert "no data since 2026-11-02 17:55 (last crit)" in html  # the dark device's row
    assert "No data" in html and "no data since" not in render_html(before)
    assert "<img" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    md = render_md(rep)
    assert "**KPT\\-PSP: no data since 2026-11-02 17:55 (+07)**" in md
    assert "KPT-PSP collector silent since" in md.replace("\\", "")
    data = json.loads(json.dumps(to_dict(rep)))
    js = next(s for s in data["schools"] if s["code"] == "KPT-PSP")
    assert js["silence"]["no_data_since"] == (SILENT_AT - M5).isoformat()
    assert js["availability"]["no_data_pct"] == 50.0
    assert data["problems"][0]["kind"] == "collector_silent"
    assert next(s for s in data["schools"] if s["code"] == "KPT-TKP")["silence"] is None
    write_csv(rep, tmp_path / "csv")
    with (tmp_path / "csv" / "schools.csv").open(newline="", encoding="utf-8") as f:
        rows = {r["school"]: r for r in csv.DictReader(f)}
    assert rows["KPT-PSP"]["no_data_since"] == "2026-11-02T17:55:00+07:00"
    assert rows["KPT-PSP"]["no_data_pct"] == "50" and rows["KPT-TKP"]["no_data_pct"] == ""


def test_more_intervals_or_a_longer_interval_is_not_silent(store: Store) -> None:
    history(store, T0, SILENT_AT, END)
    add_site(store, "KPT-PSP", SILENT_AT)
    period = Period(T0, END)
    for opts in (
        ReportOptions(today=T0.date(), silent_after=37),  # 37 × 5 min > 3 h
        ReportOptions(today=T0.date(), interval=dt.timedelta(hours=1), silent_after=3),
    ):
        rep = build_report(store, period, opts)
        assert not [p for p in rep.problems if p.kind == ProblemKind.COLLECTOR_SILENT]
        assert all(s.silence is None for s in rep.schools) and rep.availability.no_data == 0
    rep = build_report(store, period, ReportOptions(today=T0.date(), silent_after=35))
    assert rep.problems[0].kind == ProblemKind.COLLECTOR_SILENT


def test_cli_health_and_problems_show_the_silent_school(
    runner: CliRunner, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    start = now - 6 * HOUR
    history(store, start, now - 3 * HOUR, now)
    add_site(store, "KPT-PSP", now - 3 * HOUR)
    add_site(store, "KPT-PSH", now - dt.timedelta(minutes=1))
    monkeypatch.setenv("ITOPS_TZ", "UTC")

    def run(*args: str) -> str:
        res = runner.invoke(cli, ["--db", store.url, *args])
        assert res.exit_code == 0, res.output
        return res.stdout

    out = run("report", "problems")
    assert "collector" in out and "silent since" in out and "KPT-PSP" in out, out
    found = json.loads(run("report", "problems", "--json"))
    assert (
        found[0]["kind"] == "collector_silent" and found[0]["key"] == "collector_silent:-:KPT-PSP"
    )
    assert "P-DARK" not in {p["asset_tag"] for p in found}
    data = json.loads(run("report", "health", "--since", "6h", "--json"))
    psp = next(s for s in data["schools"] if s["code"] == "KPT-PSP")
    assert psp["silence"] is not None and psp["availability"]["no_data_pct"] > 45
    run("report", "health", "--since", "6h", "--html", str(tmp_path / "r.html"))
    assert "KPT-PSP: no data since" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "KPT-PSP: no data since" in run("report", "health", "--since", "6h")
    # A longer patience (option, then setting) and the school is not silent.
    quiet = json.loads(run("report", "problems", "--json", "--silent-after", "40"))
    assert "collector_silent" not in {p["kind"] for p in quiet}
    monkeypatch.setenv("ITOPS_SILENT_AFTER", "40")
    assert "collector_silent" not in {
        p["kind"] for p in json.loads(run("report", "problems", "--json"))
    }
    monkeypatch.setenv("ITOPS_SILENT_AFTER", "0")
    res = runner.invoke(cli, ["--db", store.url, "report", "problems"])
    assert res.exit_code != 0 and "ITOPS_SILENT_AFTER" in res.output


def test_the_alert_hook_reports_a_silent_school_once(store: Store) -> None:
    history(store, T0, SILENT_AT, END)
    assert alerts.evaluate(store, now=END).new == []  # no site: nothing is silent
    add_site(store, "KPT-PSP", SILENT_AT)
    add_site(store, "KPT-PSH", END - dt.timedelta(minutes=2))
    got = alerts.evaluate(store, now=END)
    assert [(p.kind, p.school) for p in got.new] == [(ProblemKind.COLLECTOR_SILENT, "KPT-PSP")]
    assert got.new[0].detail.startswith("KPT-PSP collector silent since 2026-11-02 11:00 UTC")
    assert alerts.evaluate(store, now=END + M5).new == []  # once, not every round
    with store.write() as s:
        for row in s.scalars(select(SiteRow)):
            row.last_sync_at = END + 2 * M5  # it synced again
    later = alerts.evaluate(store, now=END + 3 * M5)
    assert later.new == [] and later.cleared == ["collector_silent:-:KPT-PSP"]
    gone = alerts.evaluate(store, now=END + 4 * HOUR, silent_after=12)
    assert {p.school for p in gone.new} == {"KPT-PSP", "KPT-PSH"}  # both silent now


def test_site_reads_per_school(store: Store) -> None:
    seed(store, {"P-SW": DeviceKind.SWITCH}, "KPT-PSP")
    ids = seed(store, {"H-SW": DeviceKind.SWITCH}, "KPT-PSH")
    with store.session() as s:
        assert SiteReads(s).schools() == {}  # a single machine: no site at all
    pi = add_site(store, "KPT-PSP", T0, enrolled=T0 - HOUR)
    add_site(store, "KPT-PSP", T0 + HOUR, name="laptop", enrolled=T0 - 2 * HOUR)
    add_site(store, "KPT-PSP", END, name="old", revoked=T0)  # revoked: left out
    add_site(store, "KPT-PSH", None, enrolled=T0)
    runs = [
        write_run(store, T0 + k * M5, [(ids["P-SW"], "ping", "ok", ping(1.0))]) for k in range(3)
    ]
    with store.write() as s:  # as pushed by the collector: its local ids 7, 8, 9
        for k, run_id in enumerate(runs):
            s.execute(
                update(ProbeRunRow)
                .where(ProbeRunRow.id == run_id)
                .values(origin_site_id=pi, origin_id=7 + k, received_at=T0 + HOUR)
            )
    with store.session() as s:
        got = SiteReads(s).schools()
        psp = SiteReads(s).schools(("KPT-PSP",))
        quick = SiteReads(s).schools(runs=False)
    assert got["KPT-PSP"].sites == 2 and got["KPT-PSP"].enrolled_at == T0 - 2 * HOUR
    assert got["KPT-PSP"].last_sync_at == T0 + HOUR
    assert got["KPT-PSP"].newest_run_at == T0 + 2 * M5 + dt.timedelta(seconds=5)
    assert got["KPT-PSH"].last_sync_at is None and got["KPT-PSH"].newest_run_at is None
    assert list(psp) == ["KPT-PSP"] and psp["KPT-PSP"] == got["KPT-PSP"]
    assert quick["KPT-PSP"].newest_run_at is None
