"""Discovery for front ends: sweep or WS-Discover, compare with the inventory, store the sweep.

``itops discover`` calls :class:`DiscoveryService`; the sweeps it stores feed the health
report's unknown and missing devices. The inventory is written only by :meth:`accept`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kape_itops.discovery.diff import DiscoveryDiff, DiscoveryReport, diff_inventory
from kape_itops.discovery.record import onvif_records, sweep_record
from kape_itops.discovery.sweep import discover as sweep
from kape_itops.discovery.wsd_messages import WSD_GROUP, WSD_PORT, Discovered
from kape_itops.discovery.wsdiscovery import default_interface
from kape_itops.discovery.wsdiscovery import discover as ws_discover
from kape_itops.domain.discovery import HostState, SweepHost
from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.fields import FieldError, parse_mac
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.domain.text import refusal
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.inventory.edits import Edited
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo, record_sweeps

__all__ = ["DiscoveryService", "OnvifSweep", "SchoolSweep", "onvif_interface"]


@dataclass(frozen=True, slots=True)
class SchoolSweep:
    """An ARP/ping sweep of one school and the id it was stored under (None: not stored)."""

    report: DiscoveryReport
    sweep_id: int | None


@dataclass(frozen=True, slots=True)
class OnvifSweep:
    """A WS-Discovery on one interface, compared with the inventory's cameras and NVRs."""

    interface: str
    found: list[Discovered]
    diff: DiscoveryDiff
    sweep_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Responders that could not be placed in a school (so were not stored)."""


def onvif_interface(interface: str | None) -> str:
    """``interface``, else the default route's; UsageError when there is neither."""
    iface = interface or default_interface()
    if not iface:
        raise UsageError("no --interface given and no default route to pick one from")
    return iface


class DiscoveryService:
    """Discovery runs against a store's inventory, attributed to ``actor``."""

    def __init__(self, store: Store, actor: str) -> None:
        self.store = store
        self.actor = actor
        self.inventory = Inventory(store, actor)

    def sweep(
        self,
        school: str,
        subnets: Sequence[str] = (),
        interface: str | None = None,
        method: str = "auto",
        window_s: float = 2.0,
        record: bool = True,
    ) -> SchoolSweep:
        """Sweep school ``school`` (its subnets, or ``subnets``) and store it unless not ``record``."""
        code = school.strip().upper()
        found = next((s for s in self.inventory.schools() if s.code == code), None)
        if found is None:
            raise NotFoundError(f"school '{school}' does not exist")
        devices = self.inventory.devices(DeviceFilter(schools=(code,)))
        started = dt.datetime.now(dt.UTC)
        report = sweep(found, devices, subnets, interface, method, window_s)
        sweep_id: int | None = None
        if record:
            rec = sweep_record(report, devices, self.actor, started, interface)
            (sweep_id,) = record_sweeps(self.store, [rec])
        return SchoolSweep(report, sweep_id)

    def accept(self, report: DiscoveryReport) -> int:
        """Record the sweep's IP/MAC changes in the inventory (source ``discover``); how many."""
        accepted = 0
        for change in report.result.changes:
            accepted += len(
                self.inventory.set(change.asset_tag, {change.field: change.new}, source="discover")
            )
        return accepted

    def unknown_host(self, school: str, mac: str) -> SweepHost:
        """The unknown host with ``mac`` (any notation; the IP of a host seen without a MAC)
        in ``school``'s latest sweeps; NotFoundError when there is none."""
        code = school.strip().upper()
        try:
            wanted = parse_mac(mac)
        except FieldError:
            wanted = None
        start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        end = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        with self.store.session() as s:
            sweeps = DiscoveryRepo(s).latest_sweeps([code], start, end)
        for sweep_ in sweeps:
            for host in sweep_.hosts:
                if host.state != HostState.UNKNOWN:
                    continue
                if wanted and host.mac and _same_mac(host.mac, wanted):
                    return host
                if not host.mac and host.ip == mac.strip():
                    return host
        shown = wanted or mac.strip()[:45]
        raise NotFoundError(f"no unknown device {shown} in {code}'s latest sweep")

    def add_unknown(
        self,
        school: str,
        mac: str,
        values: Mapping[str, str],
        source: str = "web: discovery add",
    ) -> Edited:
        """Add an unknown host of ``school``'s latest sweep to the inventory, deployed, through
        the change log. Its MAC, IP and vendor are the sweep's; ``asset_tag``, ``kind``,
        ``hostname`` and ``room`` come from ``values``, checked as an import row would be
        (ValidationFailed names every bad field)."""
        host = self.unknown_host(school, mac)
        form = {k: values[k] for k in ("asset_tag", "kind", "hostname", "room") if k in values}
        vendor = (host.vendor or "").strip()[:100]
        form.update(
            school=school.strip().upper(),
            mac=host.mac or "",
            ip=host.ip,
            manufacturer="" if refusal(vendor) else vendor,
            status=DeviceStatus.DEPLOYED.value,
        )
        return self.inventory.create(form, source)

    def onvif(
        self,
        interface: str,
        timeout_s: float = 3.0,
        schools: tuple[str, ...] = (),
        dest: tuple[str, int] = (WSD_GROUP, WSD_PORT),
        record: bool = True,
    ) -> OnvifSweep:
        """WS-Discover on ``interface``, compare with ``schools`` (all when empty), store per school."""
        started, clock = dt.datetime.now(dt.UTC), time.monotonic()
        found = asyncio.run(ws_discover(interface, timeout_s, dest))
        duration = time.monotonic() - clock
        devices = self.inventory.devices(DeviceFilter(schools=schools, kinds=()))
        diff = diff_inventory(found, [d for d in devices if d.ip])
        out = OnvifSweep(interface, found, diff)
        if record:
            records, notes = onvif_records(
                diff, self.inventory.schools(), schools, interface, self.actor, started, duration
            )
            out.sweep_ids.extend(record_sweeps(self.store, records))
            out.notes.extend(notes)
        return out


def _same_mac(stored: str, wanted: str) -> bool:
    try:
        return parse_mac(stored) == wanted
    except FieldError:
        return False
