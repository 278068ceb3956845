"""SSH against a real OpenSSH sshd on 127.0.0.1 (netmiko device type ``linux``).

Covers the check and ``itops ssh run``, password and key logins, and the faults: wrong
password, unknown host key (refused, then pinned with --trust-new), changed host key (refused
even with --trust-new), connection refused, and the configuration-command guard.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.ssh.client import SshLogin
from kape_itops.probes.ssh.hostkeys import KnownHosts
from kape_itops.probes.ssh.probe import SshProbe
from kape_itops.secrets import Secret
from kape_itops.store.db import Store
from kape_itops.store.probe_repo import ProbeRepo
from tests.support.postgres import free_port
from tests.support.sshd import (
    TEST_PASSWORD,
    TEST_USER,
    SshServer,
    keygen,
    seed_devices,
    write_lab_state,
    write_secrets,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    server = SshServer(Path(tempfile.mkdtemp(prefix="itops-sshd-")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "ITOPS_DATA": str(REPO),
        "ITOPS_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
        "ITOPS_SSH_PASSWORD": TEST_PASSWORD,
    }
    env.update(extra)
    return env


def _run(runner: CliRunner, tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["ssh", "run", *args], env=_env(tmp_path, **env))
    return result.exit_code, result.output


def test_probe_checks_a_linux_host(sshd: SshServer, tmp_path: Path) -> None:
    async def go() -> list[ProbeResult]:
        probe = SshProbe(
            probes_dir=REPO / "probes",
            known_hosts=KnownHosts(tmp_path / "kh", trust_new=True),
            login=SshLogin(TEST_USER, Secret(TEST_PASSWORD)),
        )
        await probe.start(ProbeContext())
        try:
            target = Target("127.0.0.1", sshd.port, settings={"platform": "linux"})
            return [await probe.check(target), await probe.check(target)]
        finally:
            await probe.stop()

    first, second = asyncio.run(go())
    assert first.status in (ProbeStatus.OK, ProbeStatus.WARN), first.reason
    m = first.metrics
    assert str(m["version"]).startswith("Linux ")
    assert m["uptime_s"] > 0 and 0 < m["mem_pct"] < 100 and m["cpu_pct"] >= 0
    assert m["if_up"] >= 1 and m["platform"] == "linux"
    assert first.method == "ssh linux"
    assert (tmp_path / "kh").read_text().startswith(f"[127.0.0.1]:{sshd.port} ssh-ed25519 ")
    assert second.status in (ProbeStatus.OK, ProbeStatus.WARN)


def test_run_pins_a_new_key_with_trust_new_then_knows_it(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    target = f"127.0.0.1:{sshd.port}"
    code, out = _run(
        runner, tmp_path, target, "uname -s", "--platform", "linux", "--user", TEST_USER
    )
    assert code == 1
    assert f"host key of [127.0.0.1]:{sshd.port} is not known" in out
    assert "--trust-new" in out and not (tmp_path / "known_hosts").exists()
    code, out = _run(
        runner,
        tmp_path,
        target,
        "uname -s",
        "--platform",
        "linux",
        "--user",
        TEST_USER,
        "--trust-new",
    )
    assert code == 0, out
    assert out.strip() == "Linux"
    assert (tmp_path / "known_hosts").read_text() == sshd.host_key_line() + "\n"
    code, out = _run(
        runner, tmp_path, target, "echo $((6*7))", "--platform", "linux", "--user", TEST_USER
    )
    assert (code, out.strip()) == (0, "42")


def test_device_output_that_is_not_utf8_is_read_as_text(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    target = f"127.0.0.1:{sshd.port}"
    login = ["--platform", "linux", "--user", TEST_USER, "--trust-new"]
    code, out = _run(runner, tmp_path, target, r"printf 'Toner r\351serve\n'", *login)
    assert (code, out.strip()) == (0, "Toner réserve")  # Latin-1 bytes, not dropped
    line = "ទឹកខ្មៅ" * 10  # 54 kB of UTF-8 in all: characters straddle the reads
    loop = f"for i in $(seq 300); do echo '{line}'; done"
    code, out = _run(runner, tmp_path, target, loop, *login)
    assert (code, out.strip().splitlines()) == (0, [line] * 300)


def test_changed_host_key_is_refused_even_with_trust_new(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    other = keygen(tmp_path / "other_host_key").split()
    pinned = f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n"
    (tmp_path / "known_hosts").write_text(pinned)
    for extra in ([], ["--trust-new"]):
        code, out = _run(
            runner,
            tmp_path,
            f"127.0.0.1:{sshd.port}",
            "uname -s",
            "--platform",
            "linux",
            "--user",
            TEST_USER,
            *extra,
        )
        assert code == 1
        assert f"WARNING: HOST KEY OF [127.0.0.1]:{sshd.port} HAS CHANGED" in out
        assert "line 1" in out and "intercepting" in out
    assert (tmp_path / "known_hosts").read_text() == pinned


def test_wrong_password_is_an_authentication_error(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    code, out = _run(
        runner,
        tmp_path,
        f"127.0.0.1:{sshd.port}",
        "uname -s",
        "--platform",
        "linux",
        "--user",
        TEST_USER,
        "--trust-new",
        ITOPS_SSH_PASSWORD="not-the-password",
    )
    assert code == 1
    assert f"error: 127.0.0.1:{sshd.port}: authentication failed" in out
    assert "not-the-password" not in out


def test_key_based_login(sshd: SshServer, tmp_path: Path, runner: CliRunner) -> None:
    key = tmp_path / "id_ed25519"
    sshd.authorize(keygen(key))
    code, out = _run(
        runner,
        tmp_path,
        f"127.0.0.1:{sshd.port}",
        "whoami",
        "--platform",
        "linux",
        "--user",
        TEST_USER,
        "--key-file",
        str(key),
        "--trust-new",
        ITOPS_SSH_PASSWORD="",
    )
    assert (code, out.strip()) == (0, TEST_USER)


def test_connection_refused(tmp_path: Path, runner: CliRunner) -> None:
    port = free_port()
    code, out = _run(
        runner, tmp_path, f"127.0.0.1:{port}", "uname", "--platform", "linux", "--user", TEST_USER
    )
    assert code == 1
    assert f"127.0.0.1:{port}: connection refused" in out


def test_config_commands_need_allow_config_and_bad_targets_are_explained(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    target = f"127.0.0.1:{sshd.port}"
    code, out = _run(
        runner, tmp_path, target, "sudo reboot", "--platform", "linux", "--user", TEST_USER
    )
    assert code == 2
    assert "'sudo reboot' looks like it changes the device (linux); refused" in out
    assert "--allow-config" in out
    code, out = _run(runner, tmp_path, target, "uname", "--user", TEST_USER)
    assert code == 2 and "for host[:port] give --platform" in out
    code, out = _run(
        runner, tmp_path, "127.0.0.1:99999", "uname", "--platform", "linux", "--user", TEST_USER
    )
    assert code == 2 and "port must be a number 1-65535" in out
    code, out = _run(runner, tmp_path, target, "uname", "--platform", "junos", "--user", TEST_USER)
    assert code == 2 and "no SSH command set for platform 'junos'" in out
    code, out = _run(runner, tmp_path, target, "uname", "--platform", "linux")
    assert code == 2 and "give --user" in out
    code, out = _run(
        runner,
        tmp_path,
        target,
        "uname",
        "--platform",
        "linux",
        "--user",
        TEST_USER,
        "--trust-new",
        "--insecure-no-host-key-check",
    )
    assert code == 2 and "exclude each other" in out


def test_insecure_mode_warns_and_pins_nothing(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    code, out = _run(
        runner,
        tmp_path,
        f"127.0.0.1:{sshd.port}",
        "uname -s",
        "--platform",
        "linux",
        "--user",
        TEST_USER,
        "--insecure-no-host-key-check",
    )
    assert code == 0, out
    assert "host keys are NOT verified" in out and "Linux" in out
    assert not (tmp_path / "known_hosts").exists()


def test_check_cli_stores_results_of_an_inventory_host(
    sshd: SshServer, tmp_path: Path, runner: CliRunner, sqlite_url: str
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed_devices(
        store,
        [
            {
                "tag": "SRV-1",
                "kind": DeviceKind.OTHER,
                "ip": "10.30.1.100",
                "platform": "debian",
                "probes": ("ssh",),
            },
        ],
    )
    secrets = write_secrets(tmp_path / "secrets.toml", "lab", TEST_USER, TEST_PASSWORD)
    state = write_lab_state(tmp_path / "state.json", {"10.30.1.100": sshd.port})
    env = _env(tmp_path, ITOPS_LAB_STATE=str(state), ITOPS_SSH_PASSWORD="")
    args = ["--db", sqlite_url, "--secrets", str(secrets), "ssh", "check", "--tag", "SRV-1"]
    result = runner.invoke(cli, [*args, "--trust-new", "--json"], env=env)
    assert result.exit_code in (0, 1), result.output
    assert '"status": "' in result.output and '"platform": "linux"' in result.output
    with store.session() as s:
        latest = ProbeRepo(s).latest_results(["ssh"], ["SRV-1"])
    stored = latest[("SRV-1", "ssh")]
    assert stored.status in (ProbeStatus.OK, ProbeStatus.WARN)
    assert stored.metrics["uptime_s"] > 0 and stored.target == f"127.0.0.1:{sshd.port}"
    assert TEST_PASSWORD not in result.output
    store.dispose()


def test_credentials_from_the_secrets_file_or_nothing(
    sshd: SshServer, tmp_path: Path, runner: CliRunner
) -> None:
    secrets = write_secrets(tmp_path / "secrets.toml", "srv", TEST_USER, TEST_PASSWORD)
    target = f"127.0.0.1:{sshd.port}"
    result = runner.invoke(
        cli,
        [
            "--secrets",
            str(secrets),
            "ssh",
            "run",
            target,
            "whoami",
            "--platform",
            "linux",
            "--credential",
            "srv",
            "--trust-new",
        ],
        env=_env(tmp_path, ITOPS_SSH_PASSWORD=""),
    )
    assert (result.exit_code, result.output.strip()) == (0, TEST_USER)
    result = runner.invoke(
        cli,
        [
            "--secrets",
            str(secrets),
            "ssh",
            "run",
            target,
            "whoami",
            "--platform",
            "linux",
            "--credential",
            "nope",
        ],
        env=_env(tmp_path),
    )
    assert result.exit_code == 2 and "credential 'nope' is not defined" in result.output
    code, out = _run(
        runner,
        tmp_path,
        target,
        "whoami",
        "--platform",
        "linux",
        "--user",
        TEST_USER,
        ITOPS_SSH_PASSWORD="",
    )
    assert code == 2
    assert f"no password for --user {TEST_USER}: set ITOPS_SSH_PASSWORD" in out
