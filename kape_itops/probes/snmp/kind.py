"""The SNMP probe kind, declared once (nothing heavy imported here)."""

from __future__ import annotations

from kape_itops.probes.kind import ProbeKindSpec

__all__ = ["KIND"]

KIND = ProbeKindSpec(
    name="snmp",
    probe_class="kape_itops.probes.snmp.probe:SnmpProbe",
    settings_schema="snmp.schema.json",
    secrets_protocol="snmp",
    availability=True,
    findings="kape_itops.probes.snmp.findings:findings",
    kept_metrics=frozenset(
        {
            "supplies",
            "page_count",
            "disk_used_pct",
            "if_down",
            "uptime_s",
            "clients",
            "levels",
            # the ups check (checks/ups.py: KEPT)
            "ups_battery_status",
            "ups_charge_pct",
            "ups_minutes_left",
            "ups_on_battery",
            "ups_output_source",
            "ups_alarms",
        }
    ),
    summary="SNMP v1/v2c/v3: system, interfaces, printer supplies, disks, clients, UPS battery",
)
