"""The SNMP probe and CLI against a real net-snmp agent (v1, v2c, v3 USM) and a silent one."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.snmp.probe import SnmpProbe
from kape_itops.secrets import Credential, Secret, SecretStore
from tests.support.snmp import COMMUNITY, V3_USERS, SilentAgent, Snmpd, ipv6_loopback

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "probes" / "snmp"
FAST = {"timeout_s": 0.3, "retries": 0}


@pytest.fixture(scope="module")
def snmpd() -> Iterator[Snmpd]:
    agent = Snmpd(Path(tempfile.mkdtemp(prefix="itops-snmpd-"))).start()
    try:
        yield agent
    finally:
        agent.stop()


def _store() -> SecretStore:
    entries: dict[str, dict[str, Credential]] = {
        "v2c": {
            "snmp": Credential("v2c", "snmp", {"version": "2c"}, {"community": Secret(COMMUNITY)})
        },
        "v1": {
            "snmp": Credential("v1", "snmp", {"version": "1"}, {"community": Secret(COMMUNITY)})
        },
        "wrong-community": {
            "snmp": Credential("w", "snmp", {"version": "2c"}, {"community": Secret("not-it")})
        },
    }
    for user, (auth, akey, priv, pkey) in V3_USERS.items():
        entries[user] = {
            "snmp": Credential(
                user,
                "snmp",
                {"version": "3", "user": user, "auth_protocol": auth, "priv_protocol": priv},
                {"auth_key": Secret(akey), "priv_key": Secret(pkey)},
            )
        }
    entries["wrong-auth"] = {
        "snmp": Credential(
            "wa",
            "snmp",
            {"version": "3", "user": "mon-sha-aes", "auth_protocol": "SHA", "priv_protocol": "AES"},
            {"auth_key": Secret("not-the-auth-key"), "priv_key": Secret("priv-pass-1234")},
        )
    }
    entries["unknown-user"] = {
        "snmp": Credential(
            "uu",
            "snmp",
            {"version": "3", "user": "nobody", "auth_protocol": "SHA", "priv_protocol": "AES"},
            {"auth_key": Secret("auth-pass-1234"), "priv_key": Secret("priv-pass-1234")},
        )
    }
    return SecretStore(entries, None)


def check(target: Target, profiles: Path = PROFILES) -> ProbeResult:
    async def run() -> ProbeResult:
        probe = SnmpProbe(profiles)
        await probe.start(ProbeContext(secrets=_store()))
        try:
            return await probe.check(target)
        finally:
            await probe.stop()

    return asyncio.run(run())


@pytest.mark.parametrize("credential", ["v2c", "v1", *V3_USERS])
def test_every_version_and_v3_protocol_pair_reads_the_agent(snmpd: Snmpd, credential: str) -> None:
    result = check(
        Target("127.0.0.1", snmpd.port, settings={"profile": "switch"}, credential=credential)
    )
    assert result.status in (ProbeStatus.OK, ProbeStatus.CRIT), result.reason
    assert result.metrics["sys_name"] == "kape-test-snmpd"
    assert result.metrics["if_count"] >= 1
    assert result.metrics["uptime_s"] >= 0


def test_wrong_community_is_unknown_no_response(snmpd: Snmpd) -> None:
    result = check(Target("127.0.0.1", snmpd.port, settings=FAST, credential="wrong-community"))
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason == f"no response from 127.0.0.1:{snmpd.port} — check community/ACL"
    assert "not-it" not in json.dumps(dict(result.metrics)) + result.reason


def test_wrong_v3_password_is_an_authentication_failure(snmpd: Snmpd) -> None:
    result = check(Target("127.0.0.1", snmpd.port, settings=FAST, credential="wrong-auth"))
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason.startswith("authentication failure: wrong SNMPv3 auth passphrase")
    assert result.metrics["error"] == "auth"
    assert "not-the-auth-key" not in result.reason


def test_unknown_v3_user_is_named(snmpd: Snmpd) -> None:
    result = check(Target("127.0.0.1", snmpd.port, settings=FAST, credential="unknown-user"))
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason == f"unknown SNMPv3 user 'nobody' on 127.0.0.1:{snmpd.port}"


def test_no_such_object_and_no_such_instance_are_reported(snmpd: Snmpd, tmp_path: Path) -> None:
    folder = tmp_path / "snmp"
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "snmp.schema.json").write_bytes(
        (REPO / "probes" / "schema" / "snmp.schema.json").read_bytes()
    )
    folder.mkdir()
    (folder / "base.yaml").write_bytes((PROFILES / "base.yaml").read_bytes())
    (folder / "odd.yaml").write_text(
        "name: odd\ndescription: OIDs the agent lacks\nextends: base\n"
        "system: {sys_descr: 1.3.6.1.2.1.1.99.0, sys_name: 1.3.6.1.2.1.1.5.7}\n"
    )
    result = check(
        Target("127.0.0.1", snmpd.port, settings={"profile": "odd"}, credential="v2c"), folder
    )
    assert result.status is ProbeStatus.UNKNOWN
    assert "sysDescr not exposed (noSuchObject at 1.3.6.1.2.1.1.99.0)" in result.reason
    assert "sysName not exposed (noSuchInstance at 1.3.6.1.2.1.1.5.7)" in result.reason


@pytest.mark.parametrize("credential", ["v2c", "mon-sha-aes"])
def test_an_agent_that_never_answers_is_bounded_by_the_deadline(credential: str) -> None:
    silent = SilentAgent()
    try:
        t0 = time.monotonic()
        result = check(
            Target(
                "127.0.0.1",
                silent.port,
                settings={"timeout_s": 0.5, "retries": 10, "deadline_s": 1.0},
                credential=credential,
            )
        )
        elapsed = time.monotonic() - t0
    finally:
        silent.close()
    assert result.status is ProbeStatus.UNKNOWN
    assert (
        result.reason == f"no complete answer within the deadline of 1 s (127.0.0.1:{silent.port})"
    )
    assert elapsed < 4  # 11 tries x 0.5 s would be 5.5 s


def test_inventory_cross_check_flags_a_hostname_mismatch(snmpd: Snmpd) -> None:
    device = Device("KAPE-0900", DeviceKind.SWITCH, "KPT-PSP", hostname="KPT-PSP-SW09")
    result = check(
        Target(
            "127.0.0.1", snmpd.port, device=device, settings={"profile": "base"}, credential="v2c"
        )
    )
    assert result.status is ProbeStatus.WARN
    assert result.reason == (
        "inventory mismatch: sysName 'kape-test-snmpd' but inventory hostname 'KPT-PSP-SW09'"
    )
    assert result.asset_tag == "KAPE-0900"


def test_missing_credential_is_unknown_with_a_hint(
    snmpd: Snmpd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ITOPS_SNMP_COMMUNITY", raising=False)
    result = check(Target("127.0.0.1", snmpd.port))
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason.startswith("no SNMP credential")


# --- CLI --------------------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    runner = CliRunner()
    base = {
        "ITOPS_DATA": str(REPO),
        "ITOPS_SNMP_COMMUNITY": "",
        "ITOPS_SNMP_AUTH_KEY": "",
        "ITOPS_SNMP_PRIV_KEY": "",
    }
    result = runner.invoke(cli, args, env={**base, **(env or {})})
    return result.exit_code, " ".join(result.output.split())


def test_cli_v2c_from_env_json_masks_the_community(snmpd: Snmpd) -> None:
    code, out = _run(
        ["probe", "snmp", f"127.0.0.1:{snmpd.port}", "--json"], {"ITOPS_SNMP_COMMUNITY": COMMUNITY}
    )
    doc = json.loads(out)
    assert (code, doc["status"], doc["method"]) == (0, "ok", "snmp v2c")
    assert doc["metrics"]["sys_name"] == "kape-test-snmpd"
    assert COMMUNITY not in out


def test_cli_v3_keys_from_env_never_printed(snmpd: Snmpd) -> None:
    auth, akey, priv, pkey = V3_USERS["mon-sha-aes"]
    code, out = _run(
        [
            "probe",
            "snmp",
            f"127.0.0.1:{snmpd.port}",
            "--v3-user",
            "mon-sha-aes",
            "--auth-protocol",
            auth,
            "--priv-protocol",
            priv,
            "--profile",
            "switch",
        ],
        {"ITOPS_SNMP_AUTH_KEY": akey, "ITOPS_SNMP_PRIV_KEY": pkey},
    )
    assert code in (0, 2), out
    assert "snmp v3 user=mon-sha-aes SHA/AES" in out
    assert akey not in out and pkey not in out


def test_cli_v3_without_passphrase_and_no_terminal_is_usage_error_3(snmpd: Snmpd) -> None:
    code, out = _run(
        [
            "probe",
            "snmp",
            f"127.0.0.1:{snmpd.port}",
            "--v3-user",
            "mon-sha-aes",
            "--auth-protocol",
            "SHA",
        ]
    )
    assert code == 3
    assert "no SNMPv3 authentication passphrase for mon-sha-aes: set ITOPS_SNMP_AUTH_KEY" in out


def test_cli_has_no_option_for_v3_keys() -> None:
    code, out = _run(["probe", "snmp", "127.0.0.1", "--auth-key", "x"])
    assert code == 3
    assert "No such option '--auth-key'" in out


def test_cli_wrong_community_exits_unknown(snmpd: Snmpd) -> None:
    code, out = _run(
        [
            "probe",
            "snmp",
            f"127.0.0.1:{snmpd.port}",
            "--community",
            "nope",
            "--timeout",
            "0.3",
            "--retries",
            "0",
        ]
    )
    assert code == 3
    assert "no response from" in out and "check community/ACL" in out


def test_cli_credential_from_secrets_file(snmpd: Snmpd, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    auth, akey, priv, pkey = V3_USERS["mon-sha512"]
    secrets.write_text(
        f'[core.snmp]\nversion = "3"\nuser = "mon-sha512"\nauth_protocol = "{auth}"\n'
        f'auth_key = "{akey}"\npriv_protocol = "{priv}"\npriv_key = "{pkey}"\n'
    )
    os.chmod(secrets, 0o600)
    code, out = _run(
        [
            "--secrets",
            str(secrets),
            "probe",
            "snmp",
            f"127.0.0.1:{snmpd.port}",
            "--credential",
            "core",
            "--json",
        ]
    )
    doc = json.loads(out)
    assert (code, doc["status"]) == (0, "ok")
    assert doc["method"] == "snmp v3 user=mon-sha512 SHA-512/AES-256"
    assert akey not in out and pkey not in out


def test_cli_refuses_a_readable_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[core.snmp]\ncommunity = "x"\n')
    os.chmod(secrets, 0o644)
    code, out = _run(
        ["--secrets", str(secrets), "probe", "snmp", "127.0.0.1", "--credential", "core"]
    )
    assert code == 3
    assert "it must be readable by its owner only" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "toaster", "--community", "x"], "unknown SNMP profile 'toaster'"),
        (["--auth-protocol", "SHA"], "--auth-protocol/--priv-protocol need --v3-user"),
        (["--v3-user", "u", "--auth-protocol", "SHA-999"], "'SHA-999' is not one of"),
        (["--community", "x", "--v3-user", "u"], "--community and --v3-user exclude each other"),
        ([], "no SNMP credential"),
    ],
)
def test_cli_usage_errors_exit_3(args: list[str], message: str) -> None:
    code, out = _run(["probe", "snmp", "127.0.0.1:1", *args])
    assert code == 3
    assert message in out


def test_an_agent_whose_walk_never_advances_is_refused_not_looped() -> None:
    from tests.support.snmp import LoopingAgent

    agent = LoopingAgent()
    try:
        result = check(
            Target(
                "127.0.0.1", agent.port, settings={"profile": "switch", **FAST}, credential="v2c"
            )
        )
    finally:
        agent.close()
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason.startswith(f"agent 127.0.0.1:{agent.port} returned OIDs out of order")
    assert agent.requests == 3  # one GET, two GETBULK: no endless walk


@pytest.mark.skipif(not ipv6_loopback(), reason="this host has no IPv6 loopback (::1)")
def test_ipv6_target_from_the_cli(tmp_path: Path) -> None:
    agent = Snmpd(tmp_path / "v6", sys_name="v6-agent", ipv6=True).start()
    try:
        code, out = _run(
            ["probe", "snmp", f"[::1]:{agent.port}", "--json"], {"ITOPS_SNMP_COMMUNITY": COMMUNITY}
        )
    finally:
        agent.stop()
    doc = json.loads(out)
    assert (code, doc["status"], doc["metrics"]["sys_name"]) == (0, "ok", "v6-agent")
