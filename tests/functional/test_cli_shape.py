"""The CLI's one shape: every probe command writes a result as the same JSON, ``itops probe``
offers a command for every probe kind of the registry, and ``ssh check`` is the run of
``probe run --only ssh`` (same document, same exit code)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.ssh_sim import (
    LAB_ENABLE_SECRET,
    LAB_PASSWORD,
    LAB_USERNAME,
    SimDevice,
    SshSimHandle,
    start_ssh_sim,
)
from kape_itops.probes import catalog
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.store.db import Store
from tests.support.sshd import seed_devices, write_lab_state, write_secrets

REPO = Path(__file__).resolve().parents[2]
ECHO = "echo=tests.functional.test_cli_shape:EchoProbe"
PING_ONLY = {"address", "source", "pinged"}
"""What ``probe ping`` adds before each result: the target as typed and where it was sent."""


class EchoProbe:
    """A site-specific probe kind (as ``ITOPS_PROBES`` adds them): says what it was given."""

    name = "echo"

    async def start(self, ctx: ProbeContext) -> None:
        self.timeout_s = ctx.timeout_s

    async def check(self, target: Target) -> ProbeResult:
        status = ProbeStatus(str(target.settings.get("status", "ok")))
        return ProbeResult(
            "echo",
            target.label,
            status,
            f"echo {target.address}",
            dt.datetime.now(dt.UTC),
            1.23456789,
            {"settings": dict(target.settings), "credential": target.credential},
            "echo",
            target.device.asset_tag if target.device else None,
        )

    async def stop(self) -> None:
        """Nothing to release."""


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """A migrated SQLite store (the shape does not depend on the backend)."""
    s = Store(sqlite_url)
    s.upgrade()
    yield s
    s.dispose()


def _invoke(runner: CliRunner, url: str, *args: str, **env: str) -> Result:
    full: dict[str, str | None] = {"ITOPS_DATA": str(REPO), "ITOPS_LAB_STATE": None, **env}
    return runner.invoke(cli, ["--db", url, *args], env=full)


def _doc(result: Result) -> dict[str, object]:
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def test_every_probe_command_writes_one_result_shape(
    sqlite_store: Store, runner: CliRunner
) -> None:
    store = sqlite_store
    seed_devices(store, [{"tag": "T-1", "kind": DeviceKind.PRINTER, "ip": "127.0.0.2"}])
    run = _invoke(runner, store.url, "probe", "run", "--only", "ping", "--json")
    ping = _invoke(runner, store.url, "probe", "ping", "T-1", "-c", "1", "--json")
    echo = _invoke(runner, store.url, "probe", "echo", "T-1", "--json", ITOPS_PROBES=ECHO)
    assert (run.exit_code, ping.exit_code, echo.exit_code) == (0, 0, 0), echo.output
    (by_run,) = _doc(run)["results"]  # type: ignore[misc]
    (by_ping,) = _doc(ping)["results"]  # type: ignore[misc]
    by_echo = _doc(echo)
    assert set(by_ping) - PING_ONLY == set(by_run) == set(by_echo)
    for result in (by_run, by_ping, by_echo):
        assert (result["asset_tag"], result["school"], result["kind"]) == (
            "T-1",
            "KPT-PSP",
            "printer",
        )
        assert round(result["duration_ms"], 3) == result["duration_ms"]
    assert by_echo["duration_ms"] == 1.235  # one rounding everywhere: microseconds
    assert by_echo["target"] == "T-1" and by_echo["reason"] == "echo 127.0.0.2"
    assert by_echo["metrics"]["credential"] == "lab"  # the device's, as probe run uses it


def test_probe_lists_every_kind_of_the_registry(runner: CliRunner, sqlite_url: str) -> None:
    listed = _invoke(runner, sqlite_url, "probe", "--help", ITOPS_PROBES=ECHO)
    assert listed.exit_code == 0, listed.output
    commands = listed.output.split("Commands:")[1].split()
    for name in ("run", *catalog.names(), "echo"):
        assert name in commands
    warn = _invoke(
        runner,
        sqlite_url,
        "probe",
        "echo",
        "127.0.0.1:7",
        "--set",
        "status=warn",
        "--set",
        "depth=2",
        "--credential",
        "c1",
        ITOPS_PROBES=ECHO,
    )
    assert warn.exit_code == 1, warn.output  # Nagios WARNING
    assert "WARN" in warn.stdout and "echo 127.0.0.1" in warn.stdout
    assert "depth" in warn.stdout and "c1" in warn.stdout
    gone = _invoke(
        runner, sqlite_url, "probe", "gone", "127.0.0.1", ITOPS_PROBES="gone=tests.nowhere:Probe"
    )
    assert gone.exit_code == 3 and "probe not available: cannot import tests.nowhere" in gone.stderr
    unknown = _invoke(runner, sqlite_url, "probe", "nosuch", "127.0.0.1")
    assert unknown.exit_code == 3 and "No such command 'nosuch'" in unknown.stderr
    bad = _invoke(runner, sqlite_url, "probe", "echo", "h", "--set", "x", ITOPS_PROBES=ECHO)
    assert bad.exit_code == 3 and "--set 'x' is not KEY=VALUE" in bad.stderr


@pytest.fixture
def switch() -> Iterator[SshSimHandle]:
    handle = start_ssh_sim([SimDevice(platform="cisco_ios", hostname="SW1-sim")])
    try:
        yield handle
    finally:
        handle.stop()


def test_ssh_check_is_probe_run_only_ssh(
    sqlite_store: Store, switch: SshSimHandle, runner: CliRunner, tmp_path: Path
) -> None:
    store = sqlite_store
    seed_devices(
        store,
        [{"tag": "SW1", "kind": DeviceKind.SWITCH, "ip": "10.30.1.2", "platform": "cisco_ios"}],
    )
    secrets = write_secrets(
        tmp_path / "secrets.toml", "lab", LAB_USERNAME, LAB_PASSWORD, LAB_ENABLE_SECRET
    )
    state = write_lab_state(tmp_path / "lab.json", {"10.30.1.2": switch.devices[0].port})
    env = {
        "ITOPS_DATA": str(REPO),
        "ITOPS_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
        "ITOPS_LAB_STATE": str(state),
    }

    def itops(*args: str) -> Result:
        return runner.invoke(cli, ["--db", store.url, "--secrets", str(secrets), *args], env=env)

    check = itops("ssh", "check", "--school", "KPT-PSP", "--trust-new", "--json")
    kinds = ("--kind", "router", "--kind", "switch", "--kind", "hotspot")
    run = itops("probe", "run", "--only", "ssh", *kinds, "--school", "KPT-PSP", "--json")
    assert check.exit_code == run.exit_code == 0, check.output + run.output
    by_check, by_run = _doc(check), _doc(run)
    assert set(by_check) == set(by_run) == {"run", "results", "skipped"}
    for doc in (by_check, by_run):
        (result,) = doc["results"]  # type: ignore[misc]
        assert (result["asset_tag"], result["probe"], result["status"]) == ("SW1", "ssh", "ok")
        assert doc["run"]["exit_code"] == 0  # type: ignore[index]
    (a,), (b,) = by_check["results"], by_run["results"]  # type: ignore[misc]
    assert set(a) == set(b) and set(a["metrics"]) <= set(b["metrics"])  # b knows a: 'rebooted'
    assert (a["reason"], a["target"], a["school"]) == (b["reason"], b["target"], b["school"])
    table = itops("ssh", "check", "--tag", "SW1")
    assert table.exit_code == 0, table.output
    assert "run 3: 1 device(s), 1 result(s): ok 1" in table.stdout
    assert "SW1" in table.stdout  # every device is listed, not only problems
