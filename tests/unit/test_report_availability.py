"""Availability from bucketed counts: gaps are unknown, never up."""

from __future__ import annotations

import pytest

from kape_itops.domain.reports import StatusCounts
from kape_itops.reports.availability import availability, pooled


def test_one_missing_sample_of_four_is_75_percent_up_and_25_unknown() -> None:
    # 20 minutes at a 5-minute interval owe 4 samples; one 20-minute bucket holds 3 ok results.
    a = availability([StatusCounts(ok=3)], period_s=1200, bucket_s=1200, interval_s=300)
    assert a.expected == 4
    assert a.pct_up == pytest.approx(75.0)
    assert a.pct_unknown == pytest.approx(25.0)
    assert a.pct_down == 0


def test_warn_is_up_crit_is_down_unknown_is_unknown() -> None:
    buckets = [StatusCounts(ok=6, warn=2), StatusCounts(crit=3, unknown=1)]
    a = availability(buckets, period_s=2 * 3600, bucket_s=3600, interval_s=300)
    assert a.expected == 24
    assert a.up == 8 and a.down == 3
    assert a.unknown == pytest.approx(1 + 12)  # one unknown result and 12 samples never stored
    assert a.pct_up == pytest.approx(100 * 8 / 24)


def test_extra_runs_in_a_bucket_cannot_count_more_than_its_time() -> None:
    # 24 results in an hour that owes 12 (manual runs): scaled to 12, half of them down.
    a = availability([StatusCounts(ok=12, crit=12)], period_s=3600, bucket_s=3600, interval_s=300)
    assert (a.up, a.down, a.unknown) == (6, 6, 0)
    assert a.pct_up == 50.0


def test_no_data_at_all_is_all_unknown() -> None:
    a = availability([], period_s=86400, bucket_s=3600, interval_s=300)
    assert a.expected == 288 and a.pct_up == 0 and a.pct_unknown == 100


def test_pooled_school_adds_samples() -> None:
    full = availability([StatusCounts(ok=12)], period_s=3600, bucket_s=3600, interval_s=300)
    half = availability([StatusCounts(ok=6)], period_s=3600, bucket_s=3600, interval_s=300)
    school = pooled([full, half])
    assert school.expected == 24 and school.pct_up == pytest.approx(75.0)
    assert pooled([]).pct_up is None


@pytest.mark.parametrize("bad", [{"period_s": 0}, {"bucket_s": 0}, {"interval_s": -1}])
def test_bad_arguments_are_refused(bad: dict[str, float]) -> None:
    kwargs = {"period_s": 3600.0, "bucket_s": 3600.0, "interval_s": 300.0} | bad
    with pytest.raises(ValueError, match="must be positive"):
        availability([], **kwargs)
