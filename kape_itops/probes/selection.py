"""From inventory devices to runner jobs: which probes, which address, which settings (pure).

- retired and lost devices are never probed; devices in stock or in repair (not deployed) only
  when asked for: named by asset tag or with ``include_undeployed``; devices without an IP or
  host name are skipped (listed with the reason);
- the probes are the device's own list, else its kind profile's, narrowed by ``--only``;
- settings are the kind profile's section merged with the school and device overrides;
- with a lab address map, the address (and the probe's port) are the lab's; an address the map
  does not know is not probed (its result says so).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.addressmap import AddressMap
from kape_itops.probes.base import Target
from kape_itops.probes.profiles import Profiles
from kape_itops.probes.runner import Check, Job

NOT_PROBED = (DeviceStatus.RETIRED, DeviceStatus.LOST)
NOT_DEPLOYED_HINT = "not deployed: name it with --tag or add --include-undeployed"


@dataclass(slots=True)
class Plan:
    """The jobs of a run and the devices left out (with why)."""

    jobs: list[Job] = field(default_factory=list)
    skipped: list[tuple[Device, str]] = field(default_factory=list)

    @property
    def checks(self) -> int:
        """How many checks the jobs hold."""
        return sum(len(j.checks) for j in self.jobs)


def device_address(device: Device) -> str | None:
    """The address to probe: the IP, else the host name."""
    return device.ip or device.hostname or None


def _check(
    device: Device,
    probe: str,
    address: str,
    settings: dict[str, Any],
    credential: str | None,
    previous: ProbeResult | None,
    address_map: AddressMap | None,
) -> Check:
    port = settings.get("port")
    skip: str | None = None
    if address_map is not None:
        mapped = address_map.lookup(address)
        if mapped is None:
            skip = f"address {address} is not in the lab address map ({address_map.source}); not probed"
        else:
            address = mapped.address
            port = mapped.ports.get(probe, port)
            settings = {**settings, "lab_ports": dict(mapped.ports)}
    timeout = settings.get("check_timeout_s")
    target = Target(
        address=address,
        port=int(port) if port is not None else None,
        device=device,
        settings=settings,
        credential=credential,
        previous=previous,
    )
    return Check(
        probe=probe,
        target=target,
        timeout_s=float(timeout) if timeout is not None else None,
        skip_reason=skip,
    )


def build_plan(
    devices: Iterable[Device],
    profiles: Profiles,
    *,
    only: Sequence[str] | None = None,
    address_map: AddressMap | None = None,
    previous: Mapping[tuple[str, str], ProbeResult] | None = None,
    school_credentials: Mapping[str, str | None] | None = None,
    include_undeployed: bool = False,
    named: Collection[str] = (),
) -> Plan:
    """One job per probed device, in the order given.

    Devices not deployed are probed only when ``include_undeployed`` or their tag is ``named``.
    """
    plan = Plan()
    previous = previous or {}
    creds = school_credentials or {}
    for device in devices:
        if device.status in NOT_PROBED:
            plan.skipped.append((device, f"status {device.status}"))
            continue
        if (
            device.status != DeviceStatus.DEPLOYED
            and not include_undeployed
            and device.asset_tag not in named
        ):
            plan.skipped.append((device, f"status {device.status}: {NOT_DEPLOYED_HINT}"))
            continue
        address = device_address(device)
        if address is None:
            plan.skipped.append((device, "no IP address or host name in the inventory"))
            continue
        probes = profiles.probes_for(device)
        if only:
            probes = tuple(p for p in probes if p in only)
        if not probes:
            why = f"none of {', '.join(only)} applies" if only else "no probes apply"
            plan.skipped.append((device, why))
            continue
        credential = device.credential or creds.get(device.school)
        checks = tuple(
            _check(
                device,
                probe,
                address,
                profiles.settings_for(device, probe),
                credential,
                previous.get((device.asset_tag, probe)),
                address_map,
            )
            for probe in probes
        )
        plan.jobs.append(
            Job(
                key=device.asset_tag,
                checks=checks,
                school=device.school,
                deadline_s=profiles.deadline_for(device),
            )
        )
    return plan
