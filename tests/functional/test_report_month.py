"""The monthly report against the previous month, from the rollups, on both database backends:
per school and overall in the model, the JSON, the HTML and the Markdown."""

from __future__ import annotations

import datetime as dt

import pytest

from kape_itops.domain.enums import DeviceKind
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.model import Period, to_dict
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.reports.service import Reports
from kape_itops.store.db import Store
from tests.support.report_data import ping, seed, write_run

H6 = dt.timedelta(hours=6)
OCT = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
NOV = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DEC = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)


def history(store: Store) -> None:
    """KPT-AAA: October all up, November's second half down (down at the end).
    KPT-BBB: October's first half down, November all up."""
    a = seed(store, {"AAA-SW01": DeviceKind.SWITCH}, school="KPT-AAA")["AAA-SW01"]
    b = seed(store, {"BBB-SW01": DeviceKind.SWITCH}, school="KPT-BBB")["BBB-SW01"]
    at = OCT
    while at < DEC:
        mid = (OCT if at < NOV else NOV) + dt.timedelta(days=15)
        a_ok = at < NOV or at < mid
        b_ok = at >= NOV or at >= mid
        write_run(
            store,
            at,
            [
                (a, "ping", "ok" if a_ok else "crit", ping(1.0 if a_ok else None)),
                (b, "ping", "ok" if b_ok else "crit", ping(1.0 if b_ok else None)),
            ],
        )
        at += H6


@pytest.mark.slow
def test_month_against_previous_month(store: Store) -> None:
    history(store)
    opts = ReportOptions(interval=H6, tz="Asia/Phnom_Penh")
    rep = Reports(store).monthly(dt.date(2026, 11, 17), opts, now=NOW)
    assert (rep.period.start, rep.period.end) == (NOV, DEC)
    c = rep.comparison
    assert c is not None and (c.previous_start, c.previous_end) == (OCT, NOV)
    a, b = c.schools
    assert a.code == "KPT-AAA" and a.previous is not None
    assert a.previous.availability_pct == pytest.approx(100.0)
    assert a.current.availability_pct == pytest.approx(50.0)
    assert a.availability_delta == pytest.approx(-50.0)
    assert a.crit_delta == 1 and a.current.crit == 1  # down at the end of November
    assert b.previous is not None and b.previous.availability_pct == pytest.approx(
        100 * 16 / 31, abs=1
    )
    assert b.current.availability_pct == pytest.approx(100.0)
    assert b.availability_delta is not None and b.availability_delta > 40
    assert c.overall.current.availability_pct == pytest.approx(75.0)
    assert c.overall.problems_delta == 1

    js = to_dict(rep)["comparison"]
    assert js["schools"][0]["availability_delta"] == pytest.approx(-50.0)
    assert js["overall"]["previous"]["availability_pct"] == pytest.approx(
        c.overall.previous.availability_pct if c.overall.previous else 0, abs=1e-3
    )
    html = render_html(rep)
    assert 'id="compare"' in html and "Compared with the previous month" in html
    assert "-50.0 pp" in html and "All schools" in html and "November 2026" in html
    md = render_md(rep)
    assert "## Compared with the previous month" in md and "-50.0 pp" in md


def test_a_period_that_is_not_a_month_has_no_comparison(store: Store) -> None:
    seed(store, {"AAA-SW01": DeviceKind.SWITCH}, school="KPT-AAA")
    rep = Reports(store).health(Period(NOV, DEC), ReportOptions(interval=H6))
    assert rep.comparison is None and to_dict(rep)["comparison"] is None
    assert 'id="compare"' not in render_html(rep)
