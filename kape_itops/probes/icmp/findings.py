"""The ping kind's report problems: a device that did not answer is down (pure)."""

from __future__ import annotations

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.problems import Limits, Observation, Problem, ProblemKind, Severity, number

__all__ = ["findings"]


def findings(obs: Observation, limits: Limits) -> list[Problem]:
    """``down`` for a critical ping that got no reply (a slow or lossy one is the report's
    ``probe_finding``); since the result's time, which the report moves to when it went down."""
    if obs.status != ProbeStatus.CRIT or number(obs.metrics.get("received")):
        return []
    detail = f"not answering: {obs.reason}" if obs.reason else "not answering"
    return [obs.problem(ProblemKind.DOWN, Severity.CRIT, detail, since=obs.at)]
