"""The ONVIF kind's report problems: clock drift and a recorder that stopped recording (pure).

Severities are the probe's own verdicts (``levels``); only a result stored without them is
judged here, by the probe's drift rule and the thresholds the report hands in
(:func:`fallback_limits`).
"""

from __future__ import annotations

from functools import partial

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.problems import Limits, Observation, Problem, ProblemKind, number
from kape_itops.probes.onvif.evaluate import DRIFT_CRIT_S, DRIFT_WARN_S, drift_finding

__all__ = ["fallback_limits", "findings"]


def findings(obs: Observation, limits: Limits) -> list[Problem]:
    """``clock_drift`` past the drift thresholds; ``not_recording`` (critical, as the probe
    judges it) when the recorder reports no recording."""
    out: list[Problem] = []
    drift = number(obs.metrics.get("clock_drift_s"))
    if drift is not None:
        sev = obs.verdict("clock_drift_s", partial(_drift, drift, limits))
        if sev is not None:
            out.append(obs.problem(ProblemKind.CLOCK_DRIFT, sev, f"clock off by {drift:+.0f} s"))
    if obs.metrics.get("recording") is False:
        sev = obs.verdict("recording", _not_recording)
        if sev is not None:
            out.append(obs.problem(ProblemKind.NOT_RECORDING, sev, "not recording"))
    return out


def _drift(drift: float, limits: Limits) -> ProbeStatus:
    own = limits.get("clock_drift_s", {})
    warn, crit = own.get("warn", DRIFT_WARN_S), own.get("crit", DRIFT_CRIT_S)
    return drift_finding(drift, float(warn), float(crit)).status


def _not_recording() -> ProbeStatus:
    return ProbeStatus.CRIT


def fallback_limits() -> Limits:
    """The drift thresholds of ``probes/onvif.yaml`` (local over shipped; the built-in defaults
    without one) as the probe reads them: what judges a result stored without verdicts."""
    from kape_itops.probes.onvif.settings import (
        DEFAULTS,
        OnvifSettings,
        default_profile_path,
        load_profile,
    )

    path = default_profile_path()
    own = OnvifSettings.from_mapping({}, load_profile(path) if path.is_file() else DEFAULTS)
    return {"clock_drift_s": {"warn": own.drift_warn_s, "crit": own.drift_crit_s}}
