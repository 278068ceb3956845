"""Month against the previous month: per school and overall, deltas, a school new this month."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from kape_itops.domain.problems import Problem, ProblemKind, Severity
from kape_itops.reports.availability import Availability
from kape_itops.reports.compare import compare, delta, previous_month

T = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def _report(schools: dict[str, tuple[float, float]], problems: list[Problem]) -> Any:
    """A stand-in with what compare reads: schools (code, name, availability), problems."""
    rows = [
        SimpleNamespace(code=c, name=f"School {c}", availability=Availability(n, up, n - up, 0))
        for c, (n, up) in schools.items()
    ]
    total = Availability(0, 0, 0, 0)
    for r in rows:
        total = total + r.availability
    return SimpleNamespace(schools=rows, problems=problems, availability=total)


def _p(school: str, sev: Severity, tag: str = "X") -> Problem:
    return Problem(ProblemKind.DOWN, sev, school, tag, "no reply")


def test_each_school_and_all_against_the_previous_month() -> None:
    now = _report(
        {"KPT-A": (100, 50), "KPT-B": (100, 100), "KPT-NEW": (10, 10)},
        [_p("KPT-A", Severity.CRIT), _p("KPT-A", Severity.WARN, "Y")],
    )
    before = _report({"KPT-A": (100, 100), "KPT-B": (100, 80)}, [_p("KPT-B", Severity.INFO)])
    c = compare(now, before, T, T + dt.timedelta(days=31))
    a, b, new = c.schools
    assert (a.code, a.current.availability_pct, a.previous and a.previous.availability_pct) == (
        "KPT-A",
        50.0,
        100.0,
    )
    assert a.availability_delta == pytest.approx(-50.0)
    assert (a.current.problems, a.current.crit, a.current.warn, a.problems_delta, a.crit_delta) == (
        2,
        1,
        1,
        2,
        1,
    )
    assert b.availability_delta == pytest.approx(20.0) and b.problems_delta == -1
    assert new.previous is None and new.availability_delta is None and new.problems_delta is None
    assert c.overall.current.availability_pct == pytest.approx(160 / 210 * 100)
    assert c.overall.previous is not None
    assert c.overall.previous.availability_pct == pytest.approx(90.0)
    assert c.overall.problems_delta == 1
    js = c.to_json()
    assert js["overall"]["problems_delta"] == 1  # type: ignore[index]
    assert js["schools"][2]["previous"] is None  # type: ignore[index]
    assert js["schools"][0]["availability_delta"] == -50.0  # type: ignore[index]


def test_previous_month_and_delta_text() -> None:
    assert previous_month(dt.date(2026, 1, 1)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert previous_month(dt.date(2026, 3, 1)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert delta(1.25, " pp") == "+1.2 pp" and delta(-3.0) == "-3.0" and delta(0.0) == "±0"
    assert delta(2) == "+2" and delta(-1) == "-1" and delta(0) == "±0" and delta(None) == "—"
