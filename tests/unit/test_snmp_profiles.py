"""SNMP profiles: every shipped file validates; bad files are refused with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kape_itops.errors import ConfigError
from kape_itops.probes.snmp.settings import load_profiles

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "probes" / "snmp"
KINDS = REPO / "probes" / "kinds"


def test_every_shipped_profile_loads_and_resolves() -> None:
    profiles = load_profiles(SHIPPED)
    assert {"base", "switch", "router", "hotspot", "printer", "nvr", "host", "ups"} <= set(
        profiles.names()
    )
    for name in profiles.names():
        profile = profiles.get(name)
        assert "system" in profile.checks
        assert profile.section("system")["sys_uptime"] == "1.3.6.1.2.1.1.3.0"


def test_every_kind_profile_names_an_existing_snmp_profile() -> None:
    import yaml

    names = set(load_profiles(SHIPPED).names())
    for path in KINDS.glob("*.yaml"):
        section = (yaml.safe_load(path.read_text()) or {}).get("snmp")
        if section and section.get("profile"):
            assert section["profile"] in names, path


def test_vendor_table_has_the_four_vendors() -> None:
    vendors = load_profiles(SHIPPED).get("hotspot").section("clients")["vendors"]
    assert {"MikroTik", "Ubiquiti", "TP-Link", "Cisco"} <= {v["name"] for v in vendors}


def test_settings_override_thresholds_and_limits() -> None:
    printer = load_profiles(SHIPPED).get("printer")
    tuned = printer.with_settings(
        {"thresholds": {"supply_pct": {"warn": 25}}, "timeout_s": 0.5, "deadline_s": 3}
    )
    assert tuned.thresholds["supply_pct"] == {"warn": 25, "crit": 5}
    assert (tuned.timeout_s, tuned.deadline_s) == (0.5, 3.0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "schema").mkdir()
    shutil.copy(REPO / "probes" / "schema" / "snmp.schema.json", tmp_path / "schema")
    (tmp_path / "snmp").mkdir()
    shutil.copy(SHIPPED / "base.yaml", tmp_path / "snmp")
    return tmp_path / "snmp"


def test_a_bad_oid_is_refused_with_its_location(folder: Path) -> None:
    (folder / "bad.yaml").write_text(
        "name: bad\ndescription: x\nextends: base\nsystem: {sys_name: 'sysName.0'}\n"
    )
    with pytest.raises(
        ConfigError, match=r"bad.yaml:4 at system.sys_name: 'sysName.0' does not match"
    ):
        load_profiles(folder)


def test_unknown_check_is_refused(folder: Path) -> None:
    (folder / "bad.yaml").write_text("name: bad\ndescription: x\nchecks: [toner]\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3 at checks\[0\]: 'toner' is not one of"):
        load_profiles(folder)


def test_every_problem_of_every_file_is_reported(folder: Path) -> None:
    (folder / "bad.yaml").write_text(
        "name: bad\ndescription: x\nchecks: [toner]\nsystem: {sys_name: 'sysName.0'}\n"
    )
    (folder / "one.yaml").write_text("name: two\ndescription: x\n")
    (folder / "broken.yaml").write_text("name: broken\nchecks: [system\n")
    with pytest.raises(ConfigError) as err:
        load_profiles(folder)
    text = str(err.value)
    assert "bad.yaml:3 at checks[0]: 'toner' is not one of" in text
    assert "bad.yaml:4 at system.sys_name: 'sysName.0' does not match" in text
    assert "one.yaml:1 at name: name 'two' must match the file name 'one'" in text
    assert "broken.yaml:3: not valid YAML" in text


def test_name_must_match_file(folder: Path) -> None:
    (folder / "one.yaml").write_text("name: two\ndescription: x\n")
    with pytest.raises(ConfigError, match="must match the file name 'one'"):
        load_profiles(folder)


def test_extends_loop_and_unknown_profile(folder: Path) -> None:
    (folder / "a.yaml").write_text("name: a\ndescription: x\nextends: b\n")
    (folder / "b.yaml").write_text("name: b\ndescription: x\nextends: a\n")
    profiles = load_profiles(folder)
    with pytest.raises(ConfigError, match="extend in a loop: a -> b -> a"):
        profiles.get("a")
    with pytest.raises(ConfigError, match="unknown SNMP profile 'zzz'"):
        profiles.get("zzz")


def test_check_without_its_section_is_refused(folder: Path) -> None:
    (folder / "lone.yaml").write_text(
        "name: lone\ndescription: x\nchecks: [system, storage]\nsystem: {sys_uptime: 1.3.6.1.2.1.1.3.0}\n"
    )
    with pytest.raises(ConfigError, match="runs 'storage' but has no 'storage' section"):
        load_profiles(folder).get("lone")
