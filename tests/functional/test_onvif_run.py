"""``itops probe run --only onvif`` through the probe engine, with the lab address map pointing
inventory addresses at simulators on 127.0.0.1 (nothing is sent to the 10.30.x addresses)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.lab.onvif_sim import (
    DEFAULT_PASSWORD,
    OnvifSimHandle,
    SimEndpoint,
    SimFaults,
    start_onvif_sim,
)
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fleet() -> Iterator[OnvifSimHandle]:
    handle = start_onvif_sim(
        [
            SimEndpoint(serial="SER-1"),
            SimEndpoint(serial="SER-2", faults=SimFaults(snapshot_missing=True)),
            SimEndpoint(serial="SER-NVR", kind="nvr", faults=SimFaults(recording_stopped=True)),
            SimEndpoint(serial="SOMETHING-ELSE"),
            SimEndpoint(serial="SER-4", faults=SimFaults(rtsp_closed=True, clock_offset_s=20)),
        ]
    )
    yield handle
    handle.stop()


def test_probe_run_only_onvif_in_the_lab(fleet: OnvifSimHandle, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    plan = [
        ("CAM-1", DeviceKind.CAMERA, "10.30.1.31", "SER-1"),
        ("CAM-2", DeviceKind.CAMERA, "10.30.1.32", "SER-2"),
        ("NVR-1", DeviceKind.NVR, "10.30.1.30", "SER-NVR"),
        ("CAM-3", DeviceKind.CAMERA, "10.30.1.33", "SER-3"),
        ("CAM-4", DeviceKind.CAMERA, "10.30.1.34", "SER-4"),
    ]
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
                        "manufacturer": "Hikvision",
                        "serial": serial,
                        "credential": "cams",
                    },
                )
                for tag, kind, ip, serial in plan
            ],
            ctx,
        )
    store.dispose()
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "version": 1,
                "address_map": {
                    ip: {"address": ep.address, "ports": {"onvif": ep.port, "rtsp": ep.rtsp_port}}
                    for (_tag, _kind, ip, _serial), ep in zip(plan, fleet.endpoints, strict=True)
                },
            }
        )
    )
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cams.onvif]\nusername = "admin"\npassword = "{DEFAULT_PASSWORD}"\n')
    secrets.chmod(0o600)
    args = ["--db", url, "--secrets", str(secrets), "probe", "run", "--only", "onvif", "--json"]
    r = CliRunner().invoke(
        cli, [*args, "--profiles", str(REPO / "probes")], env={"ITOPS_LAB_STATE": str(state)}
    )
    assert r.exit_code == 2, r.output
    doc = json.loads(r.output)
    by_tag = {x["asset_tag"]: x for x in doc["results"] if x["probe"] == "onvif"}
    assert set(by_tag) == {"CAM-1", "CAM-2", "NVR-1", "CAM-3", "CAM-4"}
    assert by_tag["CAM-1"]["status"] == "ok", by_tag["CAM-1"]["reason"]
    assert by_tag["CAM-1"]["metrics"]["layer"] == 5
    assert by_tag["CAM-2"]["metrics"]["failed_layer"] == 5
    assert "HTTP 404" in by_tag["CAM-2"]["reason"]
    assert by_tag["NVR-1"]["metrics"]["failed_layer"] == 6
    assert "not recording" in by_tag["NVR-1"]["reason"]
    assert by_tag["CAM-3"]["status"] == "crit" and "serial mismatch" in by_tag["CAM-3"]["reason"]
    assert DEFAULT_PASSWORD not in r.output
    # CAM-4: ONVIF answers, its RTSP server is down. The stream layer fails; the clock drift and
    # the identity read before stay in the result, and the drift reaches the health report.
    cam4 = by_tag["CAM-4"]
    assert cam4["metrics"]["failed_layer"] == 5 and "RTSP" in cam4["reason"], cam4["reason"]
    assert cam4["metrics"]["serial"] == "SER-4" and cam4["metrics"]["profiles"] == 2
    report = CliRunner().invoke(cli, ["--db", url, "report", "health", "--since", "1h", "--json"])
    assert report.exit_code == 0, report.output
    health = json.loads(report.stdout)
    devices = {d["asset_tag"]: d for s in health["schools"] for d in s["devices"]}
    assert 18 <= devices["CAM-4"]["clock_drift_s"] <= 22
    assert any(p["asset_tag"] == "CAM-4" and p["kind"] == "clock_drift" for p in health["problems"])
