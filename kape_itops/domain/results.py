"""Probe results and runs as the probes make them and the store keeps them (no I/O).

Metric names (``ProbeResult.metrics``) are shared with reports; keep to these where they apply:

- ping: ``sent``, ``received``, ``loss_pct``, ``rtt_min_ms``, ``rtt_avg_ms``, ``rtt_max_ms``,
  ``rtt_stddev_ms``, ``jitter_ms``
- snmp: ``uptime_s``, ``rebooted`` (bool), ``sys_name``, ``sys_descr``, ``supplies`` (list of
  ``{"name", "level", "max", "pct"}``), ``page_count``, ``disk_used_pct``, ``if_down`` (list of
  names), ``clients``
- onvif: ``clock_drift_s``, ``layer`` (the last layer passed), ``manufacturer``, ``model``,
  ``firmware``, ``serial``, ``recording`` (bool)
- ssh: ``config_sha256``, ``config_changed`` (bool), ``uptime_s``, ``cpu_pct``, ``mem_pct``
- ``levels``: the probe's verdict (``ok``/``warn``/``crit``) on each reading it judged against
  its profile's thresholds, keyed ``disk_used_pct``, ``clock_drift_s``, ``recording``,
  ``supplies:<name>``, ``if_down:<name>``; reports take the severity from it, never re-judge
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kape_itops.domain.enums import SEVERITY, ProbeStatus, RunStatus

__all__ = ["ProbeResult", "ProbeRun", "RunResult"]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe of one target."""

    probe: str
    target: str
    status: ProbeStatus
    reason: str
    started_at: dt.datetime
    duration_ms: float
    metrics: Mapping[str, Any] = field(default_factory=dict)
    method: str | None = None
    asset_tag: str | None = None
    attempts: int = 1

    @property
    def exit_code(self) -> int:
        """The Nagios plugin exit code of this result."""
        return SEVERITY[self.status]


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """One probe run as stored."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: RunStatus
    actor: str
    selection: Mapping[str, Any]
    counts: Mapping[str, Any] | None
    note: str | None


@dataclass(frozen=True, slots=True)
class RunResult:
    """One stored result of a probe run, with its device (what the alert hook reads)."""

    asset_tag: str
    school: str
    probe: str
    status: str
    reason: str
    at: dt.datetime
    metrics: Mapping[str, Any]
    deployed: bool = True
    """False for a device in stock or in repair (probed on request, never alerts)."""
