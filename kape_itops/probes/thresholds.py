"""Judge metrics against the ``thresholds`` of a profile section (pure logic).

``{"rtt_avg_ms": {"warn": 50, "crit": 200}}`` means higher is worse; when ``warn > crit``
(``{"supply_pct": {"warn": 15, "crit": 5}}``) lower is worse. Metrics that are missing or not
numbers are not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.base import worst


def _breach(value: float, limit: float, lower_is_worse: bool) -> bool:
    return value <= limit if lower_is_worse else value >= limit


def judge(
    metrics: Mapping[str, Any], thresholds: Mapping[str, Mapping[str, float]]
) -> tuple[ProbeStatus, list[str]]:
    """The worst status any threshold gives, and one phrase per breached threshold."""
    statuses: list[ProbeStatus] = []
    reasons: list[str] = []
    for name, limits in thresholds.items():
        value = metrics.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        warn, crit = limits.get("warn"), limits.get("crit")
        lower = warn is not None and crit is not None and warn > crit
        sign = "<=" if lower else ">="
        if crit is not None and _breach(value, crit, lower):
            statuses.append(ProbeStatus.CRIT)
            reasons.append(f"{name} {value:g} {sign} {crit:g} (crit)")
        elif warn is not None and _breach(value, warn, lower):
            statuses.append(ProbeStatus.WARN)
            reasons.append(f"{name} {value:g} {sign} {warn:g} (warn)")
    return worst(statuses), reasons
