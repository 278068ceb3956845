"""The SNMP kind's report problems: toner, disk, interfaces, UPS battery, reboots (pure).

Severities are the probe's own verdicts (``levels``); only a result stored without them is
judged here, by the checks' own rules and the profile thresholds the report hands in
(:func:`fallback_limits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.problems import (
    SEVERITY_RANK,
    Limits,
    Observation,
    Problem,
    ProblemKind,
    interfaces_down,
    number,
    rebooted,
)
from kape_itops.probes.snmp.checks.printer import supply_limits, supply_status
from kape_itops.probes.snmp.checks.storage import disk_limits, disk_status
from kape_itops.probes.snmp.checks.ups import summary as ups_summary

__all__ = ["fallback_limits", "findings"]


def findings(obs: Observation, limits: Limits) -> list[Problem]:
    """Supplies low, the fullest disk, interfaces down, one ``ups_battery`` problem with the
    UPS's worst reading, and a reboot seen since the previous result."""
    out: list[Problem] = []
    m = obs.metrics
    for supply in m.get("supplies") or []:
        pct = number(supply.get("pct")) if isinstance(supply, Mapping) else None
        if pct is None:
            continue
        name = str(supply.get("name") or "supply")
        sev = obs.verdict(f"supplies:{name}", partial(_toner, pct, limits))
        if sev is not None:
            out.append(obs.problem(ProblemKind.TONER_LOW, sev, f"{name} at {pct:.0f} %", name))
    disk = number(m.get("disk_used_pct"))
    if disk is not None:
        sev = obs.verdict("disk_used_pct", partial(_disk, disk, limits))
        if sev is not None:
            out.append(obs.problem(ProblemKind.DISK_FULL, sev, f"disk {disk:.0f} % used"))
    out += interfaces_down(obs)
    ups = [s for k in obs.levels if k.startswith("ups_") if (s := obs.verdict(k, _ok))]
    if ups:  # one problem per UPS: its worst reading, all of them in the detail
        worst = min(ups, key=SEVERITY_RANK.__getitem__)
        out.append(obs.problem(ProblemKind.UPS_BATTERY, worst, ups_summary(m)))
    return out + rebooted(obs)


def _toner(pct: float, limits: Limits) -> ProbeStatus:
    return supply_status(pct, *supply_limits(limits))


def _disk(pct: float, limits: Limits) -> ProbeStatus:
    return disk_status(pct, *disk_limits(limits))


def _ok() -> ProbeStatus:
    return ProbeStatus.OK


def fallback_limits() -> Limits:
    """The thresholds of the ``base`` SNMP profile (local over shipped), which every profile
    extends: what judges a result stored without verdicts (reads the profile files)."""
    from kape_itops.probes.snmp.settings import load_profiles

    return load_profiles().get("base").thresholds
