"""Problems found in the newest results, the period's events, discovery sweeps and the inventory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kape_itops.domain.discovery import HostState, StoredSweep
from kape_itops.domain.enums import DeviceStatus, ProbeStatus
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import Device
from kape_itops.probes.onvif.evaluate import drift_finding
from kape_itops.probes.snmp.checks.printer import supply_status
from kape_itops.probes.snmp.checks.storage import disk_status
from kape_itops.probes.snmp.checks.ups import summary as ups_summary


class ProblemKind(StrEnum):
    """What is wrong; the order here is the tie-break after severity."""

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
_KIND_RANK = {k: i for i, k in enumerate(ProblemKind)}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Fallbacks for results stored without the probe's own verdict (``levels``): the shipped
    probe profiles' defaults (probes/snmp/base.yaml, probes/kinds/*.yaml), judged by the probes'
    own rules. A result that carries ``levels`` is never judged again here."""

    toner_warn_pct: float = 15.0
    toner_crit_pct: float = 5.0
    disk_warn_pct: float = 85.0
    disk_crit_pct: float = 95.0
    drift_warn_s: float = 5.0
    drift_crit_s: float = 300.0
    warranty_days: int = 60


LEVELS = "levels"
"""The metric holding a probe's verdict per judged reading (``{"disk_used_pct": "warn",
"supplies:Black": "crit", "if_down:Gi0/1": "crit", "clock_drift_s": "ok", "recording": "crit"}``):
the probe profile's thresholds applied once, by the probe, so its table, its exit code and the
report agree."""
_SEVERITY = {ProbeStatus.CRIT: Severity.CRIT, ProbeStatus.WARN: Severity.WARN}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of one device (``asset_tag`` is None for unknown devices)."""

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


def from_observation(
    obs: Observation, th: Thresholds, down_since: dt.datetime | None = None
) -> list[Problem]:
    """The problems a single probe result shows (down, toner, disk, drift, interfaces …).

    Severities are the probe's own (its ``levels``), so that a result's worst problem is as
    severe as its status; a warn or crit status no reading explains is a ``probe_finding``.
    """
    out: list[Problem] = []
    m = obs.metrics

    def add(kind: ProblemKind, sev: Severity, detail: str, part: str = "") -> None:
        out.append(Problem(kind, sev, obs.school, obs.asset_tag, detail, None, obs.probe, part))

    received = _num(m.get("received"))
    if obs.probe == "ping" and obs.status == ProbeStatus.CRIT and not received:
        since = down_since or obs.at
        out.append(
            Problem(
                ProblemKind.DOWN,
                Severity.CRIT,
                obs.school,
                obs.asset_tag,
                f"not answering: {obs.reason}" if obs.reason else "not answering",
                since,
                obs.probe,
            )
        )
    levels = m.get(LEVELS)
    judged: Mapping[str, Any] = levels if isinstance(levels, Mapping) else {}

    def severity(key: str, fallback: ProbeStatus) -> Severity | None:
        """The probe's stored verdict on ``key``; the fallback only when it stored none."""
        if judged:
            try:
                return _SEVERITY.get(ProbeStatus(str(judged.get(key))))
            except ValueError:
                return None
        return _SEVERITY.get(fallback)

    for supply in m.get("supplies") or []:
        pct = _num(supply.get("pct")) if isinstance(supply, Mapping) else None
        if pct is None:
            continue
        name = str(supply.get("name") or "supply")
        sev = severity(f"supplies:{name}", supply_status(pct, th.toner_warn_pct, th.toner_crit_pct))
        if sev is not None:
            add(ProblemKind.TONER_LOW, sev, f"{name} at {pct:.0f} %", name)
    disk = _num(m.get("disk_used_pct"))
    if disk is not None:
        sev = severity("disk_used_pct", disk_status(disk, th.disk_warn_pct, th.disk_crit_pct))
        if sev is not None:
            add(ProblemKind.DISK_FULL, sev, f"disk {disk:.0f} % used")
    drift = _num(m.get("clock_drift_s"))
    if drift is not None:
        verdict = drift_finding(drift, th.drift_warn_s, th.drift_crit_s).status
        sev = severity("clock_drift_s", verdict)
        if sev is not None:
            add(ProblemKind.CLOCK_DRIFT, sev, f"clock off by {drift:+.0f} s")
    if m.get("recording") is False:
        sev = severity("recording", ProbeStatus.CRIT)  # the probe: not recording is critical
        if sev is not None:
            add(ProblemKind.NOT_RECORDING, sev, "not recording")
    for name in m.get("if_down") or []:
        sev = severity(f"if_down:{name}", ProbeStatus.WARN)
        if sev is not None:
            add(ProblemKind.INTERFACE_DOWN, sev, f"interface {name} is down", str(name))
    ups = [s for k in judged if k.startswith("ups_") if (s := severity(k, ProbeStatus.OK))]
    if ups:  # one problem per UPS: its worst reading, all of them in the detail
        add(ProblemKind.UPS_BATTERY, min(ups, key=SEVERITY_RANK.__getitem__), ups_summary(m))
    if m.get("rebooted") is True:
        up = _num(m.get("uptime_s"))
        detail = f"rebooted (up {_duration(up)})" if up is not None else "rebooted"
        add(ProblemKind.REBOOTED, Severity.WARN, detail)
    if m.get("config_changed") is True:
        add(ProblemKind.CONFIG_CHANGED, Severity.INFO, "configuration changed")
    status = _SEVERITY.get(obs.status)
    shown = [SEVERITY_RANK[p.severity] for p in out]
    if status is not None and min(shown, default=99) > SEVERITY_RANK[status]:
        # The probe's status has no reading above to show it: its own words, same severity.
        add(ProblemKind.PROBE_FINDING, status, obs.reason or f"{obs.probe} {obs.status}", obs.probe)
    return out


def reboot_problem(tag: str, school: str, count: int, last: dt.datetime | None) -> Problem | None:
    """A device that rebooted ``count`` times in the period."""
    if count <= 0:
        return None
    detail = f"rebooted {count}× in the period" if count > 1 else "rebooted once in the period"
    return Problem(ProblemKind.REBOOTED, Severity.WARN, school, tag, detail, last, "snmp")


def config_change_problem(
    tag: str, school: str, count: int, last: dt.datetime | None
) -> Problem | None:
    """A device whose configuration changed ``count`` times in the period."""
    if count <= 0:
        return None
    detail = f"configuration changed {count}× in the period"
    return Problem(ProblemKind.CONFIG_CHANGED, Severity.INFO, school, tag, detail, last, "ssh")


def warranty_problems(devices: Iterable[Device], today: dt.date, within_days: int) -> list[Problem]:
    """Warranties expired, and expiring within ``within_days`` (retired and lost left out)."""
    out: list[Problem] = []
    horizon = today + dt.timedelta(days=within_days)
    for d in devices:
        w = d.warranty_until
        if w is None or d.status in (DeviceStatus.RETIRED, DeviceStatus.LOST):
            continue
        since = dt.datetime.combine(w, dt.time(), dt.UTC)
        if w < today:
            out.append(
                Problem(
                    ProblemKind.WARRANTY_EXPIRED,
                    Severity.INFO,
                    d.school,
                    d.asset_tag,
                    f"warranty ended {w.isoformat()}",
                    since,
                )
            )
        elif w <= horizon:
            out.append(
                Problem(
                    ProblemKind.WARRANTY_EXPIRING,
                    Severity.INFO,
                    d.school,
                    d.asset_tag,
                    f"warranty ends {w.isoformat()} (in {(w - today).days} days)",
                    since,
                )
            )
    return out


def _mac(text: str | None) -> str | None:
    try:
        return parse_mac(text) if text else None
    except FieldError:
        return None


def discovery_problems(
    sweeps: Iterable[StoredSweep],
    devices: Iterable[Device],
    first_seen: Mapping[tuple[str, str, str], dt.datetime],
    missing_since: Mapping[tuple[str, str, str], dt.datetime],
    down: Collection[str] = (),
) -> list[Problem]:
    """Unknown devices (warn) and devices missing from the network (info) in the latest sweeps.

    ``sweeps`` are the latest of each school and scope; ``first_seen`` maps (school, scope, MAC
    or IP) to when that unknown host was first seen, ``missing_since`` (school, scope, asset
    tag) to when the device stopped being seen. A host no longer unknown because the inventory
    now has its MAC (or, without a MAC, its IP at that school) is left out, and so is a missing
    device that is no longer deployed, was seen by the school's other sweep, or is already
    reported down. One problem per school and host: network sweeps before ONVIF ones.
    """
    active = [d for d in devices if d.status not in (DeviceStatus.RETIRED, DeviceStatus.LOST)]
    macs = {m for d in active if (m := _mac(d.mac))}
    ips = {(d.school, d.ip) for d in active if d.ip}
    deployed = {d.asset_tag for d in active if d.status == DeviceStatus.DEPLOYED}
    ordered = sorted(sweeps, key=lambda w: (w.school, w.scope != "network", w.id))
    seen_tags = {
        (w.school, h.asset_tag)
        for w in ordered
        for h in w.hosts
        if h.asset_tag and h.state != HostState.MISSING
    }
    out: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for w in ordered:
        for h in w.hosts:
            if h.state == HostState.UNKNOWN:
                mac = _mac(h.mac)
                if (mac and mac in macs) or (not mac and (w.school, h.ip) in ips):
                    continue
                keys = {(w.school, h.ip), (w.school, mac or h.ip)}
                if keys & reported:
                    continue
                reported |= keys
                who = f"MAC {mac} at {h.ip}" if mac else f"at {h.ip}"
                vendor = f", vendor {h.vendor or 'unknown'}" if mac else ""
                extra = f"; {h.detail}" if h.detail else ""
                since = first_seen.get((w.school, w.scope, h.identity), w.started_at)
                out.append(
                    Problem(
                        ProblemKind.UNKNOWN_DEVICE,
                        Severity.WARN,
                        w.school,
                        None,
                        f"{who}{vendor} ({w.method} sweep){extra}",
                        since,
                        w.method,
                        mac or h.ip,
                    )
                )
            elif h.state == HostState.MISSING and h.asset_tag:
                tag = h.asset_tag
                if (
                    tag not in deployed
                    or tag in down
                    or (w.school, tag) in seen_tags
                    or (w.school, f"missing:{tag}") in reported
                ):
                    continue
                reported.add((w.school, f"missing:{tag}"))
                since = missing_since.get((w.school, w.scope, tag), w.started_at)
                out.append(
                    Problem(
                        ProblemKind.MISSING_FROM_NETWORK,
                        Severity.INFO,
                        w.school,
                        tag,
                        f"not seen at {h.ip} by the {w.method} sweep",
                        since,
                        w.method,
                    )
                )
    return out


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Most severe first; then by kind, school, device and part."""
    return sorted(
        problems,
        key=lambda p: (
            SEVERITY_RANK[p.severity],
            _KIND_RANK[p.kind],
            p.school,
            p.asset_tag or "",
            p.part,
        ),
    )


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 60} min"
