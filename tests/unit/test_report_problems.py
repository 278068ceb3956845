"""Problems from results and the inventory, sorted by severity."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    assert from_observation(obs("ping", "warn"), TH) == []
    assert from_observation(obs("snmp", "crit"), TH) == []


def test_toner_levels() -> None:
    supplies = [
        {"name": "Black", "pct": 2},
        {"name": "Cyan", "pct": 10},
        {"name": "Magenta", "pct": 10.5},
        {"name": "Yellow", "pct": None},
    ]
    assert kinds(obs("snmp", supplies=supplies)) == [
        ("toner_low", "crit", "Black at 2 %"),
        ("toner_low", "warn", "Cyan at 10 %"),
    ]


def test_disk_drift_recording_interfaces_reboot_config() -> None:
    assert kinds(obs("snmp", disk_used_pct=84.9)) == []
    assert kinds(obs("snmp", disk_used_pct=85)) == [("disk_full", "warn", "disk 85 % used")]
    assert kinds(obs("snmp", disk_used_pct=96.2)) == [("disk_full", "crit", "disk 96 % used")]
    assert kinds(obs("onvif", clock_drift_s=-4.9)) == []
    assert kinds(obs("onvif", clock_drift_s=-7)) == [("clock_drift", "warn", "clock off by -7 s")]
    assert kinds(obs("onvif", clock_drift_s=299)) == [
        ("clock_drift", "warn", "clock off by +299 s")
    ]
    assert kinds(obs("onvif", clock_drift_s=301)) == [
        ("clock_drift", "crit", "clock off by +301 s")
    ]
    assert kinds(obs("onvif", recording=False)) == [
        ("not_recording", "warn", "camera is not recording")
    ]
    got = from_observation(obs("snmp", if_down=["Gi0/1", "Gi0/2"]), TH)
    assert [p.key for p in got] == ["interface_down:KAPE-1:Gi0/1", "interface_down:KAPE-1:Gi0/2"]
    assert kinds(obs("snmp", rebooted=True, uptime_s=7260)) == [
        ("rebooted", "warn", "rebooted (up 2 h 1 min)")
    ]
    assert kinds(obs("ssh", config_changed=True)) == [
        ("config_changed", "info", "configuration changed")
    ]
    assert kinds(obs("snmp", rebooted=False, disk_used_pct="garbage")) == []


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
