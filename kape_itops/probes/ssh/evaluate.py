"""Pure rules of the SSH probe: what one session brought back, judged; configurations cleaned.

Nothing here opens a connection: :mod:`.probe` collects in worker threads through
:mod:`.client` and hands the result to :func:`evaluate`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import worst
from kape_itops.probes.ssh.scrub import scrub
from kape_itops.probes.ssh.settings import CommandSet
from kape_itops.probes.thresholds import judge

if TYPE_CHECKING:
    from kape_itops.probes.ssh.client import SshFailure


@dataclass(slots=True)
class Collected:
    """What one session brought back."""

    metrics: dict[str, Any] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)
    failure: SshFailure | None = None
    config: str | None = None


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """A configuration ready to store: volatile lines dropped, secrets masked, hashed."""

    text: str
    sha256: str
    masked: int


def clean_config(raw: str, commands: CommandSet) -> CleanConfig:
    """Drop volatile lines, mask secrets and hash (pure)."""
    ignore = commands.backup.ignore if commands.backup else ()
    kept = [ln.rstrip() for ln in raw.replace("\r\n", "\n").split("\n")]
    kept = [ln for ln in kept if not any(p.search(ln) for p in ignore)]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    scrubbed = scrub("\n".join(kept) + "\n", commands.scrub)
    digest = hashlib.sha256(scrubbed.text.encode("utf-8")).hexdigest()
    return CleanConfig(scrubbed.text, digest, scrubbed.masked)


FAILURE_STATUS = {"hostkey-changed": ProbeStatus.CRIT}


def _fmt_uptime(seconds: int) -> str:
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def evaluate(
    collected: Collected,
    thresholds: Mapping[str, Mapping[str, float]],
    previous: ProbeResult | None,
) -> tuple[ProbeStatus, str, dict[str, Any]]:
    """Status, reason and metrics of one session's results (pure)."""
    metrics = dict(collected.metrics)
    statuses: list[ProbeStatus] = []
    parts: list[str] = []
    if collected.failure is not None:
        statuses.append(FAILURE_STATUS.get(collected.failure.category, ProbeStatus.UNKNOWN))
        parts.append(collected.failure.message)
        metrics["error"] = collected.failure.category
    if collected.unreadable:
        statuses.append(ProbeStatus.UNKNOWN)
        parts.append("cannot read output of " + "; ".join(collected.unreadable))
        metrics["raw_output"] = dict(collected.raw)
    prev = previous.metrics if previous is not None else {}
    up, prev_up = metrics.get("uptime_s"), prev.get("uptime_s")
    if isinstance(up, int | float) and isinstance(prev_up, int | float):
        metrics["rebooted"] = up < prev_up
        if metrics["rebooted"]:
            statuses.append(ProbeStatus.WARN)
            parts.append(f"rebooted {_fmt_uptime(int(up))} ago")
    if collected.config is not None:
        metrics["config_sha256"] = collected.config
        old = prev.get("config_sha256")
        metrics["config_changed"] = old is not None and old != collected.config
        if metrics["config_changed"]:
            statuses.append(ProbeStatus.WARN)
            parts.append("running configuration changed")
    judged, breached = judge(metrics, thresholds)
    statuses.append(judged)
    if isinstance(metrics.get("if_down"), list):  # listed, not judged: no uplink knowledge here
        levels = metrics.setdefault("levels", {})
        levels.update({f"if_down:{name}": ProbeStatus.OK.value for name in metrics["if_down"]})
    parts.extend(breached)
    status = worst(statuses)
    if status == ProbeStatus.OK or not parts:
        summary = [str(metrics[k]) for k in ("model", "version") if metrics.get(k)]
        if "uptime_s" in metrics:
            summary.append(f"up {_fmt_uptime(int(metrics['uptime_s']))}")
        for key, label in (("cpu_pct", "cpu"), ("mem_pct", "mem")):
            if key in metrics:
                summary.append(f"{label} {metrics[key]:g}%")
        if "clients" in metrics:
            summary.append(f"{metrics['clients']} Wi-Fi clients")
        parts.append("ok: " + ", ".join(summary) if summary else "ok")
    return status, "; ".join(parts), metrics
