"""Devices that answer with terminal escapes and bidi overrides (a real SNMP agent and the SSH
vendor-CLI simulator on loopback): tables, JSON, diffs and command output show them as
escapes, never raw."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.lab.snmp_sim import SNMPSIM_ENV, SnmpsimHandle, recording_path, start_snmpsim
from kape_itops.lab.ssh_sim import SshSimHandle
from kape_itops.store.db import Store
from tests.functional import test_ssh_sim as ssh_tests
from tests.hostile.text import HOSTILE, assert_clean
from tests.support.snmp import ensure_snmpsim, free_udp_port

REPO = Path(__file__).resolve().parents[2]
sim = ssh_tests.sim
lab = ssh_tests.lab
"""The SSH simulator (R1 MikroTik, SW1/SW2 Cisco) and its CLI environment, reused."""
COMMUNITY = "sim-community"
HOSTILE_VALUES = {
    "1.3.6.1.2.1.1.1.0": "HP " + HOSTILE["clear_screen"] + HOSTILE["osc_title"],  # sysDescr
    "1.3.6.1.2.1.1.5.0": "PRN" + HOSTILE["rlo"] + HOSTILE["c1_csi"],  # sysName
    "1.3.6.1.2.1.43.11.1.1.6.1.1": "Black " + HOSTILE["blink"] + HOSTILE["bidi_marks"],
    "1.3.6.1.2.1.43.11.1.1.6.1.5": "Cyan " + HOSTILE["del"] + HOSTILE["separators"],
}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """snmpsim serving a printer recording whose strings are hostile bytes (UTF-8)."""
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    lines = []
    for line in recording_path("printer-odd-values").read_text("utf-8").splitlines():
        oid = line.split("|", 1)[0]
        if oid in HOSTILE_VALUES:
            line = f"{oid}|4x|{HOSTILE_VALUES[oid].encode().hex()}"
        lines.append(line)
    rec = tmp_path_factory.mktemp("rec") / "hostile-printer.snmprec"
    rec.write_text("\n".join(lines) + "\n", "utf-8")
    port = free_udp_port()
    handle: SnmpsimHandle = start_snmpsim([("127.0.0.1", port, str(rec))], COMMUNITY)
    try:
        yield port
    finally:
        handle.stop()
        os.environ.pop(SNMPSIM_ENV, None)


def _probe(port: int, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["probe", "snmp", f"127.0.0.1:{port}", "--profile", "printer", *extra],
        env={"ITOPS_DATA": str(REPO), "ITOPS_SNMP_COMMUNITY": COMMUNITY, "COLUMNS": "200"},
    )
    return result.exit_code, result.stdout + result.stderr


def test_snmp_table_shows_hostile_strings_as_escapes(agent: int) -> None:
    code, out = _probe(agent)
    assert code == 3, out  # the odd-values printer is UNKNOWN
    assert_clean(out, "probe snmp")
    assert "\\x1b[5mBLINK" in out  # the supply name, visibly


def test_snmp_json_has_no_raw_control_or_bidi(agent: int) -> None:
    code, out = _probe(agent, "--json")
    assert code == 3, out  # the odd-values printer is UNKNOWN
    assert_clean(out, "probe snmp --json")
    text = json.dumps(json.loads(out), ensure_ascii=False)
    assert "\\\\x1b[2J" in text and "\\\\u202e" in text  # escapes, not the raw characters


SSH_NAME = "R1" + HOSTILE["rlo"] + HOSTILE["c1_csi"] + HOSTILE["bidi_embed_isolate"]


def test_ssh_output_with_bidi_and_c1_is_shown_as_escapes(
    sim: SshSimHandle, lab: dict[str, str], tmp_path: Path, runner: CliRunner, sqlite_url: str
) -> None:
    """A router whose identity holds a bidi override and an 8-bit CSI: ``ssh run``, ``ssh
    backup``, ``ssh diff`` and ``ssh history`` never pass them to the terminal raw."""
    store = Store(sqlite_url)
    store.upgrade()
    ssh_tests._seed(store)
    store.dispose()
    secrets = ssh_tests._secrets(tmp_path)
    outputs = []
    for args in (
        ("backup", "--tag", "R1", "--trust-new"),
        ("run", "R1", f"/system identity set name={SSH_NAME}", "--allow-config", "--lab"),
        ("run", "R1", "/system identity print", "--lab"),
        ("backup", "--tag", "R1"),
        ("diff", "R1"),
        ("diff", "R1", "--json"),
        ("history", "R1"),
    ):
        code, out = ssh_tests._cli(runner, sqlite_url, secrets, lab, *args)
        assert code == 0, out
        assert_clean(out, " ".join(args))
        outputs.append(out)
    assert "name: R1invoice\\u202efdp.exe\\x9b31mred" in outputs[2]
    assert "+set name=R1invoice\\u202efdp.exe" in outputs[4]
