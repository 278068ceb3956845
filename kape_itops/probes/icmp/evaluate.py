"""Pure rules of the ping probe: statistics of a series of echoes and their verdict."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kape_itops.domain import ping
from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.thresholds import judge

DEFAULTS: dict[str, Any] = {
    "count": 3,
    "interval_s": 0.2,
    "thresholds": {"rtt_avg_ms": {"warn": 150, "crit": 500}, "loss_pct": {"warn": 20, "crit": 60}},
}
"""The ping settings' defaults: echoes per host, seconds between them, thresholds."""


@dataclass(frozen=True, slots=True)
class PingStats:
    """Statistics of a series of echoes (RTTs in ms; None for a lost echo)."""

    sent: int
    received: int
    loss_pct: float
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    rtt_stddev_ms: float | None
    jitter_ms: float | None

    def metrics(self) -> dict[str, Any]:
        """The metric names of the probe contract."""
        return {
            "sent": self.sent,
            "received": self.received,
            "loss_pct": self.loss_pct,
            "rtt_min_ms": self.rtt_min_ms,
            "rtt_avg_ms": self.rtt_avg_ms,
            "rtt_max_ms": self.rtt_max_ms,
            "rtt_stddev_ms": self.rtt_stddev_ms,
            "jitter_ms": self.jitter_ms,
        }


def summarize(rtts: Sequence[float | None]) -> PingStats:
    """Min/avg/max, population stddev, jitter (mean |difference| of consecutive RTTs) and loss."""
    got = [r for r in rtts if r is not None]
    sent = len(rtts)
    loss = round(100.0 * (sent - len(got)) / sent, 2) if sent else 0.0
    if not got:
        return PingStats(sent, 0, loss, None, None, None, None, None)
    avg = sum(got) / len(got)
    std = math.sqrt(sum((r - avg) ** 2 for r in got) / len(got))
    diffs = [abs(b - a) for a, b in itertools.pairwise(got)]
    jitter = sum(diffs) / len(diffs) if diffs else 0.0
    return PingStats(sent, len(got), loss, _r(min(got)), _r(avg), _r(max(got)), _r(std), _r(jitter))


def _r(value: float) -> float:
    return round(value, 3)


def classify(stats: PingStats, settings: Mapping[str, Any]) -> tuple[ProbeStatus, str]:
    """Status and reason from the statistics and the ``thresholds`` in ``settings``."""
    if stats.received == 0:
        return ProbeStatus.CRIT, ping.down(stats.sent)
    summary = ping.summary(
        stats.sent, stats.received, stats.loss_pct, stats.rtt_avg_ms or 0, stats.jitter_ms or 0
    )
    thresholds = settings.get("thresholds") or DEFAULTS["thresholds"]
    status, breaches = judge(stats.metrics(), thresholds)
    return status, "; ".join([*breaches, summary])
