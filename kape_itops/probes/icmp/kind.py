"""The ping probe kind, declared once (nothing heavy imported here).

The package is ``icmp``; the kind keeps its name ``ping`` in profiles, results and the CLI.
"""

from __future__ import annotations

from kape_itops.probes.kind import ProbeKindSpec

__all__ = ["KIND"]

KIND = ProbeKindSpec(
    name="ping",
    probe_class="kape_itops.probes.icmp.probe:PingProbe",
    kept_metrics=frozenset({"received"}),
    availability=True,
    findings="kape_itops.probes.icmp.findings:findings",
    summary="ICMP echo (raw or unprivileged), TCP connect fallback",
)
