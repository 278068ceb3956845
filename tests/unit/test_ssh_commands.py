"""The shipped SSH command sets: every file validates, and bad files are refused clearly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError
from kape_itops.lab.ssh_sim import PLATFORMS, recording
from kape_itops.probes.ssh.settings import load_command_sets

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "probes" / "ssh").glob("*.yaml"))


def test_every_shipped_command_set_loads() -> None:
    sets = load_command_sets(REPO / "probes")
    assert sets.names == [p.stem for p in SHIPPED]
    for name in (
        "mikrotik_routeros",
        "cisco_ios",
        "ubiquiti_edgeswitch",
        "tplink_jetstream",
        "cisco_s300",
        "linux",
    ):
        cs = sets.get(name)
        assert cs.checks and cs.device_type == name
        assert cs.thresholds.get("cpu_pct")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_simulator_answers_every_shipped_command(platform: str) -> None:
    cs = load_command_sets(REPO / "probes").get(platform)
    commands = {" ".join(c.split()) for c in recording(platform)["commands"]}
    for hc in cs.checks:
        assert " ".join(hc.command.split()) in commands, hc.command
    if platform == "linux":  # a Linux host has no running configuration to back up
        assert cs.backup is None
    else:
        assert cs.backup is not None
        assert cs.backup.command in ("show running-config", "/export terse")


def test_lookup_by_alias_device_type_and_manufacturer() -> None:
    sets = load_command_sets(REPO / "probes")
    assert sets.get("MikroTik").platform == "mikrotik_routeros"
    assert sets.get("catalyst").platform == "cisco_ios"
    router = Device("R1", DeviceKind.ROUTER, "KPT-PSP", manufacturer="MikroTik")
    assert sets.for_device(router) is sets.get("mikrotik_routeros")
    assert sets.for_device(router, "cisco") is sets.get("cisco_ios")
    assert sets.for_device(Device("X", DeviceKind.SWITCH, "KPT-PSP")) is None
    with pytest.raises(
        ConfigError, match="no SSH command set for platform 'junos'; known: cisco_ios"
    ):
        sets.get("junos")


@pytest.mark.parametrize(
    ("platform", "command", "changes"),
    [
        ("cisco_ios", "show running-config", False),
        ("cisco_ios", "conf t", True),
        ("cisco_ios", "configure terminal", True),
        ("cisco_ios", "write memory", True),
        ("cisco_ios", "reload", True),
        ("mikrotik_routeros", "/system resource print", False),
        ("mikrotik_routeros", "/system identity set name=x", True),
        ("mikrotik_routeros", "/ip address add address=1.2.3.4/24 interface=ether1", True),
        ("mikrotik_routeros", "/system reboot", True),
        ("linux", "uptime", False),
        ("linux", "sudo reboot", True),
        ("linux", "echo x > /etc/motd", True),
        ("linux", "ls; rm -rf /tmp/x", True),
    ],
)
def test_config_command_guard(platform: str, command: str, changes: bool) -> None:
    assert load_command_sets(REPO / "probes").get(platform).changes_config(command) is changes


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "probes" / "schema", tmp_path / "schema")
    (tmp_path / "ssh").mkdir()
    shutil.copy(REPO / "probes" / "ssh" / "linux.yaml", tmp_path / "ssh" / "linux.yaml")
    return tmp_path


def test_bad_files_are_refused_with_file_and_place(tmp_path: Path) -> None:
    probes = _copy(tmp_path)
    (probes / "ssh" / "bad.yaml").write_text(
        "platform: bad\ndevice_type: cisco_ios\nchecks:\n"
        "  - {name: v, command: show version, parser: magic, reads: version}\n"
    )
    (probes / "ssh" / "named.yaml").write_text(
        "platform: other\ndevice_type: linux\nchecks:\n"
        "  - {name: v, command: uname, parser: text, reads: text}\n"
    )
    (probes / "ssh" / "broken.yaml").write_text("platform: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_command_sets(probes)
    text = str(err.value)
    assert "bad.yaml:4 at checks[0].parser: 'magic' is not one of" in text
    assert "named.yaml:1 at platform: platform 'other' does not match the file name" in text
    assert re.search(r"broken\.yaml:\d+: not valid YAML", text)


def test_bad_regex_and_duplicates_and_missing_folder(tmp_path: Path) -> None:
    probes = _copy(tmp_path)
    (probes / "ssh" / "dup.yaml").write_text(
        "platform: dup\ndevice_type: linux\nconfig_commands: ['(']\nchecks:\n"
        "  - {name: v, command: uname, parser: text, reads: text}\n"
    )
    with pytest.raises(
        ConfigError, match=r"dup.yaml:3 at config_commands\[0\]: '\(' is not a 'regex'"
    ):
        load_command_sets(probes)
    (probes / "ssh" / "dup.yaml").write_text(
        "platform: dup\ndevice_type: linux\nchecks:\n"
        "  - {name: v, command: uname, parser: text, reads: text}\n"
        "  - {name: v, command: uname -a, parser: text, reads: text}\n"
    )
    with pytest.raises(ConfigError, match=r"dup\.yaml:4 at checks: duplicate check name"):
        load_command_sets(probes)
    with pytest.raises(ConfigError, match="no ssh"):
        load_command_sets(tmp_path / "nowhere")
