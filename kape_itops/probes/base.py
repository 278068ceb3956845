"""The async probe protocol shared by every probe kind.

A probe never raises for a device's fault: timeouts, refusals, garbage answers and
authentication failures are results with status ``unknown`` (or ``crit``) and a reason.
Exceptions are for the caller's own mistakes (:class:`kape_itops.errors.ProbeError`).

Results are :class:`kape_itops.domain.results.ProbeResult` (its docstring lists the metric
names shared with reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.ratelimit import RateLimiter, Unlimited
from kape_itops.secrets import SecretStore


@dataclass(frozen=True, slots=True)
class Target:
    """What one probe is pointed at: an address, optionally an inventory device."""

    address: str
    port: int | None = None
    device: Device | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The merged profile settings for this probe kind (thresholds, timeouts, OIDs …)."""
    credential: str | None = None
    """Name of an entry in the secrets file, never the secret itself."""
    previous: ProbeResult | None = None
    """The last stored result of the same probe for this device (counters, uptime), if any."""

    @property
    def label(self) -> str:
        """The asset tag when known, else ``address[:port]``."""
        if self.device is not None:
            return self.device.asset_tag
        return f"{self.address}:{self.port}" if self.port else self.address


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What every probe of a run shares: secrets and the run-wide limits."""

    secrets: SecretStore = field(default_factory=SecretStore.empty)
    timeout_s: float = 2.0
    retries: int = 1
    budget: RateLimiter = field(default_factory=Unlimited)
    """The run-wide packets-per-second budget: ``await ctx.budget.acquire(n)`` before sending."""
    pps: float | None = None
    """The rate behind ``budget`` (None: unlimited), for probes that pace inside an engine."""


@runtime_checkable
class Probe(Protocol):
    """One probe kind. ``start``/``stop`` bracket a run so expensive objects are shared."""

    name: str

    async def start(self, ctx: ProbeContext) -> None:
        """Create run-wide resources (an SNMP engine, an HTTP session …)."""

    async def check(self, target: Target) -> ProbeResult:
        """Probe one target; never raises for the device's fault."""

    async def stop(self) -> None:
        """Release run-wide resources."""


_RANK = {ProbeStatus.OK: 0, ProbeStatus.UNKNOWN: 1, ProbeStatus.WARN: 2, ProbeStatus.CRIT: 3}


def worst(statuses: list[ProbeStatus]) -> ProbeStatus:
    """The overall status, as Nagios aggregates: crit > warn > unknown > ok."""
    return max(statuses, key=_RANK.__getitem__, default=ProbeStatus.OK)


async def check_once(probe: Probe, ctx: ProbeContext, target: Target) -> ProbeResult:
    """Start ``probe``, check one target and stop it again (for one-device commands)."""
    await probe.start(ctx)
    try:
        return await probe.check(target)
    finally:
        await probe.stop()
