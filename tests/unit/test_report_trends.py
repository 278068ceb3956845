"""Trend series regrouped into steps."""

from __future__ import annotations

import pytest

from kape_itops.domain.reports import StatusCounts
from kape_itops.reports.trends import (
    Point,
    availability_series,
    counter_increase_series,
    last_value_series,
    mean_series,
    steps,
    total,
)

H = 3600


def test_availability_series_per_group_and_step() -> None:
    rows = [
        ("A", 0, StatusCounts(ok=12)),
        ("A", 0, StatusCounts(ok=6, crit=6)),  # second device of A, same hour
        ("A", H, StatusCounts(ok=12)),  # only one of two devices reported in hour 2
        ("B", 0, StatusCounts(unknown=12)),
    ]
    got = availability_series(
        rows, {"A": 2, "B": 1, "C": 0}, start=0, end=2 * H, step_s=H, bucket_s=H, interval_s=300
    )
    assert [p.v for p in got["A"]] == [pytest.approx(75.0), pytest.approx(50.0)]
    assert [p.v for p in got["B"]] == [0.0, 0.0]
    assert [p.v for p in got["C"]] == [None, None]
    assert [p.t for p in got["A"]] == [0, H]


def test_mean_series_skips_empty_steps() -> None:
    got = mean_series(
        [("A", 0, 30.0, 3.0), ("A", 1800, 10.0, 1.0), ("A", 2 * H, 8.0, 2.0)],
        start=0,
        end=3 * H,
        step_s=H,
    )
    assert got == {"A": [Point(0, 10.0), Point(H, None), Point(2 * H, 4.0)]}


def test_last_value_series_keeps_newest_in_step() -> None:
    got = last_value_series(
        [("P", 100, 50.0), ("P", 3000, 40.0), ("P", 200, 45.0)], start=0, end=H, step_s=H
    )
    assert got == {"P": [Point(0, 40.0)]}


def test_counter_increase_across_and_within_buckets_ignores_resets() -> None:
    rows = [
        # (group, counter, bucket start, first, last, increase within the bucket)
        ("S", "p1", 0, 100.0, 130.0, 30.0),
        ("S", "p1", H, 150.0, 160.0, 10.0),  # +20 between buckets, +10 within
        ("S", "p1", 2 * H, 20.0, 45.0, 25.0),  # board replaced: restart adds nothing between
        ("S", "p2", H, 1000.0, 1010.0, 10.0),
    ]
    got = counter_increase_series(rows, start=0, end=3 * H, step_s=H)
    assert [p.v for p in got["S"]] == [30.0, 40.0, 25.0]
    assert total(got["S"]) == 95.0


def test_steps_bad_step() -> None:
    assert steps(0, 10, 4) == [0, 4, 8]
    with pytest.raises(ValueError, match="step must be positive"):
        steps(0, 10, 0)
