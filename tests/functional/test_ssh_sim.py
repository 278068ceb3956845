"""SSH checks and configuration backups against the vendor-CLI simulator (MikroTik, Cisco).

netmiko's own prompt handling talks to the asyncssh simulator; faults: wrong password, a
command that never returns, unreadable output, configurations containing secrets.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner

from kape_itops.backups.service import BackupService, BackupSettings
from kape_itops.cli import cli
from kape_itops.domain.backups import BackupStatus
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.ssh_sim import (
    LAB_ENABLE_SECRET,
    LAB_PASSWORD,
    LAB_USERNAME,
    SimDevice,
    SshSimHandle,
    start_ssh_sim,
)
from kape_itops.probes.addressmap import load_address_map
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.ssh.client import SshLogin
from kape_itops.probes.ssh.hostkeys import KnownHosts
from kape_itops.probes.ssh.probe import SshProbe
from kape_itops.probes.ssh.settings import load_command_sets
from kape_itops.secrets import Secret, SecretStore
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.probe_repo import ProbeRepo
from tests.support.sshd import seed_devices, write_lab_state, write_secrets
from tests.unit.test_ssh_scrub import CISCO_SECRETS, ROUTEROS_SECRETS

REPO = Path(__file__).resolve().parents[2]
LOGIN = SshLogin(LAB_USERNAME, Secret(LAB_PASSWORD), enable_secret=Secret(LAB_ENABLE_SECRET))

DEVICES = [
    # tag, kind, inventory ip, simulated platform, faults
    ("R1", DeviceKind.ROUTER, "10.30.1.1", "mikrotik_routeros", frozenset()),
    ("SW1", DeviceKind.SWITCH, "10.30.1.2", "cisco_ios", frozenset()),
    ("SW2", DeviceKind.SWITCH, "10.30.1.3", "cisco_ios", frozenset({"garbage"})),
]


@pytest.fixture
def sim() -> Iterator[SshSimHandle]:
    handle = start_ssh_sim(
        [SimDevice(platform=p, faults=f, hostname=f"{tag}-sim") for tag, _k, _i, p, f in DEVICES]
    )
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def lab(sim: SshSimHandle, tmp_path: Path) -> dict[str, str]:
    """Environment for the CLI: data folder, known hosts, lab address map."""
    ports = {ip: dev.port for (_t, _k, ip, _p, _f), dev in zip(DEVICES, sim.devices, strict=True)}
    state = write_lab_state(tmp_path / "state.json", ports)
    return {
        "ITOPS_DATA": str(REPO),
        "ITOPS_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
        "ITOPS_LAB_STATE": str(state),
    }


def _seed(store: Store) -> None:
    seed_devices(
        store,
        [
            {"tag": tag, "kind": kind, "ip": ip, "platform": platform}
            for tag, kind, ip, platform, _f in DEVICES
        ],
    )


def _secrets(tmp_path: Path) -> Path:
    return write_secrets(
        tmp_path / "secrets.toml", "lab", LAB_USERNAME, LAB_PASSWORD, LAB_ENABLE_SECRET
    )


def _cli(
    runner: CliRunner, url: str, secrets: Path, env: dict[str, str], *args: str
) -> tuple[int, str]:
    result = runner.invoke(cli, ["--db", url, "--secrets", str(secrets), "ssh", *args], env=env)
    return result.exit_code, result.output


def test_netmiko_sees_vendor_prompts_and_paging_is_real(sim: SshSimHandle) -> None:
    cisco = sim.devices[1]
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        cisco.address,
        cisco.port,
        LAB_USERNAME,
        LAB_PASSWORD,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    try:
        chan = client.invoke_shell()
        chan.settimeout(5)

        def until(*markers: str) -> str:
            seen, deadline = "", time.monotonic() + 10
            while not any(m in seen for m in markers) and time.monotonic() < deadline:
                seen += chan.recv(65536).decode()
            assert any(m in seen for m in markers), seen
            return seen

        until("SW1-sim>")
        chan.send("show running-config\n")
        assert "% Invalid input detected" in until("SW1-sim>")  # needs enable
        chan.send("enable\n")
        until("Password: ")
        chan.send("wrong\n")
        assert "% Bad secrets" in until("SW1-sim>")
        chan.send("enable\n")
        until("Password: ")
        chan.send(LAB_ENABLE_SECRET + "\n")
        until("SW1-sim#")
        chan.send("show running-config\n")
        first = until(" --More-- ")
        assert "Building configuration" in first and "line vty 0 4" not in first
        rest = ""
        for _ in range(10):
            chan.send(" ")
            rest += until(" --More-- ", "SW1-sim#")
            if rest.rstrip().endswith("SW1-sim#"):
                break
        assert "line vty 0 4" in rest and rest.rstrip().endswith("SW1-sim#")
        chan.send("terminal length 0\nshow running-config\n")
        whole = until("\nend")
        assert " --More-- " not in whole
    finally:
        client.close()


def _probe_results(
    sim: SshSimHandle, tmp_path: Path, login: SshLogin, **settings: object
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
                for d in sim.devices
            ]
            return list(await asyncio.gather(*(probe.check(t) for t in targets)))
        finally:
            await probe.stop()

    return asyncio.run(go())


def test_probe_reads_mikrotik_and_cisco_and_flags_garbage(
    sim: SshSimHandle, tmp_path: Path
) -> None:
    r1, sw1, sw2 = _probe_results(sim, tmp_path, LOGIN)
    assert r1.status == ProbeStatus.OK, r1.reason
    assert (
        r1.reason
        == "ok: hAP ac^2, 6.49.10 (long-term), up 9d 3h, cpu 3%, mem 24.6%, 12 Wi-Fi clients"
    )
    assert r1.metrics["clients"] == 12 and r1.metrics["dhcp_leases"] == 2
    assert sw1.status == ProbeStatus.OK, sw1.reason
    assert sw1.metrics["model"] == "WS-C2960-24TT-L" and sw1.metrics["if_down"] == [
        "Fa0/3",
        "Gi0/2",
    ]
    assert sw2.status == ProbeStatus.UNKNOWN
    assert sw2.reason.startswith("cannot read output of 'show version'")
    assert "BACKPLANE 0xDEADBEEF" in sw2.metrics["raw_output"]["show processes cpu"]


def test_wrong_password_is_unknown_with_the_reason(sim: SshSimHandle, tmp_path: Path) -> None:
    bad = SshLogin(LAB_USERNAME, Secret("wrong-password"))
    results = _probe_results(sim, tmp_path, bad)
    for r, dev in zip(results, sim.devices, strict=True):
        assert r.status == ProbeStatus.UNKNOWN
        assert (
            r.reason
            == f"{dev.address}:{dev.port}: authentication failed (wrong user, password or key)"
        )
        assert r.metrics["error"] == "auth"
        assert "wrong-password" not in json.dumps(dict(r.metrics))


def test_command_that_never_returns_is_unknown_within_bounds(tmp_path: Path) -> None:
    handle = start_ssh_sim(
        [
            SimDevice(platform="mikrotik_routeros", faults=frozenset({"hang"})),
            SimDevice(platform="cisco_ios", faults=frozenset({"hang"})),
            SimDevice(platform="cisco_ios"),
        ]
    )
    try:
        t0 = time.monotonic()
        hung_r, hung_sw, healthy = _probe_results(handle, tmp_path, LOGIN, command_timeout_s=2)
        elapsed = time.monotonic() - t0
    finally:
        handle.stop()
    assert elapsed < 15  # one hung device does not stall the others
    for r, command in ((hung_r, "/system resource print"), (hung_sw, "show version")):
        assert r.status == ProbeStatus.UNKNOWN
        assert f"command '{command}' gave no prompt back within 2 s" in r.reason
        assert r.metrics["error"] == "command-timeout"
    assert healthy.status == ProbeStatus.OK


def test_check_cli_stores_results_on_both_backends(
    store: Store, sim: SshSimHandle, lab: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    _seed(store)
    secrets = _secrets(tmp_path)
    code, out = _cli(runner, store.url, secrets, lab, "check", "--school", "KPT-PSP", "--json")
    assert code == 3, out  # new host keys are refused by default: unknown
    reasons = [r["reason"] for r in json.loads(out)["results"]]
    assert len(reasons) == 3 and all("is not known" in r and "--trust-new" in r for r in reasons)
    code, out = _cli(runner, store.url, secrets, lab, "check", "--school", "KPT-PSP", "--trust-new")
    assert code == 3, out  # SW2's unreadable output is UNKNOWN (Nagios 3)
    assert "R1" in out and "SW1" in out and "cannot read output" in out
    with store.session() as s:
        latest = ProbeRepo(s).latest_results(["ssh"], ["R1", "SW1", "SW2"])
    assert latest[("R1", "ssh")].status == ProbeStatus.OK
    assert latest[("R1", "ssh")].metrics["platform"] == "mikrotik_routeros"
    assert latest[("SW1", "ssh")].metrics["version"] == "15.0(2)SE11"
    assert latest[("SW2", "ssh")].status == ProbeStatus.UNKNOWN
    assert "BACKPLANE" in json.dumps(latest[("SW2", "ssh")].metrics["raw_output"])
    assert LAB_PASSWORD not in out


def _service(store: Store, tmp_path: Path, trust: bool = True) -> BackupService:
    return BackupService(
        store,
        "tester",
        load_command_sets(REPO / "probes"),
        BackupSettings(known_hosts=KnownHosts(tmp_path / "kh", trust_new=trust)),
        secrets=SecretStore.load(_secrets(tmp_path)),
    )


def test_backups_on_both_backends(
    store: Store, sim: SshSimHandle, lab: dict[str, str], tmp_path: Path
) -> None:
    _seed(store)
    service = _service(store, tmp_path)
    amap = load_address_map(Path(lab["ITOPS_LAB_STATE"]))
    flt = DeviceFilter(tags=("R1", "SW1"))
    first = asyncio.run(service.run(flt, amap))
    assert {o.asset_tag: o.status for o in first.outcomes} == {
        "R1": BackupStatus.FIRST,
        "SW1": BackupStatus.FIRST,
    }
    again = asyncio.run(service.run(flt, amap))
    assert {o.status for o in again.outcomes} == {BackupStatus.UNCHANGED}
    assert all(o.reason == "unchanged since version 1" for o in again.outcomes)
    # a secret changed on the device: masked in storage, so the configuration is the same
    state = sim.state(sim.devices[1])
    state.set_config(state.config_lines.replace("SchoolRO-7781", "NewCommunity-1"))
    third = asyncio.run(service.run(DeviceFilter(tags=("SW1",)), amap))
    assert third.outcomes[0].status == BackupStatus.UNCHANGED
    state.set_config(
        state.config_lines.replace("ip domain-name school.local", "ip domain-name kape.local")
    )
    fourth = asyncio.run(service.run(DeviceFilter(tags=("SW1",)), amap))
    assert (fourth.outcomes[0].status, fourth.outcomes[0].version) == (BackupStatus.CHANGED, 2)
    history = service.history("SW1")
    assert [(e.version, e.changed) for e in history] == [
        (1, True),
        (1, False),
        (1, False),
        (2, True),
    ]
    assert len({e.sha256 for e in history}) == 2
    with store.session() as s:
        stored = [e.content or "" for e in BackupRepo(s).history("SW1", with_content=True)]
        mikrotik = BackupRepo(s).history("R1", with_content=True)[0].content or ""
    assert stored[1] == stored[2] == ""  # unchanged marks hold no copy
    for secret in [*CISCO_SECRETS, "NewCommunity-1"]:
        assert all(secret not in text for text in stored)
    for secret in ROUTEROS_SECRETS:
        assert secret not in mikrotik
    assert "<masked>" in stored[0] and "<masked>" in mikrotik
    assert "by RouterOS" not in mikrotik  # the volatile time stamp line is dropped
    _old, _new, diff = service.diff("SW1")
    assert "-ip domain-name school.local\n+ip domain-name kape.local\n" in diff


def test_backup_diff_history_cli_with_config_changes(
    sim: SshSimHandle, lab: dict[str, str], tmp_path: Path, runner: CliRunner, sqlite_url: str
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    _seed(store)
    secrets = _secrets(tmp_path)
    code, out = _cli(
        runner, sqlite_url, secrets, lab, "backup", "--school", "KPT-PSP", "--trust-new"
    )
    assert code == 0, out
    assert "first 3" in out  # SW2's garbage fault only affects health commands
    code, out = _cli(runner, sqlite_url, secrets, lab, "backup", "--school", "KPT-PSP")
    assert (code, "unchanged 3" in out) == (0, True), out
    # configuration changes through 'ssh run' (config mode only with --allow-config)
    code, out = _cli(
        runner, sqlite_url, secrets, lab, "run", "SW1", "snmp-server location Library", "--lab"
    )
    assert (code, "% Invalid input detected" in out) == (0, True), (
        out
    )  # exec mode: the device refuses
    code, out = _cli(
        runner,
        sqlite_url,
        secrets,
        lab,
        "run",
        "SW1",
        "snmp-server location Library",
        "--allow-config",
        "--lab",
    )
    assert code == 0, out
    assert "(config)#" in out
    code, out = _cli(
        runner,
        sqlite_url,
        secrets,
        lab,
        "run",
        "R1",
        "/system identity set name=School-R1",
        "--lab",
    )
    assert code == 2 and "looks like it changes the device (mikrotik_routeros)" in out
    code, out = _cli(
        runner,
        sqlite_url,
        secrets,
        lab,
        "run",
        "R1",
        "/system identity set name=School-R1",
        "--allow-config",
        "--lab",
    )
    assert code == 0, out
    code, out = _cli(
        runner, sqlite_url, secrets, lab, "run", "R1", "/system identity print", "--lab"
    )
    assert (code, out.strip()) == (0, "name: School-R1")
    code, out = _cli(
        runner, sqlite_url, secrets, lab, "backup", "--tag", "SW1", "--tag", "R1", "--json"
    )
    assert code == 0, out
    doc = json.loads(out)
    assert {o["asset_tag"]: (o["status"], o["version"]) for o in doc["outcomes"]} == {
        "SW1": ("changed", 2),
        "R1": ("changed", 2),
    }
    code, out = _cli(runner, sqlite_url, secrets, lab, "diff", "SW1")
    assert code == 0, out
    assert "--- SW1 v1" in out and "+++ SW1 v2" in out
    assert "+snmp-server location Library" in out
    for secret in CISCO_SECRETS:
        assert secret not in out
    code, out = _cli(runner, sqlite_url, secrets, lab, "diff", "R1", "--from", "1", "--to", "v2")
    assert code == 0 and "-set name=R1-sim" in out and "+set name=School-R1" in out
    assert all(s not in out for s in ROUTEROS_SECRETS)
    code, out = _cli(runner, sqlite_url, secrets, lab, "diff", "R1", "--from", "v2", "--to", "2")
    assert (code, out.strip()) == (0, "v2 and v2 of R1 are identical")
    code, out = _cli(runner, sqlite_url, secrets, lab, "diff", "R1", "--from", "9")
    assert code == 2 and "--from 9: no version 9 (versions 1..2)" in out
    code, out = _cli(runner, sqlite_url, secrets, lab, "diff", "NOPE")
    assert code == 1 and "no device with asset tag 'NOPE'" in out
    code, out = _cli(runner, sqlite_url, secrets, lab, "diff", "SW1", "--json")
    doc = json.loads(out)
    versions = (doc["from"]["version"], doc["to"]["version"], doc["identical"])
    assert (code, versions) == (0, (1, 2, False))
    assert "+snmp-server location Library" in doc["diff"]
    assert doc["to"]["taken_at"].endswith("+00:00")  # JSON stays UTC
    local = {**lab, "ITOPS_TZ": "Asia/Phnom_Penh"}
    code, out = _cli(runner, sqlite_url, secrets, local, "history", "SW1")
    assert code == 0 and out.count("unchanged") == 1 and "v2" in out
    assert "taken (+07)" in out  # the zone is named once, in the header
    code, out = _cli(runner, sqlite_url, secrets, {**lab, "ITOPS_TZ": "UTC"}, "history", "SW1")
    assert code == 0 and "taken (UTC)" in out
    code, out = _cli(runner, sqlite_url, secrets, lab, "history", "SW1", "--json")
    assert [(e["version"], e["changed"]) for e in json.loads(out)] == [
        (1, True),
        (1, False),
        (2, True),
    ]
    store.dispose()


def test_backup_failures_are_reported_not_raised(
    lab: dict[str, str], tmp_path: Path, runner: CliRunner, sqlite_url: str
) -> None:
    hung = start_ssh_sim([SimDevice(platform="cisco_ios", faults=frozenset({"hang"}))])
    try:
        store = Store(sqlite_url)
        store.upgrade()
        seed_devices(
            store,
            [
                {
                    "tag": "SW9",
                    "kind": DeviceKind.SWITCH,
                    "ip": "10.30.2.2",
                    "platform": "cisco_ios",
                },
                {"tag": "AP9", "kind": DeviceKind.HOTSPOT, "ip": "10.30.2.4"},
                {
                    "tag": "AP8",
                    "kind": DeviceKind.HOTSPOT,
                    "ip": "10.30.2.5",
                    "manufacturer": "TP-Link",
                    "probes": ("ping", "snmp"),
                },
                {"tag": "R9", "kind": DeviceKind.ROUTER, "ip": "10.30.9.1", "platform": "mikrotik"},
            ],
        )
        state = write_lab_state(tmp_path / "hung.json", {"10.30.2.2": hung.devices[0].port})
        secrets = _secrets(tmp_path)
        service = BackupService(
            store,
            "t",
            load_command_sets(REPO / "probes"),
            BackupSettings(KnownHosts(tmp_path / "kh", trust_new=True), command_timeout_s=2),
            secrets=SecretStore.load(secrets),
        )
        t0 = time.monotonic()
        report = asyncio.run(service.run(DeviceFilter(), load_address_map(state)))
        assert time.monotonic() - t0 < 20
        got = {o.asset_tag: (o.status, o.reason) for o in report.outcomes}
        assert got["SW9"][0] == BackupStatus.FAILED
        assert "command 'show running-config' gave no prompt back within 2 s" in got["SW9"][1]
        assert got["AP9"] == (BackupStatus.SKIPPED, got["AP9"][1])
        assert "no SSH platform" in got["AP9"][1]
        assert got["AP8"] == (
            BackupStatus.SKIPPED,
            "SSH is not among the device's probes (name it with --tag to force)",
        )
        assert got["R9"] == (
            BackupStatus.SKIPPED,
            "address 10.30.9.1 is not in the lab address map; not contacted",
        )
        env = {**lab, "ITOPS_LAB_STATE": str(state)}
        code, out = _cli(runner, sqlite_url, secrets, env, "history", "SW9")
        assert code == 0 and "no backups of SW9 yet" in out
        code, out = _cli(runner, sqlite_url, secrets, env, "diff", "SW9")
        assert code == 1 and "no configuration backup of 'SW9' yet" in out
        store.dispose()
    finally:
        hung.stop()


def test_engine_runs_the_no_arg_probe_and_the_lab_tuple_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from kape_itops.probes.profiles import load_profiles
    from kape_itops.probes.service import ProbeService, RunRequest

    handle = start_ssh_sim(
        [("127.30.1.1", 0, "router", None), ("127.30.1.2", 0, "switch", "Cisco 2960")]
    )
    try:
        assert [d.platform for d in handle.devices] == ["mikrotik_routeros", "cisco_ios"]
        known = tmp_path / "known_hosts"
        known.write_text("".join(handle.known_hosts_line(d) + "\n" for d in handle.devices))
        monkeypatch.setenv("ITOPS_DATA", str(REPO))
        monkeypatch.setenv("ITOPS_KNOWN_HOSTS", str(known))
        store = Store(sqlite_url)
        store.upgrade()
        seed_devices(
            store,
            [
                {
                    "tag": "R7",
                    "kind": DeviceKind.ROUTER,
                    "ip": "10.30.7.1",
                    "manufacturer": "MikroTik",
                },
                {"tag": "SW7", "kind": DeviceKind.SWITCH, "ip": "10.30.7.2", "platform": "cisco"},
            ],
        )
        state = tmp_path / "state.json"
        state.write_text(
            json.dumps(
                {
                    "address_map": {
                        "10.30.7.1": {
                            "address": "127.30.1.1",
                            "ports": {"ssh": handle.devices[0].port},
                        },
                        "10.30.7.2": {
                            "address": "127.30.1.2",
                            "ports": {"ssh": handle.devices[1].port},
                        },
                    }
                }
            )
        )
        service = ProbeService(
            store,
            "tester",
            load_profiles(REPO / "probes"),
            secrets=SecretStore.load(_secrets(tmp_path)),
        )
        report = asyncio.run(service.run(RunRequest(only=("ssh",), lab_state=state)))
        got = {r.asset_tag: r for r in report.results}
        assert got["R7"].status == ProbeStatus.OK, got["R7"].reason
        assert got["SW7"].status == ProbeStatus.OK, got["SW7"].reason
        assert got["R7"].target == f"127.30.1.1:{handle.devices[0].port}"
        assert known.read_text().count("\n") == 2  # nothing new pinned
        store.dispose()
    finally:
        handle.stop()


def test_reinstalled_device_with_a_new_host_key_is_critical(tmp_path: Path) -> None:
    first = start_ssh_sim([SimDevice(platform="cisco_ios")])
    port = first.devices[0].port
    try:
        (pinned,) = _probe_results(first, tmp_path, LOGIN)
        assert pinned.status == ProbeStatus.OK
    finally:
        first.stop()
    second = start_ssh_sim([SimDevice(platform="cisco_ios", port=port)])
    try:
        (changed,) = _probe_results(second, tmp_path, LOGIN)
    finally:
        second.stop()
    assert changed.status == ProbeStatus.CRIT
    assert changed.reason.startswith(f"WARNING: HOST KEY OF [127.0.0.1]:{port} HAS CHANGED")
    assert changed.metrics["error"] == "hostkey-changed"
    assert (tmp_path / "kh").read_text().count("\n") == 1  # the old key stays pinned


def test_lab_component_serves_routers_and_switches(tmp_path: Path) -> None:
    from kape_itops.lab.lab import LabContext, LabDevice
    from kape_itops.lab.ssh_sim import lab_component

    devices = [
        LabDevice("R3", "KPT-PSP", "router", "10.30.3.1", manufacturer="MikroTik"),
        LabDevice("SW3", "KPT-PSP", "switch", "10.30.3.2", platform="cisco_ios"),
        LabDevice("SW4", "KPT-PSP", "switch", "10.30.3.3", down=True),
        LabDevice("CAM3", "KPT-PSP", "camera", "10.30.3.31"),
    ]
    handles = lab_component(devices, LabContext("loopback", None, str(tmp_path)))
    try:
        (handle,) = handles
        assert sorted(handle.ports) == ["10.30.3.1", "10.30.3.2"]
        assert [(d.address, d.platform, d.hostname) for d in handle.devices] == [
            ("127.30.3.1", "mikrotik_routeros", "R3"),
            ("127.30.3.2", "cisco_ios", "SW3"),
        ]
        r3, sw3 = _probe_results(handle, tmp_path, LOGIN)
        assert (r3.status, sw3.status) == (ProbeStatus.OK, ProbeStatus.OK)
        assert r3.target == f"127.30.3.1:{handle.ports['10.30.3.1']['ssh']}"
    finally:
        for h in handles:
            h.stop()


def test_silent_listener_times_out_at_the_connect_timeout(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts TCP (kernel backlog) but never speaks SSH
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]

        async def go() -> ProbeResult:
            probe = SshProbe(
                probes_dir=REPO / "probes", known_hosts=KnownHosts(tmp_path / "kh"), login=LOGIN
            )
            await probe.start(ProbeContext())
            try:
                settings = {"platform": "cisco_ios", "connect_timeout_s": 1}
                return await probe.check(Target("127.0.0.1", port, settings=settings))
            finally:
                await probe.stop()

        t0 = time.monotonic()
        result = asyncio.run(go())
        elapsed = time.monotonic() - t0
    assert elapsed < 8
    assert result.status == ProbeStatus.UNKNOWN
    assert result.reason == f"127.0.0.1:{port}: no SSH banner in time"
    assert result.metrics["error"] == "timeout"
