"""Problems from results and the inventory, sorted by severity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.reports.problems import (
    Observation,
    ProblemKind,
    Severity,
    Thresholds,
    from_observation,
    reboot_problem,
    sort_problems,
    warranty_problems,
)

REPO = Path(__file__).resolve().parents[2]
AT = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
TH = Thresholds()


def obs(probe: str, status: str = "ok", **metrics: Any) -> Observation:
    return Observation("KAPE-1", "KPT-PSP", probe, ProbeStatus(status), "r", AT, metrics)


def kinds(o: Observation) -> list[tuple[str, str, str]]:
    return [(p.kind.value, p.severity.value, p.detail) for p in from_observation(o, TH)]


def test_down_only_from_a_crit_ping_with_since() -> None:
    since = AT - dt.timedelta(hours=3)
    (p,) = from_observation(obs("ping", "crit"), TH, down_since=since)
    assert (p.kind, p.severity, p.since) == (ProblemKind.DOWN, Severity.CRIT, since)
    assert kinds(obs("ping", "crit", sent=3, received=3, rtt_avg_ms=250)) == [
        ("probe_finding", "crit", "r")  # slow, not down
    ]


def test_a_warn_or_crit_status_no_reading_explains_is_a_probe_finding() -> None:
    assert kinds(obs("ping", "warn")) == [("probe_finding", "warn", "r")]
    assert kinds(obs("snmp", "crit")) == [("probe_finding", "crit", "r")]
    assert kinds(obs("onvif", "unknown")) == [] and kinds(obs("snmp", "ok")) == []
    explained = obs("snmp", "warn", supplies=[{"name": "K", "pct": 12}])
    assert kinds(explained) == [("toner_low", "warn", "K at 12 %")]
    worse = obs("snmp", "crit", supplies=[{"name": "K", "pct": 12}])  # e.g. a paper jam too
    assert kinds(worse) == [("toner_low", "warn", "K at 12 %"), ("probe_finding", "crit", "r")]


def test_toner_levels_without_a_stored_verdict_follow_the_probe_rules() -> None:
    supplies = [
        {"name": "Black", "pct": 4},
        {"name": "Cyan", "pct": 12},
        {"name": "Magenta", "pct": 5},
        {"name": "Light", "pct": 15},
        {"name": "Yellow", "pct": None},
    ]
    assert kinds(obs("snmp", supplies=supplies)) == [
        ("toner_low", "crit", "Black at 4 %"),
        ("toner_low", "warn", "Cyan at 12 %"),
        ("toner_low", "warn", "Magenta at 5 %"),
    ]


def test_the_probes_stored_verdict_decides_the_severity() -> None:
    """A school override (supply_pct warn 25, crit 15) judged by the probe: the report agrees."""
    supplies = [{"name": "K", "pct": 12}, {"name": "C", "pct": 20}, {"name": "M", "pct": 3}]
    levels = {
        "supplies:K": "crit",
        "supplies:C": "warn",
        "supplies:M": "ok",
        "disk_used_pct": "crit",
        "clock_drift_s": "ok",
        "if_down:gi8": "crit",
        "if_down:gi3": "ok",
        "recording": "crit",
    }
    got = obs(
        "snmp",
        supplies=supplies,
        disk_used_pct=80,
        clock_drift_s=30,
        if_down=["gi3", "gi8"],
        recording=False,
        levels=levels,
    )
    assert kinds(got) == [
        ("toner_low", "crit", "K at 12 %"),
        ("toner_low", "warn", "C at 20 %"),
        ("disk_full", "crit", "disk 80 % used"),
        ("not_recording", "crit", "not recording"),
        ("interface_down", "crit", "interface gi8 is down"),
    ]


def test_disk_drift_recording_interfaces_reboot_config() -> None:
    assert kinds(obs("snmp", disk_used_pct=85)) == []
    assert kinds(obs("snmp", disk_used_pct=85.1)) == [("disk_full", "warn", "disk 85 % used")]
    assert kinds(obs("snmp", disk_used_pct=96.2)) == [("disk_full", "crit", "disk 96 % used")]
    assert kinds(obs("onvif", clock_drift_s=-5)) == []
    assert kinds(obs("onvif", clock_drift_s=-7)) == [("clock_drift", "warn", "clock off by -7 s")]
    assert kinds(obs("onvif", clock_drift_s=300)) == [
        ("clock_drift", "warn", "clock off by +300 s")
    ]
    assert kinds(obs("onvif", clock_drift_s=301)) == [
        ("clock_drift", "crit", "clock off by +301 s")
    ]
    assert kinds(obs("onvif", recording=False)) == [("not_recording", "crit", "not recording")]
    got = from_observation(obs("snmp", if_down=["Gi0/1", "Gi0/2"]), TH)
    assert [p.key for p in got] == ["interface_down:KAPE-1:Gi0/1", "interface_down:KAPE-1:Gi0/2"]
    assert kinds(obs("snmp", rebooted=True, uptime_s=7260)) == [
        ("rebooted", "warn", "rebooted (up 2 h 1 min)")
    ]
    assert kinds(obs("ssh", config_changed=True)) == [
        ("config_changed", "info", "configuration changed")
    ]
    assert kinds(obs("snmp", rebooted=False, disk_used_pct="garbage")) == []


def test_fallback_thresholds_are_the_shipped_probe_profiles() -> None:
    base = yaml.safe_load((REPO / "probes/snmp/base.yaml").read_text(encoding="utf-8"))
    printer = yaml.safe_load((REPO / "probes/kinds/printer.yaml").read_text(encoding="utf-8"))
    nvr = yaml.safe_load((REPO / "probes/kinds/nvr.yaml").read_text(encoding="utf-8"))
    camera = yaml.safe_load((REPO / "probes/kinds/camera.yaml").read_text(encoding="utf-8"))
    for limits in (base["thresholds"]["supply_pct"], printer["snmp"]["thresholds"]["supply_pct"]):
        assert (limits["warn"], limits["crit"]) == (TH.toner_warn_pct, TH.toner_crit_pct)
    for limits in (base["thresholds"]["disk_used_pct"], nvr["snmp"]["thresholds"]["disk_used_pct"]):
        assert (limits["warn"], limits["crit"]) == (TH.disk_warn_pct, TH.disk_crit_pct)
    drift = camera["onvif"]["thresholds"]["clock_drift_s"]
    assert (drift["warn"], drift["crit"]) == (TH.drift_warn_s, TH.drift_crit_s)


def test_reboots_in_period() -> None:
    assert reboot_problem("T", "S", 0, None) is None
    p = reboot_problem("T", "S", 3, AT)
    assert p is not None and p.detail == "rebooted 3× in the period" and p.since == AT


def test_warranties_expired_and_expiring() -> None:
    today = dt.date(2026, 11, 29)

    def dev(
        tag: str, until: dt.date | None, status: DeviceStatus = DeviceStatus.DEPLOYED
    ) -> Device:
        return Device(tag, DeviceKind.LAPTOP, "KPT-PSP", status=status, warranty_until=until)

    found = warranty_problems(
        [
            dev("A", dt.date(2026, 11, 28)),
            dev("B", dt.date(2026, 11, 29)),
            dev("C", dt.date(2027, 1, 28)),
            dev("D", dt.date(2027, 1, 29)),
            dev("E", dt.date(2020, 1, 1), DeviceStatus.RETIRED),
            dev("F", None),
        ],
        today,
        60,
    )
    assert [(p.asset_tag, p.kind.value) for p in found] == [
        ("A", "warranty_expired"),
        ("B", "warranty_expiring"),
        ("C", "warranty_expiring"),
    ]
    assert found[2].detail == "warranty ends 2027-01-28 (in 60 days)"


def test_sorted_by_severity_then_kind_school_device() -> None:
    ps = (
        from_observation(obs("ssh", config_changed=True), TH)
        + from_observation(obs("snmp", disk_used_pct=90), TH)
        + from_observation(obs("ping", "crit"), TH)
        + from_observation(obs("snmp", supplies=[{"name": "K", "pct": 1}]), TH)
    )
    assert [p.kind.value for p in sort_problems(ps)] == [
        "down",
        "toner_low",
        "disk_full",
        "config_changed",
    ]
