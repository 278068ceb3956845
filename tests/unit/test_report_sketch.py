"""Latency percentiles from mergeable log-bucket sketches."""

from __future__ import annotations

import random

import pytest

from kape_itops.domain import sketch


def _sketch(values: list[float]) -> dict[int, int]:
    s: dict[int, int] = {}
    for v in values:
        sketch.add(s, v)
    return s


def test_exact_quantile_is_nearest_rank() -> None:
    assert sketch.exact_quantile([4, 1, 3, 2], 0.5) == 2
    assert sketch.exact_quantile(range(1, 101), 0.95) == 95
    assert sketch.exact_quantile([], 0.5) is None


def test_sketch_quantiles_within_one_percent_of_exact() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(2.5, 0.8) for _ in range(5000)]
    s = _sketch(values)
    for q in (0.5, 0.95, 0.99):
        exact = sketch.exact_quantile(values, q)
        assert exact is not None
        got = sketch.quantile(s, q)
        assert got == pytest.approx(exact, rel=0.01)


def test_merging_sketches_equals_one_sketch_of_all_values() -> None:
    a, b = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0, 40.0]
    merged = sketch.merge([sketch.to_json(_sketch(a)), _sketch(b)])
    assert merged == _sketch(a + b)
    assert sum(merged.values()) == 7
    assert sketch.quantile(merged, 0.5) == pytest.approx(10.0, rel=0.01)


def test_empty_and_bad_quantiles() -> None:
    assert sketch.quantile({}, 0.5) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        sketch.quantile({1: 1}, 1.5)
    s = _sketch([0.0, 0.0005])  # below the smallest bucket: still counted
    assert sum(s.values()) == 2
