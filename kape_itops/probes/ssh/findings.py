"""The SSH kind's report problems: reboots, interfaces down, configuration changes (pure)."""

from __future__ import annotations

from kape_itops.domain.problems import (
    Limits,
    Observation,
    Problem,
    ProblemKind,
    Severity,
    interfaces_down,
    rebooted,
)

__all__ = ["findings"]


def findings(obs: Observation, limits: Limits) -> list[Problem]:
    """Interfaces down as the probe judged them (it lists them as ``ok``: it knows no uplinks),
    a reboot seen by the uptime, and a running configuration that changed (info)."""
    out = interfaces_down(obs) + rebooted(obs)
    if obs.metrics.get("config_changed") is True:
        out.append(obs.problem(ProblemKind.CONFIG_CHANGED, Severity.INFO, "configuration changed"))
    return out
