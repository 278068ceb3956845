"""Silent collectors (pure): when a school counts as silent, its no-data time apart from down,
its one problem instead of a flood, and the ITOPS_SILENT_AFTER setting."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from kape_itops.domain.problems import Problem, ProblemKind, Severity
from kape_itops.domain.reports import AlertState, SchoolSync, StatusCounts, epoch
from kape_itops.errors import ConfigError
from kape_itops.reports.alerts import silence_step
from kape_itops.reports.availability import availability, pooled
from kape_itops.reports.problems import sort_problems
from kape_itops.reports.silence import (
    DEFAULT_SILENT_AFTER,
    Silence,
    find_silence,
    fold_problems,
    silent_after_setting,
    silent_problem,
)
from kape_itops.reports.trends import availability_series

END = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)
M5 = dt.timedelta(minutes=5)
QUIET = 6 * M5
PP = zoneinfo.ZoneInfo("Asia/Phnom_Penh")


def sync(last: dt.datetime | None, *, run: dt.datetime | None = None, sites: int = 1) -> SchoolSync:
    return SchoolSync("KEP-DCP", sites, END - dt.timedelta(days=30), last, run)


def test_no_site_or_a_recent_sync_is_not_silent() -> None:
    assert find_silence(None, None, END, QUIET) is None
    assert find_silence(sync(END - QUIET), None, END, QUIET) is None  # exactly N intervals
    assert find_silence(sync(END - dt.timedelta(minutes=2)), None, END, QUIET) is None
    assert find_silence(sync(END + dt.timedelta(days=2)), None, END, QUIET) is None  # later sync


def test_silent_since_the_last_sync_and_no_data_since_the_newest_result() -> None:
    last = END - dt.timedelta(hours=3)
    got = find_silence(sync(last), last - dt.timedelta(minutes=4), END, QUIET)
    assert got == Silence("KEP-DCP", last, last, last - dt.timedelta(minutes=4), 3 * 3600.0)
    # The newest run the site pushed counts too; a result "after" the sync (clock drift) is
    # capped at the sync; without any result, no data since the sync.
    got = find_silence(sync(last, run=last - M5), last - 2 * M5, END, QUIET)
    assert got is not None and got.no_data_since == last - M5
    got = find_silence(sync(last), last + M5, END, QUIET)
    assert got is not None and got.no_data_since == last
    got = find_silence(sync(last), None, END, QUIET)
    assert got is not None and got.no_data_since == last


def test_a_site_that_never_synced_is_silent_since_its_enrolment() -> None:
    got = find_silence(sync(None), None, END, QUIET)
    assert got is not None and got.silent_since == END - dt.timedelta(days=30)
    p = silent_problem(got, dt.UTC)
    assert p.detail == (
        "KEP-DCP collector silent since 2026-10-03 14:00 UTC (30 d 0 h); enrolled, never synced"
    )


def test_the_problem_names_the_school_its_local_time_and_age_and_sorts_first() -> None:
    last = END - dt.timedelta(hours=3, minutes=10)
    s = Silence("KEP-DCP", last, last, last - M5, 3 * 3600 + 600, folded=2)
    p = silent_problem(s, PP)
    assert (p.kind, p.severity, p.school, p.asset_tag, p.since) == (
        ProblemKind.COLLECTOR_SILENT,
        Severity.CRIT,
        "KEP-DCP",
        None,
        last,
    )
    assert p.detail == (
        "KEP-DCP collector silent since 2026-11-02 17:50 +07 (3 h 10 min); "
        "no data since 2026-11-02 17:45 +07; 2 devices stopped answering as it went silent"
    )
    assert p.key == "collector_silent:-:KEP-DCP"
    down = Problem(ProblemKind.DOWN, Severity.CRIT, "KEP-AAA", "KEP-AAA-01", "not answering")
    assert sort_problems([down, p])[0] is p


def test_downs_as_the_school_went_dark_fold_into_the_school_problem() -> None:
    nd = END - dt.timedelta(hours=3)
    s = Silence("KEP-DCP", nd, nd, nd, 3 * 3600.0)

    def down(tag: str, since: dt.datetime, school: str = "KEP-DCP") -> Problem:
        return Problem(ProblemKind.DOWN, Severity.CRIT, school, tag, "not answering", since)

    toner = Problem(ProblemKind.TONER_LOW, Severity.WARN, "KEP-DCP", "P1", "Black at 3 %")
    flood = [down(f"D{i:02d}", nd - dt.timedelta(minutes=i % 25)) for i in range(60)]
    known = down("OLD", nd - dt.timedelta(days=2))  # down long before: known, kept
    other = down("X1", nd, "KEP-AAA")  # another school (not silent): kept
    kept, folded = fold_problems([*flood, known, toner, other], {"KEP-DCP": s}, QUIET)
    assert kept == [known, toner, other]
    assert folded == {"KEP-DCP": 60}


def test_no_data_time_is_apart_from_down_and_unknown() -> None:
    # 4 hours owe 48 samples; 2 hours of results (22 ok, 2 crit), then the school went silent.
    counts = [StatusCounts(ok=12), StatusCounts(ok=10, crit=2)]
    a = availability(counts, period_s=4 * 3600, bucket_s=3600, interval_s=300, no_data_s=7200)
    assert (a.expected, a.up, a.down, a.unknown, a.no_data) == (48, 22, 2, 0, 24)
    assert (a.pct_down, a.pct_no_data) == (pytest.approx(100 * 2 / 48), 50.0)
    before = availability(counts, period_s=4 * 3600, bucket_s=3600, interval_s=300)
    assert (before.down, before.unknown, before.no_data) == (2, 24, 0)  # without: all unknown
    # A gap before the silence stays unknown; no data never exceeds what is missing.
    gap = availability(
        [StatusCounts(ok=6)], period_s=3 * 3600, bucket_s=3600, interval_s=300, no_data_s=7200
    )
    assert (gap.unknown, gap.no_data) == (6, 24)
    short = availability(
        [StatusCounts(ok=12)], period_s=3600, bucket_s=3600, interval_s=300, no_data_s=7200
    )
    assert short.no_data == 0
    assert pooled([a, gap]).no_data == 48


def test_trend_steps_after_the_silence_have_no_value_not_zero() -> None:
    start = epoch(END) - 4 * 3600
    rows = [("KEP-DCP", start, StatusCounts(ok=12)), ("KEP-DCP", start + 3600, StatusCounts(ok=6))]
    kw = {"start": start, "end": start + 4 * 3600, "step_s": 3600, "bucket_s": 3600}
    silent = availability_series(
        rows, {"KEP-DCP": 1}, interval_s=300, until={"KEP-DCP": start + 5400}, **kw
    )
    assert [p.v for p in silent["KEP-DCP"]] == [100.0, 100.0, None, None]
    before = availability_series(rows, {"KEP-DCP": 1}, interval_s=300, **kw)
    assert [p.v for p in before["KEP-DCP"]] == [100.0, 50.0, 0.0, 0.0]


def test_silent_after_setting() -> None:
    assert silent_after_setting({}) == DEFAULT_SILENT_AFTER == 6
    assert silent_after_setting({"ITOPS_SILENT_AFTER": " 12 "}) == 12
    for bad in ("0", "-3", "six", "1.5"):
        with pytest.raises(ConfigError, match="ITOPS_SILENT_AFTER"):
            silent_after_setting({"ITOPS_SILENT_AFTER": bad})


def test_alert_state_reports_a_silent_school_once_and_clears_it_when_it_syncs() -> None:
    last = END - dt.timedelta(hours=3)
    p = silent_problem(Silence("KEP-DCP", last, last, last, 3 * 3600.0))
    states, new, cleared = silence_step({}, [p], END)
    assert new == [p] and cleared == [] and states[p.key].notified
    again, new, cleared = silence_step(states, [p], END + M5)
    assert new == [] and cleared == [] and again[p.key].first_seen == END
    down = AlertState("down:X1:", "down", "crit", "X1", "ping", 3, END, END, True, "not answering")
    back, new, cleared = silence_step({**again, down.key: down}, [], END + 2 * M5)
    assert new == [] and cleared == [p.key] and back == {down.key: down}
