"""Problems from results and the inventory, sorted by severity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.problems import Observation, ProblemKind, Severity
from kape_itops.errors import ConfigError
from kape_itops.reports.problems import (
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
        "if_down:gi8": "crit",
        "if_down:gi3": "ok",
    }
    got = obs("snmp", supplies=supplies, disk_used_pct=80, if_down=["gi3", "gi8"], levels=levels)
    assert kinds(got) == [
        ("toner_low", "crit", "K at 12 %"),
        ("toner_low", "warn", "C at 20 %"),
        ("disk_full", "crit", "disk 80 % used"),
        ("interface_down", "crit", "interface gi8 is down"),
    ]
    camera = {"clock_drift_s": "ok", "recording": "crit"}  # e.g. drift 5/300 raised to 60/600
    got = obs("onvif", clock_drift_s=30, recording=False, levels=camera)
    assert kinds(got) == [("not_recording", "crit", "not recording")]


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
    onvif = yaml.safe_load((REPO / "probes/onvif.yaml").read_text(encoding="utf-8"))
    snmp_th, onvif_th = TH.of("snmp"), TH.of("onvif")
    toner, disk = snmp_th["supply_pct"], snmp_th["disk_used_pct"]
    for limits in (base["thresholds"]["supply_pct"], printer["snmp"]["thresholds"]["supply_pct"]):
        assert (limits["warn"], limits["crit"]) == (toner["warn"], toner["crit"])
    for limits in (base["thresholds"]["disk_used_pct"], nvr["snmp"]["thresholds"]["disk_used_pct"]):
        assert (limits["warn"], limits["crit"]) == (disk["warn"], disk["crit"])
    drift = onvif_th["clock_drift_s"]
    for limits in (
        camera["onvif"]["thresholds"]["clock_drift_s"],
        onvif["defaults"]["thresholds"]["clock_drift_s"],
    ):
        assert (limits["warn"], limits["crit"]) == (drift["warn"], drift["crit"])


def _local_probes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toner: str, drift: str) -> None:
    """A local data folder whose SNMP base profile and ONVIF defaults say other numbers."""
    snmp = tmp_path / "probes" / "snmp"
    snmp.mkdir(parents=True)
    base = (REPO / "probes/snmp/base.yaml").read_text(encoding="utf-8")
    (snmp / "base.yaml").write_text(
        base.replace("supply_pct: {warn: 15, crit: 5}", toner), encoding="utf-8"
    )
    onvif = (REPO / "probes/onvif.yaml").read_text(encoding="utf-8")
    (tmp_path / "probes" / "onvif.yaml").write_text(
        onvif.replace("clock_drift_s: {warn: 5, crit: 300}", drift), encoding="utf-8"
    )
    monkeypatch.setenv("ITOPS_DATA", str(tmp_path))


def test_fallback_thresholds_follow_the_local_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One source: the profile the probe reads also judges a result stored without verdicts."""
    _local_probes(
        tmp_path,
        monkeypatch,
        "supply_pct: {warn: 25, crit: 10}",
        "clock_drift_s: {warn: 60, crit: 600}",
    )
    th = Thresholds()
    assert th.of("snmp")["supply_pct"] == {"warn": 25, "crit": 10}
    toner = obs("snmp", supplies=[{"name": "K", "pct": 20}, {"name": "C", "pct": 8}])
    assert [(p.severity.value, p.detail) for p in from_observation(toner, th)] == [
        ("warn", "K at 20 %"),
        ("crit", "C at 8 %"),
    ]
    assert from_observation(obs("onvif", clock_drift_s=30), th) == []
    (p,) = from_observation(obs("onvif", clock_drift_s=-601), th)
    assert (p.kind, p.severity) == (ProblemKind.CLOCK_DRIFT, Severity.CRIT)


def test_results_with_verdicts_never_read_the_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _local_probes(tmp_path, monkeypatch, "supply_pct: [broken", "clock_drift_s: [broken")
    th = Thresholds()
    judged = obs("snmp", supplies=[{"name": "K", "pct": 20}], levels={"supplies:K": "warn"})
    assert [p.detail for p in from_observation(judged, th)] == ["K at 20 %"]
    with pytest.raises(ConfigError):
        from_observation(obs("snmp", supplies=[{"name": "K", "pct": 20}]), th)


def test_each_kind_finds_only_its_own_problems() -> None:
    """A kind reads its own metrics; a kind without findings (a plugin) shows its status only."""
    assert kinds(obs("http", disk_used_pct=99, recording=False, if_down=["eth0"])) == []
    assert kinds(obs("http", "crit", disk_used_pct=99)) == [("probe_finding", "crit", "r")]
    assert kinds(obs("snmp", recording=False, clock_drift_s=900)) == []
    assert kinds(obs("ping", disk_used_pct=99)) == []
    assert kinds(obs("ssh", "warn", if_down=["ge-0/0/1"], rebooted=True)) == [
        ("interface_down", "warn", "interface ge-0/0/1 is down"),
        ("rebooted", "warn", "rebooted"),
    ]


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
