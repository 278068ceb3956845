"""Problems the report and the alert hook show, and the stored results they are found in (no I/O).

Each probe kind turns its own stored results into problems with the pure function its kind
declaration names (``ProbeKindSpec.findings``, ``probes/<package>/findings.py``): a
:data:`Findings`. The same module's ``fallback_limits()``, when it has one, reads the kind's
profile thresholds; the report calls it only when a result stored without the probe's verdicts
(:data:`LEVELS`) needs them. What no reading explains stays the report's ``probe_finding``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kape_itops.domain.enums import ProbeStatus

__all__ = [
    "EVENT_KINDS",
    "LEVELS",
    "SEVERITY_RANK",
    "Findings",
    "Limits",
    "Observation",
    "Problem",
    "ProblemKind",
    "Severity",
    "duration",
    "interfaces_down",
    "number",
    "rebooted",
    "severity_of",
]


class ProblemKind(StrEnum):
    """What is wrong; the order here is the tie-break after severity."""

    COLLECTOR_SILENT = "collector_silent"
    """A school's collector has not synced for too long (a school's problem, no device)."""
    DOWN = "down"
    DISK_FULL = "disk_full"
    TONER_LOW = "toner_low"
    NOT_RECORDING = "not_recording"
    UPS_BATTERY = "ups_battery"
    CLOCK_DRIFT = "clock_drift"
    REBOOTED = "rebooted"
    INTERFACE_DOWN = "interface_down"
    PROBE_FINDING = "probe_finding"
    CONFIG_CHANGED = "config_changed"
    UNKNOWN_DEVICE = "unknown_device"
    MISSING_FROM_NETWORK = "missing_from_network"
    WARRANTY_EXPIRED = "warranty_expired"
    WARRANTY_EXPIRING = "warranty_expiring"


EVENT_KINDS = frozenset({ProblemKind.REBOOTED, ProblemKind.CONFIG_CHANGED})
"""Kinds that happen once rather than hold: the alert hook reports them at once."""


class Severity(StrEnum):
    """How urgent a problem is."""

    CRIT = "crit"
    WARN = "warn"
    INFO = "info"


SEVERITY_RANK = {Severity.CRIT: 0, Severity.WARN: 1, Severity.INFO: 2}
_OF_STATUS = {ProbeStatus.CRIT: Severity.CRIT, ProbeStatus.WARN: Severity.WARN}


def severity_of(status: ProbeStatus) -> Severity | None:
    """The problem severity of a probe status (None for ok and unknown)."""
    return _OF_STATUS.get(status)


LEVELS = "levels"
"""The metric holding a probe's verdict per judged reading (``{"disk_used_pct": "warn",
"supplies:Black": "crit", "if_down:Gi0/1": "crit", "clock_drift_s": "ok", "recording": "crit"}``):
the probe profile's thresholds applied once, by the probe, so its table, its exit code and the
report agree."""

Limits = Mapping[str, Mapping[str, float]]
"""A kind's thresholds as its profiles give them (``{"supply_pct": {"warn": 15, "crit": 5}}``):
what judges a reading stored without the probe's verdict."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of one device (``asset_tag`` is None for unknown devices and for a
    school's own problems, such as its collector gone silent: ``part`` is then its code)."""

    kind: ProblemKind
    severity: Severity
    school: str
    asset_tag: str | None
    detail: str
    since: dt.datetime | None = None
    probe: str | None = None
    part: str = ""
    """What inside the device (a toner colour, an interface name), part of the key."""

    @property
    def key(self) -> str:
        """Identity across runs, for the alert hook."""
        return ":".join((self.kind.value, self.asset_tag or "-", self.part))


@dataclass(frozen=True, slots=True)
class Observation:
    """The newest result of one probe of one device."""

    asset_tag: str
    school: str
    probe: str
    status: ProbeStatus
    reason: str
    at: dt.datetime
    metrics: Mapping[str, Any]

    @property
    def levels(self) -> Mapping[str, Any]:
        """The probe's stored verdicts (:data:`LEVELS`), empty when it stored none."""
        levels = self.metrics.get(LEVELS)
        return levels if isinstance(levels, Mapping) else {}

    def verdict(self, key: str, fallback: Callable[[], ProbeStatus]) -> Severity | None:
        """The probe's stored verdict on reading ``key`` as a severity (None: ok or not judged).

        ``fallback`` judges the reading only for a result stored without any verdicts.
        """
        judged = self.levels
        if judged:
            try:
                return severity_of(ProbeStatus(str(judged.get(key))))
            except ValueError:
                return None
        return severity_of(fallback())

    def problem(
        self,
        kind: ProblemKind,
        severity: Severity,
        detail: str,
        part: str = "",
        since: dt.datetime | None = None,
    ) -> Problem:
        """A problem of this observation's device, found by its probe."""
        return Problem(kind, severity, self.school, self.asset_tag, detail, since, self.probe, part)


Findings = Callable[[Observation, Limits], list[Problem]]
"""A kind's findings: the problems one stored result of it shows, in a stable order (pure).

``Limits`` are the kind's profile thresholds, read only for a reading stored without the
probe's verdict (older results)."""


def number(value: object) -> float | None:
    """A stored reading as a number (None for booleans, missing and unreadable values)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def duration(seconds: float) -> str:
    """``2 d 3 h``, ``2 h 1 min`` or ``5 min``."""
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 60} min"


# -- rules several kinds share (a reading's meaning is the same whoever reads it) ------------


def interfaces_down(obs: Observation) -> list[Problem]:
    """One problem per interface listed in ``if_down``, as severe as the probe judged it
    (a warning for a result stored without verdicts)."""
    out = []
    for name in obs.metrics.get("if_down") or []:
        sev = obs.verdict(f"if_down:{name}", lambda: ProbeStatus.WARN)
        if sev is not None:
            out.append(
                obs.problem(ProblemKind.INTERFACE_DOWN, sev, f"interface {name} is down", str(name))
            )
    return out


def rebooted(obs: Observation) -> list[Problem]:
    """A warning when the probe saw the device reboot since its previous result."""
    if obs.metrics.get("rebooted") is not True:
        return []
    up = number(obs.metrics.get("uptime_s"))
    detail = f"rebooted (up {duration(up)})" if up is not None else "rebooted"
    return [obs.problem(ProblemKind.REBOOTED, Severity.WARN, detail)]
