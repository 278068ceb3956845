"""netmiko against the simulator's TP-Link JetStream, Ubiquiti EdgeSwitch, Cisco Sx300/CBS and
Linux personalities: real sessions (prompts, enable, paging), health checks read into metrics,
configuration backups with secrets masked, configuration mode, and the lab's platform mapping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.lab import LabContext, LabDevice
from kape_itops.lab.ssh_sim import (
    LAB_ENABLE_SECRET,
    LAB_PASSWORD,
    LAB_USERNAME,
    PERSONALITIES,
    SimDevice,
    SshSimHandle,
    lab_component,
    start_ssh_sim,
)
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.ssh.client import SshFailure, SshLogin, SshOptions, SshSession, connect
from kape_itops.probes.ssh.evaluate import clean_config
from kape_itops.probes.ssh.hostkeys import KnownHosts
from kape_itops.probes.ssh.probe import SshProbe, fetch_config
from kape_itops.probes.ssh.scrub import MASK
from kape_itops.probes.ssh.settings import CommandSet, load_command_sets
from kape_itops.secrets import Secret

REPO = Path(__file__).resolve().parents[2]
LOGIN = SshLogin(LAB_USERNAME, Secret(LAB_PASSWORD), enable_secret=Secret(LAB_ENABLE_SECRET))
SETS = load_command_sets(REPO / "probes")
NEW = ("tplink_jetstream", "ubiquiti_edgeswitch", "cisco_s300", "linux")

# Secrets in each recorded configuration that must never reach storage.
SECRETS = {
    "tplink_jetstream": [
        "$1$E7E4G4F3I8J3G0@<A4I4I6I7A7K4H5G/",
        "Support-2026",
        "$1$J5H6H8C3D3I2I0L7F5L6J5C8K2F0F4H/",
        "SchoolRO-7781",
        "SchoolRW-9ab2",
        "Vty-Pass-77",
    ],
    "ubiquiti_edgeswitch": [
        "5e8848a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9",
        "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7",
        "SchoolRO-7781",
        "SchoolRW-9ab2",
    ],
    "cisco_s300": [
        "$15$Zk8sB3aPq1cYdW2x$Qm1oR5vT7wX9yZ0aB2cD4eF6gH8iJ0kL2mN4oP6qR8s=",
        "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
        "7c4a8d09ca3762af61e59520943dc26494f8941b",
        "SchoolRO-7781",
        "SchoolRW-9ab2",
    ],
}


@pytest.fixture(scope="module")
def sim() -> Iterator[SshSimHandle]:
    handle = start_ssh_sim([SimDevice(platform=p, hostname=f"sw-{i}") for i, p in enumerate(NEW)])
    try:
        yield handle
    finally:
        handle.stop()


def _device(sim: SshSimHandle, platform: str) -> SimDevice:
    return next(d for d in sim.devices if d.platform == platform)


def _check(
    devices: list[SimDevice], tmp_path: Path, login: SshLogin = LOGIN, **settings: object
) -> list[ProbeResult]:
    async def go() -> list[ProbeResult]:
        probe = SshProbe(
            probes_dir=REPO / "probes",
            known_hosts=KnownHosts(tmp_path / "kh", trust_new=True),
            login=login,
        )
        await probe.start(ProbeContext())
        try:
            targets = [
                Target(d.address, d.port, settings={"platform": d.platform, **settings})
                for d in devices
            ]
            return list(await asyncio.gather(*(probe.check(t) for t in targets)))
        finally:
            await probe.stop()

    return asyncio.run(go())


def _session(device: SimDevice, cs: CommandSet, login: SshLogin = LOGIN) -> SshSession:
    return connect(device.address, device.port, cs.device_type, login, SshOptions(None, 5, 10))


def test_health_checks_read_every_new_platform(sim: SshSimHandle, tmp_path: Path) -> None:
    results = dict(zip(NEW, _check(sim.devices, tmp_path), strict=True))
    for platform, r in results.items():
        assert r.status == ProbeStatus.OK, (platform, r.reason)
        assert r.metrics["platform"] == platform
        assert r.method == f"ssh {platform}"
    tp = results["tplink_jetstream"]
    assert tp.reason == (
        "ok: TL-SG2210P 3.20, 3.20.1 Build 20210323 Rel.33462, up 12d 4h, cpu 7%, mem 61%"
    )
    assert tp.metrics["uptime_s"] == 12 * 86400 + 4 * 3600 + 33 * 60 + 51
    assert (tp.metrics["if_up"], tp.metrics["if_down"]) == (7, ["Gi1/0/4", "Gi1/0/6", "Gi1/0/9"])
    es = results["ubiquiti_edgeswitch"]
    assert es.reason == "ok: ES-24-Lite, 1.9.3.5170040, cpu 4.48%, mem 63.7%"
    assert es.metrics["if_down"] == ["0/4", "0/6", "0/25", "3/1"] and es.metrics["if_up"] == 6
    s300 = results["cisco_s300"]
    assert s300.reason == "ok: 3.1.1.7, up 12d 4h, cpu 4%"
    assert s300.metrics["if_up"] == 9 and "gi28" not in s300.metrics["if_down"]
    linux = results["linux"]
    assert linux.reason == "ok: Linux 4.4.198, up 12d 3h, cpu 10.5%, mem 52.5%"
    assert linux.metrics["if_up"] == 4


def test_thresholds_of_the_new_command_sets_apply(sim: SshSimHandle, tmp_path: Path) -> None:
    devices = [_device(sim, "tplink_jetstream"), _device(sim, "ubiquiti_edgeswitch")]
    tp, es = _check(devices, tmp_path, thresholds={"mem_pct": {"warn": 60, "crit": 62}})
    assert tp.status == ProbeStatus.WARN and "mem_pct 61 >= 60 (warn)" in tp.reason
    assert es.status == ProbeStatus.CRIT and "mem_pct 63.7 >= 62 (crit)" in es.reason


@pytest.mark.parametrize("platform", ["tplink_jetstream", "ubiquiti_edgeswitch", "cisco_s300"])
def test_backup_is_scrubbed_and_stable(sim: SshSimHandle, platform: str) -> None:
    cs = SETS.get(platform)
    device = _device(sim, platform)
    hashes = set()
    for _ in range(2):
        with _session(device, cs) as session:
            raw = fetch_config(session, cs)
        clean = clean_config(raw, cs)
        hashes.add(clean.sha256)
    assert len(hashes) == 1  # volatile lines (EdgeSwitch SNTP time stamp) are dropped
    for secret in SECRETS[platform]:
        assert secret in raw
        assert secret not in clean.text
    assert clean.masked >= len(SECRETS[platform]) and MASK in clean.text
    assert device.hostname in clean.text
    if platform == "ubiquiti_edgeswitch":
        assert "!Current SNTP Synchronized Time" in raw
        assert "SNTP Synchronized" not in clean.text and "System Up Time" not in clean.text
    if platform == "cisco_s300":
        assert "username admin password encrypted <masked> privilege 15" in clean.text
        assert "enable password level 15 encrypted <masked>" in clean.text


@pytest.mark.parametrize(
    ("platform", "line", "prompt"),
    [
        ("tplink_jetstream", 'location "Library"', "(config)#"),
        ("ubiquiti_edgeswitch", 'snmp-server location "Library"', "(Config)#"),
        ("cisco_s300", 'snmp-server location "Library"', "(config)#"),
    ],
)
def test_configuration_mode_changes_the_running_config(
    platform: str, line: str, prompt: str
) -> None:
    handle = start_ssh_sim([SimDevice(platform=platform, hostname="cfg-sw")])
    try:
        cs = SETS.get(platform)
        with _session(handle.devices[0], cs) as session:
            session.enable()
            out = session.configure([line])
            assert prompt in out
            assert session.prompt.strip() in ("cfg-sw", "(cfg-sw)")
            config = fetch_config(session, cs)
        assert line in config
        assert handle.states[0].config_lines.count(line) == 1
    finally:
        handle.stop()


def _shell(device: SimDevice) -> tuple[paramiko.SSHClient, paramiko.Channel]:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        device.address,
        device.port,
        LAB_USERNAME,
        LAB_PASSWORD,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    chan = client.invoke_shell()
    chan.settimeout(5)
    return client, chan


def _until(chan: paramiko.Channel, *markers: str) -> str:
    seen, deadline = "", time.monotonic() + 10
    while not any(m in seen for m in markers) and time.monotonic() < deadline:
        seen += chan.recv(65536).decode()
    assert any(m in seen for m in markers), seen
    return seen


def test_jetstream_enable_then_enable_admin_and_its_paging(sim: SshSimHandle) -> None:
    client, chan = _shell(_device(sim, "tplink_jetstream"))
    try:
        _until(chan, "sw-0>")
        chan.send("show running-config\r\n")
        assert "Error: Bad command" in _until(chan, "sw-0>")  # privileged command
        chan.send("enable\r\n")
        _until(chan, "Password:")
        chan.send("wrong\r\n")
        _until(chan, "sw-0>")
        chan.send("enable\r\n")
        _until(chan, "Password:")
        chan.send(LAB_ENABLE_SECRET + "\r\n")
        _until(chan, "sw-0#")
        chan.send("enable-admin\r\n")
        _until(chan, "sw-0#")
        chan.send("show running-config\r\n")
        first = _until(chan, "Press any key to continue (Q to quit)")
        assert "!TL-SG2210P" in first and "line vty 0 15" not in first
        rest = ""
        for _ in range(10):
            chan.send("\r")  # any key shows the next page
            rest += _until(chan, "Press any key to continue (Q to quit)", "sw-0#")
            if rest.rstrip().endswith("sw-0#"):
                break
        assert "line vty 0 15" in rest and rest.rstrip().endswith("sw-0#")
        chan.send("terminal length 0\r\nshow running-config\r\n")
        whole = _until(chan, "\nend")
        assert "Press any key" not in whole
    finally:
        client.close()


@pytest.mark.parametrize(
    ("platform", "first_prompt", "more", "paging_off"),
    [
        ("ubiquiti_edgeswitch", "(sw-1) >", "--More-- or (q)uit", "terminal length 0"),
        (
            "cisco_s300",
            "sw-2#",
            "More: <space>,  Quit: q or CTRL+Z, One line: <return> ",
            "terminal datadump",
        ),
    ],
)
def test_prompts_and_paging_of_edgeswitch_and_sx300(
    sim: SshSimHandle, platform: str, first_prompt: str, more: str, paging_off: str
) -> None:
    client, chan = _shell(_device(sim, platform))
    enabled = first_prompt.replace(">", "#")
    try:
        _until(chan, first_prompt)
        if first_prompt.endswith(">"):
            chan.send("enable\n")
            _until(chan, "Password: ")
            chan.send(LAB_ENABLE_SECRET + "\n")
            _until(chan, enabled)
        chan.send("show running-config\n")
        _until(chan, more)
        chan.send("q")
        _until(chan, enabled)
        chan.send("show bogus\n")
        text = _until(chan, enabled)
        assert "% Invalid input detected" in text or "% Unrecognized command" in text
        chan.send(f"{paging_off}\nshow running-config\n")
        whole = _until(chan, "ip default-gateway", "\nexit\r\n\r\nexit")
        assert more not in whole
    finally:
        client.close()


@pytest.mark.parametrize("platform", ["ubiquiti_edgeswitch", "tplink_jetstream"])
def test_wrong_enable_secret_is_an_enable_failure(sim: SshSimHandle, platform: str) -> None:
    bad = SshLogin(LAB_USERNAME, Secret(LAB_PASSWORD), enable_secret=Secret("not-it"))
    device = _device(sim, platform)
    with pytest.raises(SshFailure) as err:  # these drivers enter enable mode while connecting
        _session(device, SETS.get(platform), bad)
    assert err.value.category == "auth"
    assert err.value.message == (
        f"{device.address}:{device.port}: could not enter enable mode (enable secret?)"
    )


def test_faults_work_on_the_new_personalities(tmp_path: Path) -> None:
    handle = start_ssh_sim(
        [
            SimDevice(platform="tplink_jetstream", faults=frozenset({"garbage"})),
            SimDevice(platform="ubiquiti_edgeswitch", faults=frozenset({"hang"})),
        ]
    )
    try:
        garbage, hung = _check(handle.devices, tmp_path, command_timeout_s=2)
    finally:
        handle.stop()
    assert garbage.status == ProbeStatus.UNKNOWN
    assert garbage.reason.startswith("cannot read output of 'show system-info'")
    assert "BACKPLANE" in garbage.metrics["raw_output"]["show cpu-utilization"]
    assert hung.status == ProbeStatus.UNKNOWN
    assert "command 'show version' gave no prompt back within 2 s" in hung.reason


def test_lab_maps_inventory_platforms_to_personalities(tmp_path: Path) -> None:
    devices = [
        LabDevice(
            "TP", "S", "switch", "10.30.3.2", manufacturer="TP-Link", platform="tplink_jetstream"
        ),
        LabDevice("ES", "S", "switch", "10.30.3.3", manufacturer="Ubiquiti", model="ES-24-Lite"),
        LabDevice("CBS", "S", "switch", "10.30.4.2", manufacturer="Cisco", platform="cisco_s300"),
        LabDevice("CBS2", "S", "switch", "10.30.4.3", manufacturer="Cisco", model="CBS250-24T-4G"),
        LabDevice("AP", "S", "hotspot", "10.30.3.4", manufacturer="Ubiquiti", platform="linux"),
        LabDevice("EAP", "S", "hotspot", "10.30.3.5", manufacturer="TP-Link", model="EAP225"),
    ]
    handles = lab_component(devices, LabContext("loopback", None, str(tmp_path)))
    try:
        (handle,) = handles
        assert [(d.hostname, d.platform) for d in handle.devices] == [
            ("TP", "tplink_jetstream"),
            ("ES", "ubiquiti_edgeswitch"),
            ("CBS", "cisco_s300"),
            ("CBS2", "cisco_s300"),
            ("AP", "linux"),
        ]  # the EAP225 hotspot has no CLI platform: no SSH server
        results = _check(handle.devices, tmp_path)
        assert [r.status for r in results] == [ProbeStatus.OK] * 5, [r.reason for r in results]
        known = (tmp_path / "known_hosts").read_text().splitlines()
        assert len(known) == 5 and all(line.startswith("[127.30.") for line in known)
    finally:
        for h in handles:
            h.stop()


def test_every_platform_has_a_personality_and_a_command_set() -> None:
    assert set(PERSONALITIES) == set(SETS.names)
    for name in PERSONALITIES:
        assert SETS.get(name).device_type == name
