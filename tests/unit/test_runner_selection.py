"""From devices to jobs: statuses, addresses, --only, credentials, previous results, lab map."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ConfigError
from kape_itops.probes import catalog
from kape_itops.probes.addressmap import (
    DEFAULT_STATE,
    ENV_VAR,
    Mapped,
    lab_state_path,
    load_address_map,
)
from kape_itops.probes.profiles import load_profiles
from kape_itops.probes.registry import ProbeRegistry, ProbeUnavailable, builtin, parse_extra
from kape_itops.probes.selection import build_plan

REPO = Path(__file__).resolve().parents[2]
PROFILES = load_profiles(REPO / "probes")


def dev(tag: str, kind: DeviceKind = DeviceKind.PRINTER, **kw: object) -> Device:
    kw.setdefault("status", DeviceStatus.DEPLOYED)
    kw.setdefault("school", "S1")
    return Device(tag, kind, **kw)  # type: ignore[arg-type]


def test_plan_skips_retired_lost_and_addressless_devices() -> None:
    devices = [
        dev("P1", ip="10.30.1.20"),
        dev("P2", ip="10.30.1.21", status=DeviceStatus.RETIRED),
        dev("P3", ip="10.30.1.22", status=DeviceStatus.LOST),
        dev("L1", DeviceKind.LAPTOP),
        dev("L2", DeviceKind.LAPTOP, hostname="lab-pc-2.local"),
    ]
    plan = build_plan(devices, PROFILES)
    assert [j.key for j in plan.jobs] == ["P1", "L2"]
    assert [(d.asset_tag, why) for d, why in plan.skipped] == [
        ("P2", "status retired"),
        ("P3", "status lost"),
        ("L1", "no IP address or host name in the inventory"),
    ]
    p1 = plan.jobs[0]
    assert [c.probe for c in p1.checks] == ["ping", "snmp"]
    assert p1.deadline_s == 40
    assert p1.checks[1].timeout_s == 20
    assert p1.checks[0].target.address == "10.30.1.20"
    assert p1.checks[0].target.settings["tcp_ports"] == [9100, 631, 80]
    assert plan.jobs[1].checks[0].target.address == "lab-pc-2.local"
    assert plan.checks == 3


def test_devices_not_deployed_are_probed_only_on_request() -> None:
    devices = [
        dev("P1", ip="10.30.1.20"),
        dev("R1", ip="10.30.1.21", status=DeviceStatus.IN_REPAIR),
        dev("S1", ip="10.30.1.22", status=DeviceStatus.IN_STOCK),
    ]
    plan = build_plan(devices, PROFILES)
    assert [j.key for j in plan.jobs] == ["P1"]
    assert [(d.asset_tag, why) for d, why in plan.skipped] == [
        ("R1", "status in_repair: not deployed: name it with --tag or add --include-undeployed"),
        ("S1", "status in_stock: not deployed: name it with --tag or add --include-undeployed"),
    ]
    assert [j.key for j in build_plan(devices, PROFILES, named=["R1"]).jobs] == ["P1", "R1"]
    everything = build_plan(devices, PROFILES, include_undeployed=True)
    assert [j.key for j in everything.jobs] == ["P1", "R1", "S1"]


def test_only_narrows_probes_and_skips_devices_left_with_none() -> None:
    devices = [dev("P1", ip="10.30.1.20"), dev("C1", DeviceKind.CAMERA, ip="10.30.1.31")]
    plan = build_plan(devices, PROFILES, only=["snmp"])
    assert [(j.key, [c.probe for c in j.checks]) for j in plan.jobs] == [("P1", ["snmp"])]
    assert plan.skipped[0][1] == "none of snmp applies"


def test_credentials_and_previous_results_reach_the_target() -> None:
    previous = ProbeResult(
        "snmp",
        "10.30.1.20",
        ProbeStatus.OK,
        "ok",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        5.0,
        {"uptime_s": 100},
        asset_tag="P1",
    )
    devices = [dev("P1", ip="10.30.1.20"), dev("P2", ip="10.30.1.21", credential="own")]
    plan = build_plan(
        devices,
        PROFILES,
        previous={("P1", "snmp"): previous},
        school_credentials={"S1": "school-snmp"},
    )
    p1, p2 = plan.jobs
    assert p1.checks[1].target.previous == previous
    assert p1.checks[0].target.previous is None
    assert p1.checks[1].target.credential == "school-snmp"
    assert p2.checks[1].target.credential == "own"


def write_state(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_lab_map_rewrites_address_and_port(tmp_path: Path) -> None:
    state = write_state(
        tmp_path / "state.json",
        {
            "version": 1,
            "mode": "loopback",
            "address_map": {
                "10.30.1.20": {"address": "127.30.1.20", "ports": {"snmp": 16120, "9100": 19100}}
            },
        },
    )
    amap = load_address_map(state)
    assert amap.lookup("10.30.1.20") == Mapped("127.30.1.20", {"snmp": 16120, "9100": 19100})
    devices = [dev("P1", ip="10.30.1.20"), dev("P2", ip="10.30.1.99")]
    plan = build_plan(devices, PROFILES, address_map=amap)
    ping, snmp = plan.jobs[0].checks
    assert (ping.target.address, ping.target.port) == ("127.30.1.20", None)
    assert (snmp.target.address, snmp.target.port) == ("127.30.1.20", 16120)
    assert snmp.target.settings["lab_ports"] == {"snmp": 16120, "9100": 19100}
    assert ping.skip_reason is None
    unmapped = plan.jobs[1].checks[0]
    assert unmapped.target.address == "10.30.1.99"
    assert unmapped.skip_reason == (
        f"address 10.30.1.99 is not in the lab address map ({state}); not probed"
    )


def test_without_a_map_nothing_is_rewritten() -> None:
    plan = build_plan([dev("P1", ip="10.30.1.20")], PROFILES)
    assert {c.target.address for c in plan.jobs[0].checks} == {"10.30.1.20"}
    assert all(
        c.skip_reason is None and "lab_ports" not in c.target.settings for c in plan.jobs[0].checks
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], r"at \(top level\): expected a JSON object"),
        ({"mode": "loopback"}, "at address_map: missing or not an object"),
        (
            {"address_map": {"10.30.1.1": "127.0.0.1"}},
            "at address_map.10.30.1.1: expected an object",
        ),
        (
            {"address_map": {"10.30.1.1": {"ports": {}}}},
            "at address_map.10.30.1.1.address: missing",
        ),
        (
            {"address_map": {"10.30.1.1": {"address": "lab-host"}}},
            "'lab-host' is not an IP address",
        ),
        (
            {"address_map": {"10.30.1.1": {"address": "127.0.0.1", "ports": {"snmp": 70000}}}},
            r"at address_map.10.30.1.1.ports.snmp: 70000 is not a port number",
        ),
    ],
)
def test_bad_state_file_is_reported(tmp_path: Path, doc: object, message: str) -> None:
    state = write_state(tmp_path / "state.json", doc)
    with pytest.raises(ConfigError, match=message) as err:
        load_address_map(state)
    assert str(state) in str(err.value)


def test_missing_or_broken_state_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; start the lab with 'itops lab up' first"):
        load_address_map(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"address_map": ')
    with pytest.raises(ConfigError, match=r"not valid JSON \(line 1, column 17\)"):
        load_address_map(broken)


def test_lab_state_path_is_only_used_when_asked(tmp_path: Path) -> None:
    assert lab_state_path(False, tmp_path, {}) is None
    assert lab_state_path(True, tmp_path, {}) == tmp_path / DEFAULT_STATE
    assert lab_state_path(False, tmp_path, {ENV_VAR: "/x/state.json"}) == Path("/x/state.json")


def test_registry_paths_and_plugins() -> None:
    assert builtin()["ping"] == {k.name: k.probe_class for k in catalog.KINDS}["ping"]
    reg = ProbeRegistry.default({"ITOPS_PROBES": "custom=tests.nowhere:Probe"})
    assert "custom" in reg.names
    with pytest.raises(ProbeUnavailable, match=r"cannot import tests\.nowhere"):
        reg.create("custom")
    with pytest.raises(ProbeUnavailable, match=r"kape_itops\.probes\.base has no Nope"):
        ProbeRegistry({"x": "kape_itops.probes.base:Nope"}).create("x")
    with pytest.raises(ProbeUnavailable, match="does not implement Probe"):
        ProbeRegistry({"x": "kape_itops.probes.ratelimit:Unlimited"}).create("x")
    with pytest.raises(ProbeUnavailable, match=r"cannot create kape_itops\.probes\.base:Target"):
        ProbeRegistry({"x": "kape_itops.probes.base:Target"}).create("x")


def test_registry_env_errors() -> None:
    assert parse_extra(" a=m.n:C , b=x:Y ") == {"a": "m.n:C", "b": "x:Y"}
    with pytest.raises(
        ConfigError, match=r"ITOPS_PROBES: 'bad' is not of the form name=package\.module:Class"
    ):
        parse_extra("bad")
    with pytest.raises(ConfigError, match="'a=nocolon'"):
        parse_extra("a=nocolon")
