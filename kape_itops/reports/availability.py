"""Availability over a period from bucketed status counts; gaps with no data are unknown.

A device probed every ``interval_s`` seconds owes ``period_s / interval_s`` samples. Each result
fills one sample: ok and warn are up, crit is down, unknown is unknown. Samples with no result
at all are unknown too, never up. A bucket holding more results than it has slots (extra manual
runs) is scaled down so that no bucket counts for more than its own time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kape_itops.domain.reports import StatusCounts


@dataclass(frozen=True, slots=True)
class Availability:
    """Expected samples and how they split into up, down and unknown (incl. missing)."""

    expected: float
    up: float
    down: float
    unknown: float

    @property
    def pct_up(self) -> float | None:
        """Percentage of the period known to be up, or None when nothing was expected."""
        return 100.0 * self.up / self.expected if self.expected else None

    @property
    def pct_down(self) -> float | None:
        """Percentage of the period known to be down."""
        return 100.0 * self.down / self.expected if self.expected else None

    @property
    def pct_unknown(self) -> float | None:
        """Percentage of the period with no usable answer (unknown results and gaps)."""
        return 100.0 * self.unknown / self.expected if self.expected else None

    def __add__(self, other: Availability) -> Availability:
        return Availability(
            self.expected + other.expected,
            self.up + other.up,
            self.down + other.down,
            self.unknown + other.unknown,
        )


NONE = Availability(0.0, 0.0, 0.0, 0.0)


def availability(
    buckets: Iterable[StatusCounts], *, period_s: float, bucket_s: float, interval_s: float
) -> Availability:
    """Availability of one device over ``period_s`` from its per-bucket status counts."""
    if period_s <= 0 or bucket_s <= 0 or interval_s <= 0:
        raise ValueError("period, bucket and interval must be positive")
    expected = period_s / interval_s
    slots = bucket_s / interval_s
    up = down = unknown = 0.0
    for c in buckets:
        total = c.total
        if not total:
            continue
        scale = min(1.0, slots / total)
        up += (c.ok + c.warn) * scale
        down += c.crit * scale
        unknown += c.unknown * scale
    observed = up + down + unknown
    if observed > expected:  # buckets overlapping the period edges
        k = expected / observed
        up, down, unknown = up * k, down * k, unknown * k
        observed = expected
    return Availability(expected, up, down, unknown + (expected - observed))


def pooled(parts: Iterable[Availability]) -> Availability:
    """Availability of a group (a school): every device's samples added together."""
    out = NONE
    for a in parts:
        out = out + a
    return out
