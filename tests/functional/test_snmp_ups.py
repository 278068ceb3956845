"""The UPS battery check against snmpsim serving UPS-MIB recordings (real UDP agents on
127.0.0.1): one UPS on battery with a low charge, one normal. Through ``itops probe snmp
--profile ups``, through ``probe run`` (kind profile thresholds, lab address map: nothing is sent
to 10.30.x) with the report and the alert hook agreeing, and through the lab's UPS agents."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.snmp_sim import SNMPSIM_ENV, lab_recording, start_snmpsim
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.snmp.probe import SnmpProbe
from kape_itops.reports import alerts
from kape_itops.reports.build import build_report
from kape_itops.reports.model import Period
from kape_itops.secrets import Credential, Secret, SecretStore
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.snmp import ensure_snmpsim, free_udp_port

REPO = Path(__file__).resolve().parents[2]
COMMUNITY = "ups-community-3"
RECORDINGS = ("ups-on-battery", "ups-normal", "agent-basic")
LOW = "battery low (upsBatteryStatus); battery 15% charged (< 20%); 4 min of battery left (< 5 min)"


@pytest.fixture(scope="module")
def agents() -> Iterator[dict[str, int]]:
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    ports = {name: free_udp_port() for name in RECORDINGS}
    handle = start_snmpsim([("127.0.0.1", p, name) for name, p in ports.items()], COMMUNITY)
    try:
        yield ports
    finally:
        handle.stop()
        os.environ.pop(SNMPSIM_ENV, None)


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(
        cli,
        ["probe", "snmp", *args],
        env={"ITOPS_DATA": str(REPO), "ITOPS_SNMP_COMMUNITY": COMMUNITY, "COLUMNS": "200"},
    )
    return r.exit_code, r.output


def test_itops_probe_snmp_profile_ups(agents: dict[str, int]) -> None:
    code, out = _cli(f"127.0.0.1:{agents['ups-on-battery']}", "--profile", "ups", "--json")
    doc = json.loads(out)
    assert (code, doc["status"], doc["reason"]) == (2, "crit", LOW)
    m = doc["metrics"]
    assert (m["ups_on_battery"], m["ups_charge_pct"], m["ups_minutes_left"]) == (True, 15, 4)
    assert (m["ups_battery_status"], m["ups_output_source"]) == ("low", "battery")
    assert m["ups_alarms"] == ["on battery", "low battery"]
    assert "warn: on battery for 9m 0s" in m["findings"]
    code, out = _cli(f"127.0.0.1:{agents['ups-normal']}", "--profile", "ups")
    assert code == 0
    assert "UPS battery normal, 100% charged, 52 min left" in out
    code, out = _cli(f"127.0.0.1:{agents['agent-basic']}", "--profile", "ups")
    assert code == 3  # an agent without UPS-MIB: UNKNOWN, not OK
    assert "UPS-MIB not exposed" in out
    code, out = _cli(f"127.0.0.1:{agents['ups-on-battery']}", "--profile", "base")
    assert code == 0  # the base profile does not run the UPS check


def test_kind_profile_thresholds_judge_the_ups(agents: dict[str, int]) -> None:
    """The ups kind profile's snmp section, with a school that tolerates less charge."""
    kind = yaml.safe_load((REPO / "probes" / "kinds" / "ups.yaml").read_text())["snmp"]
    lax = {**kind, "thresholds": {"ups_charge_pct": {"warn": 10, "crit": 5}}}
    secrets = SecretStore(
        {
            "s": {
                "snmp": Credential("s", "snmp", {"version": "2c"}, {"community": Secret(COMMUNITY)})
            }
        },
        None,
    )

    async def run() -> list[ProbeResult]:
        probe = SnmpProbe(REPO / "probes" / "snmp")
        await probe.start(ProbeContext(secrets=secrets))
        try:
            return [
                await probe.check(
                    Target("127.0.0.1", agents["ups-on-battery"], settings=s, credential="s")
                )
                for s in (kind, lax)
            ]
        finally:
            await probe.stop()

    strict, relaxed = asyncio.run(run())
    assert (strict.status, strict.reason) == (ProbeStatus.CRIT, LOW)
    assert relaxed.metrics["levels"]["ups_charge_pct"] == "ok"
    assert relaxed.metrics["levels"]["ups_minutes_left"] == "crit"  # the kind's, merged


def test_probe_run_and_the_report_agree_on_the_ups(agents: dict[str, int], tmp_path: Path) -> None:
    plan = {"UPS-BATT": ("10.30.1.50", "ups-on-battery"), "UPS-OK": ("10.30.1.51", "ups-normal")}
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("S1", {"name": "School One"})], ctx)
        repo.apply_devices(
            [
                DeviceUpsert(
                    tag,
                    {
                        "school": "S1",
                        "kind": DeviceKind.UPS,
                        "ip": ip,
                        "status": DeviceStatus.DEPLOYED,
                        "credential": "school",
                    },
                )
                for tag, (ip, _rec) in plan.items()
            ],
            ctx,
        )
    state = tmp_path / "state.json"
    amap = {
        ip: {"address": "127.0.0.1", "ports": {"snmp": agents[rec]}} for ip, rec in plan.values()
    }
    state.write_text(json.dumps({"version": 1, "address_map": amap}))
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[school.snmp]\nversion = "2c"\ncommunity = "{COMMUNITY}"\n')
    secrets.chmod(0o600)
    r = CliRunner().invoke(
        cli,
        ["--db", url, "--secrets", str(secrets), "probe", "run", "--only", "snmp", "--json"],
        env={"ITOPS_LAB_STATE": str(state), "ITOPS_DATA": str(REPO)},
    )
    assert r.exit_code == 2, r.output  # Nagios CRITICAL: the UPS on battery
    results = {x["asset_tag"]: x for x in json.loads(r.output)["results"]}
    assert (results["UPS-BATT"]["status"], results["UPS-BATT"]["reason"]) == ("crit", LOW)
    assert results["UPS-BATT"]["metrics"]["profile"] == "ups"  # the kind's default profile
    assert results["UPS-OK"]["status"] == "ok"

    now = dt.datetime.now(dt.UTC)
    rep = build_report(store, Period(now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1)))
    hook = alerts.evaluate(store, consecutive=1)
    store.dispose()
    found = {(p.asset_tag, p.kind.value): (p.severity.value, p.detail) for p in rep.problems}
    detail = "on battery, battery low, 15% charged, 4 min left, alarms: on battery, low battery"
    assert found == {("UPS-BATT", "ups_battery"): ("crit", detail)}
    assert {(p.asset_tag, p.kind.value, p.severity.value) for p in hook.new} == {
        ("UPS-BATT", "ups_battery", "crit")
    }


def test_the_labs_ups_agents_serve_the_ups_recordings(tmp_path: Path) -> None:
    from kape_itops.lab.lab import LabContext, LabDevice
    from kape_itops.lab.snmp_sim import LAB_PORT, lab_component

    tags: dict[str, str] = {}
    for n in range(50):  # one asset tag per UPS recording (the choice is stable per tag)
        tags.setdefault(str(lab_recording("ups", f"UPS-{n}")), f"UPS-{n}")
    assert set(tags) == {"ups-on-battery", "ups-normal"}
    devices = [
        LabDevice(tag, "S251", "ups", f"10.30.251.{i}")
        for i, tag in enumerate(sorted(tags.values()), 10)
    ]
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    handles = lab_component(devices, LabContext(mode="loopback", netns=None, workdir=str(tmp_path)))
    secrets = SecretStore(
        {
            "lab": {
                "snmp": Credential(
                    "lab", "snmp", {"version": "2c"}, {"community": Secret("public")}
                )
            }
        },
        None,
    )

    async def run() -> dict[str, ProbeResult]:
        probe = SnmpProbe(REPO / "probes" / "snmp")
        await probe.start(ProbeContext(secrets=secrets))
        try:
            return {
                d.asset_tag: await probe.check(
                    Target(
                        "127." + d.ip.split(".", 1)[1],
                        LAB_PORT,
                        settings={"profile": "ups"},
                        credential="lab",
                    )
                )
                for d in devices
            }
        finally:
            await probe.stop()

    try:
        got = asyncio.run(run())
    finally:
        for h in handles:
            h.stop()
        os.environ.pop(SNMPSIM_ENV, None)
    assert got[tags["ups-on-battery"]].status is ProbeStatus.CRIT
    assert got[tags["ups-on-battery"]].metrics["ups_on_battery"] is True
    assert got[tags["ups-normal"]].status is ProbeStatus.OK, got[tags["ups-normal"]].reason
