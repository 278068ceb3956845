"""The table of probe kinds: every :class:`ProbeKindSpec` the toolkit ships.

Each protocol package declares its kind once (``probes/<package>/kind.py``); this module only
lists them. Nothing here imports a protocol library.
"""

from __future__ import annotations

from kape_itops.probes.icmp.kind import KIND as PING
from kape_itops.probes.kind import ProbeKindSpec
from kape_itops.probes.onvif.kind import KIND as ONVIF
from kape_itops.probes.snmp.kind import KIND as SNMP
from kape_itops.probes.ssh.kind import KIND as SSH

__all__ = ["KINDS", "availability_kinds", "kept_metrics", "kind", "names", "secret_protocols"]

KINDS: tuple[ProbeKindSpec, ...] = (PING, SNMP, ONVIF, SSH)
"""Every built-in probe kind, in the order reports list them."""


def kind(name: str) -> ProbeKindSpec | None:
    """The spec of probe kind ``name``, if built in."""
    return next((k for k in KINDS if k.name == name), None)


def names() -> tuple[str, ...]:
    """The built-in probe kind names."""
    return tuple(k.name for k in KINDS)


def secret_protocols() -> tuple[str, ...]:
    """The secrets-file protocols the built-in kinds use."""
    return tuple(k.secrets_protocol for k in KINDS if k.secrets_protocol)


def kept_metrics() -> frozenset[str]:
    """Every metric some kind keeps for reports."""
    return frozenset().union(*(k.kept_metrics for k in KINDS))


def availability_kinds() -> tuple[str, ...]:
    """Kinds whose status says up/down, in order of preference for availability."""
    return tuple(k.name for k in KINDS if k.availability)
