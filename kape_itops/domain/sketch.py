"""A mergeable log-bucket histogram for latency percentiles (relative error ≤ 1 %).

Rollups store one sketch per device × probe × bucket as ``{index: count}``; merging is adding
counts, so a month of hourly sketches gives the month's p50/p95 without the raw samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

GAMMA = 1.02
MIN_VALUE = 0.001
_LOG_GAMMA = math.log(GAMMA)


def index_of(value: float) -> int:
    """The bucket holding ``value`` (values below MIN_VALUE share the lowest bucket)."""
    return math.ceil(math.log(max(value, MIN_VALUE)) / _LOG_GAMMA)


def value_of(index: int) -> float:
    """A representative value of bucket ``index`` (at most 1 % from any value in it)."""
    return 2 * GAMMA**index / (GAMMA + 1)


def add(sketch: dict[int, int], value: float) -> None:
    """Count ``value`` into ``sketch`` in place."""
    i = index_of(value)
    sketch[i] = sketch.get(i, 0) + 1


def merge(sketches: Iterable[Mapping[int, int] | Mapping[str, int]]) -> dict[int, int]:
    """The sum of several sketches (JSON-loaded ones have string keys)."""
    acc: dict[int | str, int] = {}
    for s in sketches:
        for k, n in s.items():
            acc[k] = acc.get(k, 0) + n
    out: dict[int, int] = {}
    for k, n in acc.items():
        i = int(k)
        out[i] = out.get(i, 0) + int(n)
    return out


def quantile(sketch: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (0..1) by nearest rank, or None for an empty sketch."""
    if not 0 <= q <= 1:
        raise ValueError("quantile must be between 0 and 1")
    total = sum(sketch.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for i in sorted(sketch):
        seen += sketch[i]
        if seen >= rank:
            return value_of(i)
    return value_of(max(sketch))


def to_json(sketch: Mapping[int, int]) -> dict[str, int]:
    """A sketch with string keys, as stored in a JSON column."""
    return {str(k): v for k, v in sketch.items()}


def exact_quantile(values: Iterable[float], q: float) -> float | None:
    """The nearest-rank quantile of plain values (what :func:`quantile` approximates)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]
