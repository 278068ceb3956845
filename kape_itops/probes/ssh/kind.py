"""The SSH probe kind, declared once (nothing heavy imported here)."""

from __future__ import annotations

from kape_itops.probes.kind import ProbeKindSpec

__all__ = ["KIND"]

KIND = ProbeKindSpec(
    name="ssh",
    probe_class="kape_itops.probes.ssh.probe:SshProbe",
    settings_schema="ssh.schema.json",
    secrets_protocol="ssh",
    availability=True,
    findings="kape_itops.probes.ssh.findings:findings",
    kept_metrics=frozenset({"uptime_s", "levels"}),
    summary="SSH health commands and configuration backups (netmiko)",
)
