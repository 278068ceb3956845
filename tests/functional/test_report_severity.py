"""One severity everywhere: the report and the alert hook take a reading's severity from the
probe's own verdict (the probe profile's thresholds, school and device overrides included), so
the probe table, the Nagios exit code and the report agree. Real SNMP agents (snmpsim) and the
ONVIF simulator on 127.0.0.1; the lab address map keeps every packet off 10.30.x."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus, RunStatus
from kape_itops.domain.inventory import ChangeContext, Device, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.onvif_sim import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    SimEndpoint,
    SimFaults,
    start_onvif_sim,
)
from kape_itops.lab.snmp_sim import SNMPSIM_ENV, recording_path, start_snmpsim
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.onvif.probe import OnvifProbe
from kape_itops.reports import alerts
from kape_itops.reports.build import build_report
from kape_itops.reports.model import Period
from kape_itops.secrets import Credential, Secret, SecretStore
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo
from tests.support.snmp import ensure_snmpsim, free_udp_port

REPO = Path(__file__).resolve().parents[2]
COMMUNITY = "school-community-7"
OVERRIDE = (
    "devices:\n  PRN-OV:\n    snmp:\n      thresholds:\n        supply_pct: {warn: 25, crit: 15}\n"
)


def _seed(url: str, devices: list[tuple[str, DeviceKind, str]]) -> Store:
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
                        "kind": kind,
                        "ip": ip,
                        "status": DeviceStatus.DEPLOYED,
                        "credential": "school",
                    },
                )
                for tag, kind, ip in devices
            ],
            ctx,
        )
    return store


def _severities(store: Store) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """(device, problem kind) → severity, in the health report and from the alert hook."""
    now = dt.datetime.now(dt.UTC)
    rep = build_report(store, Period(now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1)))
    hook = alerts.evaluate(store, consecutive=1)
    report = {(p.asset_tag or "", p.kind.value): p.severity.value for p in rep.problems}
    alerted = {(p.asset_tag or "", p.kind.value): p.severity.value for p in hook.new}
    return report, alerted


@pytest.fixture
def printers(tmp_path: Path) -> Iterator[dict[str, int]]:
    """snmpsim agents: black toner at 4 % and at 12 % (twice), a switch, an NVR."""
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    at_12 = tmp_path / "printer-12.snmprec"
    text = recording_path("printer-low-toner").read_text(encoding="utf-8")
    at_12.write_text(text.replace("43.11.1.1.9.1.1|2|4\n", "43.11.1.1.9.1.1|2|12\n"))
    plan = {
        "10.30.1.20": "printer-low-toner",
        "10.30.1.21": str(at_12),
        "10.30.1.22": str(at_12),
        "10.30.1.2": "switch-uplink-down",
        "10.30.1.30": "nvr-disk-full",
    }
    ports = {ip: free_udp_port() for ip in plan}
    handle = start_snmpsim([("127.0.0.1", ports[ip], rec) for ip, rec in plan.items()], COMMUNITY)
    yield ports
    handle.stop()
    os.environ.pop(SNMPSIM_ENV, None)


def test_snmp_readings_have_the_probes_severity(printers: dict[str, int], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    devices = [
        ("PRN-4", DeviceKind.PRINTER, "10.30.1.20"),
        ("PRN-12", DeviceKind.PRINTER, "10.30.1.21"),
        ("PRN-OV", DeviceKind.PRINTER, "10.30.1.22"),
        ("SW-1", DeviceKind.SWITCH, "10.30.1.2"),
        ("NVR-1", DeviceKind.NVR, "10.30.1.30"),
    ]
    _seed(url, devices).dispose()
    profiles = tmp_path / "probes"
    shutil.copytree(REPO / "probes", profiles)
    (profiles / "overrides.yaml").write_text(OVERRIDE, encoding="utf-8")
    state = tmp_path / "state.json"
    amap = {ip: {"address": "127.0.0.1", "ports": {"snmp": p}} for ip, p in printers.items()}
    state.write_text(json.dumps({"version": 1, "address_map": amap}))
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[school.snmp]\nversion = "2c"\ncommunity = "{COMMUNITY}"\n')
    secrets.chmod(0o600)
    args = ["--db", url, "--secrets", str(secrets), "probe", "run", "--only", "snmp", "--json"]
    r = CliRunner().invoke(
        cli,
        [*args, "--profiles", str(profiles)],
        env={"ITOPS_LAB_STATE": str(state), "ITOPS_DATA": str(REPO)},
    )
    assert r.exit_code == 2, r.output  # Nagios CRITICAL
    probe = {x["asset_tag"]: x for x in json.loads(r.output)["results"]}
    assert probe["PRN-4"]["status"] == "crit" and "4% (< 5%)" in probe["PRN-4"]["reason"]
    assert probe["PRN-12"]["status"] == "warn" and "12% (< 15%)" in probe["PRN-12"]["reason"]
    assert probe["PRN-OV"]["status"] == "crit" and "12% (< 15%)" in probe["PRN-OV"]["reason"]
    assert probe["SW-1"]["status"] == "crit" and "uplink down: gi8" in probe["SW-1"]["reason"]
    assert any("(> 85%)" in f for f in probe["NVR-1"]["metrics"]["findings"])

    store = Store(url)
    report, alerted = _severities(store)
    store.dispose()
    expected = {
        ("PRN-4", "toner_low"): "crit",
        ("PRN-12", "toner_low"): "warn",  # the report used to show nothing at 12 %
        ("PRN-OV", "toner_low"): "crit",  # the device's own thresholds, as the probe judged
        ("SW-1", "interface_down"): "crit",  # only the uplink; unused ports are not a problem
        ("NVR-1", "disk_full"): "warn",
    }
    assert report == expected
    assert alerted == expected
    assert _worst(report) == {tag: x["status"] for tag, x in probe.items()}


def _worst(found: dict[tuple[str, str], str]) -> dict[str, str]:
    """The most severe problem per device."""
    out: dict[str, str] = {}
    for (tag, _kind), sev in found.items():
        out[tag] = "crit" if "crit" in (sev, out.get(tag)) else sev
    return out


def test_onvif_readings_have_the_probes_severity(tmp_path: Path) -> None:
    cams = [
        ("CAM-DRIFT", SimFaults(clock_offset_s=10), "camera", {}),
        ("CAM-LAX", SimFaults(clock_offset_s=10), "camera", {"clock_drift_s": {"warn": 30}}),
        ("NVR-IDLE", SimFaults(recording_stopped=True), "nvr", {}),
    ]
    handles = [start_onvif_sim([SimEndpoint(faults=f, kind=k)]) for _t, f, k, _th in cams]
    try:
        eps = [h.endpoints[0] for h in handles]
        kinds = {"camera": DeviceKind.CAMERA, "nvr": DeviceKind.NVR}
        plan = [(t, kinds[k], f"10.30.1.{40 + i}") for i, (t, _f, k, _th) in enumerate(cams)]
        store = _seed(f"sqlite:///{tmp_path / 'itops.db'}", plan)
        results = asyncio.run(_probe_all(plan, eps, [th for *_x, th in cams]))
    finally:
        for h in handles:
            h.stop()
    by_tag = {tag: r for (tag, _k, _ip), r in zip(plan, results, strict=True)}
    assert by_tag["CAM-DRIFT"].status.value == "warn"
    assert by_tag["CAM-LAX"].status.value == "ok"  # 10 s is fine by this camera's thresholds
    assert by_tag["NVR-IDLE"].status.value == "crit"
    with store.session() as s:
        ids = ProbeRepo(s).device_ids([t for t, _k, _ip in plan])
        run = ProbeRepo(s).start_run("tester", {})
        ProbeRepo(s).add_results(run, [(by_tag[t], ids[t]) for t in by_tag])
        ProbeRepo(s).finish_run(run, RunStatus.COMPLETED, {}, None)
    report, alerted = _severities(store)
    store.dispose()
    expected = {("CAM-DRIFT", "clock_drift"): "warn", ("NVR-IDLE", "not_recording"): "crit"}
    assert report == expected  # the report used to warn about CAM-LAX and call NVR-IDLE a warning
    assert alerted == expected
    statuses = {t: r.status.value for t, r in by_tag.items() if r.status.value != "ok"}
    assert _worst(report) == statuses


async def _probe_all(
    plan: list[tuple[str, DeviceKind, str]],
    eps: list[SimEndpoint],
    thresholds: list[dict[str, dict[str, float]]],
) -> list[ProbeResult]:
    secrets = SecretStore(
        {
            "school": {
                "onvif": Credential(
                    "school",
                    "onvif",
                    {"username": DEFAULT_USER},
                    {"password": Secret(DEFAULT_PASSWORD)},
                )
            }
        },
        None,
    )
    probe = OnvifProbe()
    await probe.start(ProbeContext(secrets=secrets, timeout_s=2.0))
    try:
        out = []
        for (tag, kind, _ip), ep, th in zip(plan, eps, thresholds, strict=True):
            device = Device(tag, kind, "S1", status=DeviceStatus.DEPLOYED)
            settings = {"thresholds": th} if th else {}
            target = Target(
                ep.address, ep.port, device=device, settings=settings, credential="school"
            )
            out.append(await probe.check(target))
        return out
    finally:
        await probe.stop()
