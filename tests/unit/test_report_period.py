"""Report periods from --since or --from/--to."""

from __future__ import annotations

import datetime as dt

import pytest

from kape_itops.errors import UsageError
from kape_itops.reports.model import resolve_period

NOW = dt.datetime(2026, 11, 29, 10, 17, tzinfo=dt.UTC)


def test_since_aligns_to_the_hour_or_day() -> None:
    p = resolve_period(dt.timedelta(days=7), None, None, NOW)
    assert p.start == dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC) and p.end == NOW
    assert (p.grain, p.bucket_s, p.step_s) == ("hour", 3600, 6 * 3600)
    p = resolve_period(dt.timedelta(days=30), None, None, NOW)
    assert p.start == dt.datetime(2026, 10, 30, tzinfo=dt.UTC)
    assert (p.grain, p.bucket_s, p.step_s) == ("day", 86400, 86400)
    assert resolve_period(dt.timedelta(hours=6), None, None, NOW).step_s == 3600
    assert resolve_period(None, None, None, NOW).start == dt.datetime(
        2026, 11, 22, 10, tzinfo=dt.UTC
    )


def test_from_to_whole_days_inclusive_and_clipped_to_now() -> None:
    p = resolve_period(None, dt.date(2026, 11, 1), dt.date(2026, 11, 30), NOW)
    assert p.start == dt.datetime(2026, 11, 1, tzinfo=dt.UTC) and p.end == NOW
    p = resolve_period(None, dt.date(2026, 10, 1), dt.date(2026, 10, 31), NOW)
    assert p.end == dt.datetime(2026, 11, 1, tzinfo=dt.UTC) and p.seconds == 31 * 86400


@pytest.mark.parametrize(
    ("since", "start", "stop", "message"),
    [
        (dt.timedelta(days=1), dt.date(2026, 11, 1), None, "either --since or --from/--to"),
        (None, None, dt.date(2026, 11, 1), "--to needs --from"),
        (None, dt.date(2026, 11, 5), dt.date(2026, 11, 1), "is before --from"),
        (None, dt.date(2026, 12, 5), None, "in the future"),
        (None, dt.date(2026, 11, 30), dt.date(2026, 12, 1), "in the future"),
        (dt.timedelta(0), None, None, "positive duration"),
    ],
)
def test_bad_periods(
    since: dt.timedelta | None, start: dt.date | None, stop: dt.date | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_period(since, start, stop, NOW)
