"""Turn a discovery (ARP/ping sweep, or ONVIF WS-Discovery) into sweep records to store; pure."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from kape_itops.discovery.diff import CAMERA_KINDS, DiscoveryDiff, DiscoveryReport, Observation
from kape_itops.discovery.oui import vendor
from kape_itops.discovery.wsd_messages import Discovered
from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import Device, School


def _mac(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_mac(text)
    except FieldError:
        return None


def _observation_of(device: Device, observed: Sequence[Observation]) -> Observation | None:
    """The observation :func:`~kape_itops.discovery.diff.reconcile` matched ``device`` with."""
    ordered = sorted(observed, key=lambda o: ipaddress.ip_address(o.ip))
    mac = _mac(device.mac)
    if mac:
        for o in ordered:
            if _mac(o.mac) == mac:
                return o
    return next((o for o in ordered if o.ip == device.ip), None)


def sweep_record(
    report: DiscoveryReport,
    devices: Sequence[Device],
    actor: str,
    started_at: dt.datetime,
    interface: str | None = None,
) -> SweepRecord:
    """One ARP/ping sweep of one school: every host seen, plus the inventory devices not seen."""
    r = report.result
    by_tag = {d.asset_tag: d for d in devices}
    changes = {c.asset_tag: c for c in r.changes}
    hosts: list[SweepHost] = []
    for tag in r.matched:
        device = by_tag.get(tag)
        obs = _observation_of(device, report.observed) if device else None
        if obs is None:
            continue
        mac = _mac(obs.mac)
        change = changes.get(tag)
        state, detail = HostState.KNOWN, None
        if change is not None and change.field == "ip":
            state, detail = HostState.IP_CHANGED, f"inventory IP {change.old or '-'}"
        elif change is not None and change.field == "mac":
            state, detail = HostState.MAC_CHANGED, f"inventory MAC {change.old or '-'}"
        hosts.append(SweepHost(obs.ip, mac, vendor(mac), tag, state, detail))
    hosts += [SweepHost(u.ip, u.mac, u.vendor, None, HostState.UNKNOWN) for u in r.unknown]
    for d in r.missing:
        mac = _mac(d.mac)
        hosts.append(
            SweepHost(d.ip or "", mac, vendor(mac), d.asset_tag, HostState.MISSING, d.kind.value)
        )
    return SweepRecord(
        school=report.school,
        started_at=started_at,
        duration_s=report.duration_s,
        method=report.method,
        subnets=tuple(report.subnets),
        actor=actor,
        hosts=tuple(hosts),
        interface=interface,
        seen=len(report.observed),
    )


def onvif_detail(item: Discovered) -> str:
    """What an ONVIF device says about itself (device-supplied: escape when rendering)."""
    parts = [f"{k} {v}" for k in ("name", "hardware") if (v := item.scope(k))]
    parts.append(f"ONVIF endpoint {item.endpoint}")
    return "; ".join(parts)


def _school_of(address: str, schools: Sequence[School]) -> str | None:
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return None
    for s in schools:
        for net in s.subnets:
            try:
                if addr in ipaddress.ip_network(net, strict=False):
                    return s.code
            except ValueError:
                continue
    return None


def onvif_records(
    diff: DiscoveryDiff,
    schools: Sequence[School],
    chosen: Sequence[str],
    interface: str,
    actor: str,
    started_at: dt.datetime,
    duration_s: float,
) -> tuple[list[SweepRecord], list[str]]:
    """One record per school the WS-Discovery covered, and notes on what could not be placed.

    Known devices belong to their inventory school; an unknown responder to the school whose
    subnets hold its address (it must be one of ``chosen`` when given), else to the only chosen
    school. The schools covered are ``chosen``, else those with a responder; only their missing
    cameras are recorded.
    """
    hosts: dict[str, list[SweepHost]] = {s: [] for s in chosen}
    seen: dict[str, int] = dict.fromkeys(chosen, 0)
    notes: list[str] = []

    def add(code: str, host: SweepHost) -> None:
        hosts.setdefault(code, []).append(host)
        seen[code] = seen.get(code, 0) + 1

    for device, item in (*diff.known, *diff.not_cameras):
        detail = onvif_detail(item)
        if device.kind not in CAMERA_KINDS:
            detail = f"answers ONVIF but is a {device.kind.value} in the inventory; {detail}"
        known = SweepHost(item.address, None, None, device.asset_tag, HostState.KNOWN, detail)
        add(device.school, known)
    for item in diff.unknown:
        code = _school_of(item.address, schools)
        if code is None and len(chosen) == 1:
            code = chosen[0]
        if code is None:
            notes.append(
                f"not recorded: ONVIF device at {item.address} is in no school's subnets "
                "(give --school)"
            )
            continue
        if chosen and code not in chosen:
            notes.append(
                f"not recorded: ONVIF device at {item.address} is in the subnets of {code}, "
                "not of --school"
            )
            continue
        add(code, SweepHost(item.address, None, None, None, HostState.UNKNOWN, onvif_detail(item)))
    for d in diff.missing:
        if d.school in hosts:
            mac = _mac(d.mac)
            hosts[d.school].append(
                SweepHost(
                    d.ip or "", mac, vendor(mac), d.asset_tag, HostState.MISSING, d.kind.value
                )
            )
    records = [
        SweepRecord(
            school=code,
            started_at=started_at,
            duration_s=duration_s,
            method="onvif",
            subnets=(),
            actor=actor,
            hosts=tuple(found),
            interface=interface,
            seen=seen.get(code, 0),
        )
        for code, found in sorted(hosts.items())
    ]
    return records, notes
