"""Problems found in the newest results, the period's events, discovery sweeps and the inventory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from kape_itops.domain.discovery import HostState, StoredSweep
from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import Device
from kape_itops.domain.problems import (
    SEVERITY_RANK,
    Findings,
    Limits,
    Observation,
    Problem,
    ProblemKind,
    Severity,
    severity_of,
)
from kape_itops.probes import catalog

__all__ = [
    "Thresholds",
    "config_change_problem",
    "discovery_problems",
    "from_observation",
    "reboot_problem",
    "sort_problems",
    "warranty_problems",
]

_KIND_RANK = {k: i for i, k in enumerate(ProblemKind)}


class _ProfileLimits(Mapping[str, Mapping[str, float]]):
    """A kind's profile thresholds, read the first time a result stored without the probe's
    verdicts needs them (results with ``levels`` never do)."""

    def __init__(self, read: Callable[[], Limits] | None) -> None:
        self._read = read
        self._limits: Limits | None = None

    def _get(self) -> Limits:
        if self._limits is None:
            self._limits = self._read() if self._read is not None else {}
        return self._limits

    def __getitem__(self, key: str) -> Mapping[str, float]:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The report's own setting (``warranty_days``) and the probe kinds' thresholds for results
    stored without the probe's verdicts (``levels``).

    The thresholds are each kind's own (its findings module's ``fallback_limits``: the shipped
    or local profiles, ``probes/snmp/base.yaml``, ``probes/onvif.yaml``), read when first
    needed; ``limits`` replaces them per kind.
    """

    warranty_days: int = 60
    limits: Mapping[str, Limits] = field(default_factory=dict, hash=False)
    _read: dict[str, Limits] = field(default_factory=dict, init=False, repr=False, compare=False)

    def of(self, kind: str) -> Limits:
        """The thresholds of probe kind ``kind`` (empty for a kind without findings)."""
        if kind in self.limits:
            return self.limits[kind]
        if kind not in self._read:
            rules = _rules(kind)
            self._read[kind] = _ProfileLimits(rules[1] if rules else None)
        return self._read[kind]


@cache
def _rules(kind: str) -> tuple[Findings, Callable[[], Limits] | None] | None:
    """The findings function a built-in kind declares, and its profile thresholds' reader."""
    spec = catalog.kind(kind)
    if spec is None or spec.findings is None:
        return None
    module_name, _, name = spec.findings.partition(":")
    module = importlib.import_module(module_name)
    found: Findings = getattr(module, name)
    return found, getattr(module, "fallback_limits", None)


def from_observation(
    obs: Observation, th: Thresholds, down_since: dt.datetime | None = None
) -> list[Problem]:
    """The problems a single probe result shows (down, toner, disk, drift, interfaces …).

    Each kind finds its own (its declared findings; a kind without, such as an ``ITOPS_PROBES``
    plugin, has none). Severities are the probe's own (its ``levels``), so that a result's worst
    problem is as severe as its status; a warn or crit status no reading explains is a
    ``probe_finding``. ``down_since`` dates a ``down`` problem.
    """
    rules = _rules(obs.probe)
    out = rules[0](obs, th.of(obs.probe)) if rules else []
    if down_since is not None:
        out = [
            dataclasses.replace(p, since=down_since) if p.kind == ProblemKind.DOWN else p
            for p in out
        ]
    status = severity_of(obs.status)
    shown = [SEVERITY_RANK[p.severity] for p in out]
    if status is not None and min(shown, default=99) > SEVERITY_RANK[status]:
        # The probe's status has no reading above to show it: its own words, same severity.
        detail = obs.reason or f"{obs.probe} {obs.status}"
        out.append(obs.problem(ProblemKind.PROBE_FINDING, status, detail, obs.probe))
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
