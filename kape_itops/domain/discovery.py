"""What a discovery sweep saw, as stored: one sweep per school and one row per host.

``ip``, ``mac`` and ``detail`` come from the network (device-supplied): renderers escape them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class HostState(StrEnum):
    """How an observed (or expected) host compares with the inventory."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    IP_CHANGED = "ip_changed"
    MAC_CHANGED = "mac_changed"
    MISSING = "missing"


NETWORK_SCOPE = "network"
ONVIF_SCOPE = "onvif"


def scope_of(method: str) -> str:
    """What a sweep covers: ``onvif`` (cameras answering WS-Discovery) or ``network`` (ARP/ping)."""
    return ONVIF_SCOPE if method == "onvif" else NETWORK_SCOPE


@dataclass(frozen=True, slots=True)
class SweepHost:
    """One host of a sweep: seen (known, unknown, changed) or expected and not seen (missing)."""

    ip: str
    mac: str | None
    vendor: str | None
    asset_tag: str | None
    state: HostState
    detail: str | None = None

    @property
    def identity(self) -> str:
        """The MAC when known, else the IP: what ties sightings of one device together."""
        return self.mac or self.ip


@dataclass(frozen=True, slots=True)
class SweepRecord:
    """One school's sweep, ready to store."""

    school: str
    started_at: dt.datetime
    duration_s: float
    method: str
    """``arp``, ``ping`` or ``onvif``."""
    subnets: tuple[str, ...]
    actor: str
    hosts: tuple[SweepHost, ...]
    interface: str | None = None
    seen: int | None = None
    """Hosts that answered (default: every host that is not missing)."""

    @property
    def counts(self) -> dict[str, int]:
        """Hosts seen, and hosts per state."""
        out = {"seen": self.seen if self.seen is not None else 0}
        for s in HostState:
            out[s.value] = 0
        for h in self.hosts:
            out[h.state.value] += 1
        if self.seen is None:
            out["seen"] = len(self.hosts) - out[HostState.MISSING.value]
        return out


@dataclass(frozen=True, slots=True)
class StoredSweep:
    """A sweep read back from the store."""

    id: int
    school: str
    started_at: dt.datetime
    duration_s: float
    method: str
    subnets: tuple[str, ...]
    actor: str
    interface: str | None
    counts: dict[str, int]
    hosts: tuple[SweepHost, ...] = field(default_factory=tuple)

    @property
    def scope(self) -> str:
        """``network`` or ``onvif``."""
        return scope_of(self.method)
