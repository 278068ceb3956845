"""Availability over a period from bucketed status counts; gaps with no data are unknown.

A device probed every ``interval_s`` seconds owes ``period_s / interval_s`` samples. Each result
fills one sample: ok and warn are up, crit is down, unknown is unknown. Samples with no result
at all are unknown too, never up. A bucket holding more results than it has slots (extra manual
runs) is scaled down so that no bucket counts for more than its own time. Samples owed after
the device's school went silent (its collector stopped syncing: no data from the school) are
``no_data``, apart from the device's own unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kape_itops.domain.reports import StatusCounts


@dataclass(frozen=True, slots=True)
class Availability:
    """Expected samples and how they split into up, down, unknown (incl. missing) and no data
    (owed while the school's collector was silent)."""

    expected: float
    up: float
    down: float
    unknown: float
    no_data: float = 0.0

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

    @property
    def pct_no_data(self) -> float | None:
        """Percentage of the period with no data from the school (its collector silent)."""
        return 100.0 * self.no_data / self.expected if self.expected else None

    def __add__(self, other: Availability) -> Availability:
        return Availability(
            self.expected + other.expected,
            self.up + other.up,
            self.down + other.down,
            self.unknown + other.unknown,
            self.no_data + other.no_data,
        )


NONE = Availability(0.0, 0.0, 0.0, 0.0)


def availability(
    buckets: Iterable[StatusCounts],
    *,
    period_s: float,
    bucket_s: float,
    interval_s: float,
    no_data_s: float = 0.0,
) -> Availability:
    """Availability of one device over ``period_s`` from its per-bucket status counts.

    The last ``no_data_s`` seconds of the period had no data from the school: samples missing
    there are ``no_data`` rather than unknown.
    """
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
    missing = expected - observed
    silent = min(missing, max(0.0, no_data_s) / interval_s)
    return Availability(expected, up, down, unknown + missing - silent, silent)


def pooled(parts: Iterable[Availability]) -> Availability:
    """Availability of a group (a school): every device's samples added together."""
    out = NONE
    for a in parts:
        out = out + a
    return out
