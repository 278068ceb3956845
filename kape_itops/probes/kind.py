"""A probe kind declared once: what the engine, the secrets file, the store and reports need.

Each protocol package (``probes/icmp``, ``probes/snmp``, ``probes/onvif``, ``probes/ssh``)
exports one :class:`ProbeKindSpec` as ``KIND`` from its light ``kind.py`` (no protocol library is
imported there). :mod:`kape_itops.probes.catalog` collects them; the registry, the kind-profile
schema, the secrets file, the store's kept metrics and the report's problems all read that table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProbeKindSpec"]


@dataclass(frozen=True, slots=True)
class ProbeKindSpec:
    """Everything the rest of the toolkit needs to know about one probe kind."""

    name: str
    """The probe name used in profiles, results and ``--only`` (``snmp``)."""
    probe_class: str
    """``package.module:Class`` of the probe, imported only when a run needs it."""
    settings_schema: str | None = None
    """File name under ``probes/schema/`` that validates this kind's own settings file."""
    secrets_protocol: str | None = None
    """The key of this kind's entries in the secrets file (None: needs no secret)."""
    kept_metrics: frozenset[str] = frozenset()
    """Metrics copied into rollups for reports; the rest stays in raw results only."""
    availability: bool = False
    """Whether this kind's status can say up/down for availability; a report takes the first
    such kind (in catalog order: ping before the others) that has results for a device."""
    findings: str | None = None
    """``package.module:function`` turning a stored result into report problems (pure)."""
    summary: str = ""
    """One line for ``itops probe --help``."""
