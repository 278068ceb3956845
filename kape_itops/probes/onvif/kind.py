"""The ONVIF probe kind, declared once (nothing heavy imported here)."""

from __future__ import annotations

from kape_itops.probes.kind import ProbeKindSpec

__all__ = ["KIND"]

KIND = ProbeKindSpec(
    name="onvif",
    probe_class="kape_itops.probes.onvif.probe:OnvifProbe",
    settings_schema="onvif.schema.json",
    secrets_protocol="onvif",
    availability=True,
    findings="kape_itops.probes.onvif.findings:findings",
    kept_metrics=frozenset({"clock_drift_s", "recording", "levels"}),
    summary="ONVIF cameras and NVRs: clock, profiles, stream, snapshot, recording",
)
