"""Kind profiles: every shipped file validates, every kind has one, overrides merge, bad files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError
from kape_itops.probes.profiles import DEFAULT_DEADLINE_S, load_profiles, merge
from kape_itops.probes.thresholds import judge

REPO = Path(__file__).resolve().parents[2]
PROBES = REPO / "probes"


def at(path: Path, rest: str) -> str:
    """A pattern of one located problem: ``FILE:LINE at PATH: message`` (``rest``, literal)."""
    return re.escape(str(path)) + r":\d+ at " + re.escape(rest)


@pytest.fixture
def probes_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped profiles and schemas."""
    dest = tmp_path / "probes"
    shutil.copytree(PROBES / "kinds", dest / "kinds")
    shutil.copytree(PROBES / "schema", dest / "schema")
    return dest


def test_every_shipped_profile_loads_and_every_kind_has_one() -> None:
    profiles = load_profiles(PROBES)
    assert profiles.missing() == []
    assert set(profiles.kinds) == set(DeviceKind)
    shipped = sorted(p.stem for p in (PROBES / "kinds").glob("*.yaml"))
    assert shipped == sorted(k.value for k in DeviceKind)
    for kind, profile in profiles.kinds.items():
        assert "ping" in profile.probes, kind
        limits = profile.sections["ping"]["thresholds"]
        assert limits["rtt_avg_ms"]["warn"] < limits["rtt_avg_ms"]["crit"], kind
        assert limits["loss_pct"]["warn"] < limits["loss_pct"]["crit"], kind
        for probe in profile.probes:
            if probe != "ping":
                assert probe in profile.sections, f"{kind}: no settings for {probe}"


@pytest.mark.parametrize(
    ("kind", "ports"),
    [
        (DeviceKind.PRINTER, [9100, 631, 80]),
        (DeviceKind.CAMERA, [80, 554]),
        (DeviceKind.SWITCH, [22, 80, 443]),
        (DeviceKind.LAPTOP, [445, 3389, 22]),
    ],
)
def test_tcp_fallback_ports_per_kind(kind: DeviceKind, ports: list[int]) -> None:
    assert load_profiles(PROBES).kinds[kind].sections["ping"]["tcp_ports"] == ports


def test_probes_per_kind() -> None:
    p = load_profiles(PROBES)
    assert p.kinds[DeviceKind.PRINTER].probes == ("ping", "snmp")
    assert p.kinds[DeviceKind.CAMERA].probes == ("ping", "onvif")
    assert p.kinds[DeviceKind.SWITCH].probes == ("ping", "snmp", "ssh")
    assert p.kinds[DeviceKind.PRINTER].sections["snmp"]["profile"] == "printer"


def test_bad_value_names_file_path_and_reason(probes_dir: Path) -> None:
    f = probes_dir / "kinds" / "printer.yaml"
    f.write_text(f.read_text().replace("count: 3", "count: -1"))
    with pytest.raises(ConfigError) as err:
        load_profiles(probes_dir)
    assert re.search(at(f, "ping.count: -1 is less than the minimum of 1"), str(err.value))


def test_every_bad_file_is_reported_at_once(probes_dir: Path) -> None:
    a = probes_dir / "kinds" / "camera.yaml"
    a.write_text(a.read_text().replace("probes: [ping, onvif]", "probes: [ping, ping]"))
    b = probes_dir / "kinds" / "ups.yaml"
    b.write_text(b.read_text() + "colour: blue\n")
    with pytest.raises(ConfigError) as err:
        load_profiles(probes_dir)
    text = str(err.value)
    assert re.search(at(a, "probes: ['ping', 'ping'] has non-unique elements"), text)
    assert re.search(
        at(b, "(document): Additional properties are not allowed ('colour' was unexpected)"), text
    )


def test_unknown_ping_key_is_rejected(probes_dir: Path) -> None:
    f = probes_dir / "kinds" / "tablet.yaml"
    f.write_text(f.read_text().replace("  count: 3", "  cuont: 3"))
    with pytest.raises(
        ConfigError, match=r"at ping: Unevaluated properties are not allowed \('cuont'"
    ):
        load_profiles(probes_dir)


def test_kind_must_match_file_name(probes_dir: Path) -> None:
    src = probes_dir / "kinds" / "ups.yaml"
    (probes_dir / "kinds" / "other.yaml").write_text(src.read_text())
    with pytest.raises(
        ConfigError, match=r"other.yaml:\d+ at kind: 'ups' does not match the file name"
    ):
        load_profiles(probes_dir)


def test_yaml_syntax_error_names_the_line(probes_dir: Path) -> None:
    f = probes_dir / "kinds" / "nvr.yaml"
    f.write_text("kind: nvr\nprobes: [ping\n")
    with pytest.raises(ConfigError, match=r"nvr.yaml:\d+: not valid YAML"):
        load_profiles(probes_dir)


def test_a_broken_file_does_not_hide_the_problems_of_the_others(probes_dir: Path) -> None:
    broken = probes_dir / "kinds" / "nvr.yaml"
    broken.write_text("kind: nvr\nprobes: [ping\n")
    bad = probes_dir / "kinds" / "printer.yaml"
    bad.write_text(bad.read_text().replace("count: 3", "count: -1"))
    over = probes_dir / "overrides.yaml"
    over.write_text("schools:\n  KPT-PSP:\n    mood: happy\n")
    with pytest.raises(ConfigError) as err:
        load_profiles(probes_dir)
    text = str(err.value)
    assert re.search(re.escape(str(broken)) + r":\d+: not valid YAML", text)
    assert re.search(at(bad, "ping.count: -1 is less than the minimum of 1"), text)
    assert re.search(at(over, "schools.KPT-PSP: Additional properties are not allowed"), text)


def test_missing_folder_and_missing_kind(tmp_path: Path, probes_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no kinds"):
        load_profiles(tmp_path / "nowhere")
    (probes_dir / "kinds" / "ups.yaml").unlink()
    profiles = load_profiles(probes_dir)
    assert profiles.missing() == [DeviceKind.UPS]
    with pytest.raises(
        ConfigError, match=r"no probe profile for device kind 'ups': expected .*ups.yaml"
    ):
        profiles.probes_for(Device("U1", DeviceKind.UPS, "S1"))


def test_overrides_merge_school_then_device(probes_dir: Path) -> None:
    (probes_dir / "overrides.yaml").write_text(
        "schools:\n"
        "  KPT-PSP:\n"
        "    deadline_s: 90\n"
        "    ping: {thresholds: {rtt_avg_ms: {warn: 300, crit: 900}}, count: 5}\n"
        "    snmp: {thresholds: {supply_pct: {warn: 25}}}\n"
        "devices:\n"
        "  KAPE-0042:\n"
        "    ping: {thresholds: {rtt_avg_ms: {crit: 1500}}}\n"
    )
    profiles = load_profiles(probes_dir)
    plain = Device("KAPE-0001", DeviceKind.PRINTER, "KPT-PSH")
    school = Device("KAPE-0002", DeviceKind.PRINTER, "KPT-PSP")
    device = Device("KAPE-0042", DeviceKind.PRINTER, "KPT-PSP")
    assert profiles.settings_for(plain, "ping")["thresholds"]["rtt_avg_ms"]["crit"] == 200
    s = profiles.settings_for(school, "ping")
    assert s["thresholds"]["rtt_avg_ms"] == {"warn": 300, "crit": 900}
    assert s["thresholds"]["loss_pct"] == {"warn": 10, "crit": 50}
    assert (s["count"], s["tcp_ports"]) == (5, [9100, 631, 80])
    d = profiles.settings_for(device, "ping")
    assert d["thresholds"]["rtt_avg_ms"] == {"warn": 300, "crit": 1500}
    snmp = profiles.settings_for(school, "snmp")
    assert snmp["thresholds"]["supply_pct"] == {"warn": 25, "crit": 5}
    assert snmp["profile"] == "printer"
    assert profiles.deadline_for(plain) == 40
    assert profiles.deadline_for(device) == 90


def test_device_probes_field_replaces_the_kind_list() -> None:
    profiles = load_profiles(PROBES)
    switch = Device("SW1", DeviceKind.SWITCH, "S1")
    assert profiles.probes_for(switch) == ("ping", "snmp", "ssh")
    assert profiles.probes_for(Device("SW2", DeviceKind.SWITCH, "S1", probes=("ping",))) == (
        "ping",
    )


def test_bad_overrides_file_is_reported(probes_dir: Path) -> None:
    f = probes_dir / "overrides.yaml"
    f.write_text(
        "schools:\n  KPT-PSP:\n    ping: {thresholds: {loss_pct: {warn: ten}}}\n    mood: happy\n"
    )
    with pytest.raises(ConfigError) as err:
        load_profiles(probes_dir)
    text = str(err.value)
    mood = "schools.KPT-PSP: Additional properties are not allowed ('mood' was unexpected)"
    assert re.search(at(f, mood), text)
    ten = "schools.KPT-PSP.ping.thresholds.loss_pct.warn: 'ten' is not of type 'number'"
    assert re.search(at(f, ten), text)


def test_empty_overrides_file_is_fine(probes_dir: Path) -> None:
    (probes_dir / "overrides.yaml").write_text("# nothing yet\n")
    profiles = load_profiles(probes_dir)
    assert profiles.deadline_for(Device("X", DeviceKind.OTHER, "S")) == 20
    assert DEFAULT_DEADLINE_S == 60


def test_merge_is_deep_for_mappings_only() -> None:
    assert merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 2}) == {
        "a": {"b": 1, "c": [2]},
        "d": 1,
        "e": 2,
    }


def test_judge_higher_and_lower_is_worse() -> None:
    t = {"rtt_avg_ms": {"warn": 50, "crit": 200}, "supply_pct": {"warn": 15, "crit": 5}}
    assert judge({"rtt_avg_ms": 10, "supply_pct": 80}, t) == (ProbeStatus.OK, [])
    assert judge({"rtt_avg_ms": 60}, t) == (ProbeStatus.WARN, ["rtt_avg_ms 60 >= 50 (warn)"])
    assert judge({"supply_pct": 3}, t) == (ProbeStatus.CRIT, ["supply_pct 3 <= 5 (crit)"])
    status, reasons = judge({"rtt_avg_ms": 250, "supply_pct": 12}, t)
    assert status == ProbeStatus.CRIT
    assert reasons == ["rtt_avg_ms 250 >= 200 (crit)", "supply_pct 12 <= 15 (warn)"]
    assert judge({"rtt_avg_ms": None, "supply_pct": "n/a"}, t) == (ProbeStatus.OK, [])


def test_shipped_overrides_example_validates(probes_dir: Path) -> None:
    shutil.copy(PROBES / "overrides.example.yaml", probes_dir / "overrides.yaml")
    profiles = load_profiles(probes_dir)
    printer = Device("KAPE-0042", DeviceKind.PRINTER, "KPT-PSH")
    ping = profiles.settings_for(printer, "ping")
    assert ping["count"] == 5
    assert ping["thresholds"] == {
        "rtt_avg_ms": {"warn": 250, "crit": 800},
        "loss_pct": {"warn": 25, "crit": 70},
    }
    assert profiles.deadline_for(printer) == 90
