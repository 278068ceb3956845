"""``itops probe onvif`` against the real simulator on 127.0.0.1: output, exit codes, secrets."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind
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


@pytest.fixture
def sim() -> Iterator[list[OnvifSimHandle]]:
    handles: list[OnvifSimHandle] = []
    yield handles
    for h in handles:
        h.stop()


def start(handles: list[OnvifSimHandle], faults: SimFaults | None = None, **kw: Any) -> SimEndpoint:
    h = start_onvif_sim([SimEndpoint(faults=faults or SimFaults(), **kw)])
    handles.append(h)
    return h.endpoints[0]


def invoke(args: list[str], password: str | None = DEFAULT_PASSWORD, **kw: Any) -> Any:
    return CliRunner().invoke(cli, args, env={"ITOPS_ONVIF_PASSWORD": password}, **kw)


def target(ep: SimEndpoint) -> list[str]:
    return [f"{ep.address}:{ep.port}", "--timeout", "2"]


def test_probe_onvif_is_registered() -> None:
    r = CliRunner().invoke(cli, ["probe", "--help"])
    assert r.exit_code == 0 and "onvif" in r.output


def test_stopped_stream_still_shows_what_the_camera_told(sim: list[OnvifSimHandle]) -> None:
    """RTSP down on a non-554 port: exit 2 at layer 5, the maker, model and drift still shown."""
    ep = start(sim, SimFaults(rtsp_closed=True))
    r = invoke(["probe", "onvif", *target(ep)])
    assert r.exit_code == 2, r.output
    assert "FAILED" in r.output and "DS-2CD1023G0-I" in r.output and "clock_drift_s" in r.output
    doc = json.loads(invoke(["probe", "onvif", *target(ep), "--json"]).output)
    assert f"RTSP 127.0.0.1:{ep.rtsp_port} refused" in doc["reason"]
    assert doc["metrics"]["failed_layer"] == 5 and doc["metrics"]["serial"]
    r = invoke(["probe", "onvif", *target(ep), "--rtsp-port", "0"])
    assert r.exit_code == 0, r.output


def test_healthy_camera_exit_0(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    r = invoke(["probe", "onvif", *target(ep)])
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and "layers 1-5 passed" in r.output
    assert DEFAULT_PASSWORD not in r.output


def test_json_output(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(clock_offset_s=3600))
    r = invoke(["probe", "onvif", *target(ep), "--json"])
    assert r.exit_code == 2, r.output
    doc = json.loads(r.output)
    assert doc["status"] == "crit" and doc["metrics"]["layer"] == 5
    assert doc["metrics"]["clock_drift_s"] > 3500
    assert DEFAULT_PASSWORD not in r.output


def test_wrong_password_exit_3(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    r = invoke(["probe", "onvif", *target(ep)], password="not-it")
    assert r.exit_code == 3
    assert "layer 3 (device information) failed" in r.output
    assert "not-it" not in r.output


def test_device_strings_are_escaped(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, manufacturer="[bold red]Evil[/bold red]", model="[link=http://x]m[/link]")
    r = invoke(["probe", "onvif", *target(ep)])
    assert r.exit_code == 0, r.output
    assert "[bold red]Evil[/bold red]" in r.output
    assert "[link=http://x]m[/link]" in r.output


def test_credential_from_secrets_file(sim: list[OnvifSimHandle], tmp_path: Path) -> None:
    ep = start(sim)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cams.onvif]\nusername = "admin"\npassword = "{DEFAULT_PASSWORD}"\n')
    secrets.chmod(0o600)
    r = invoke(
        ["--secrets", str(secrets), "probe", "onvif", *target(ep), "--credential", "cams"],
        password=None,
    )
    assert r.exit_code == 0, r.output
    r = invoke(
        ["--secrets", str(secrets), "probe", "onvif", *target(ep), "--credential", "nope"],
        password=None,
    )
    assert r.exit_code == 3
    assert "credential 'nope' is not defined" in r.output


def test_no_password_without_terminal_is_a_usage_error() -> None:
    r = invoke(["probe", "onvif", "127.0.0.1:1"], password=None)
    assert r.exit_code == 3
    assert "no ONVIF password: set ITOPS_ONVIF_PASSWORD" in r.output


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("127.0.0.1:99999", "port must be 1-65535"),
        ("127.0.0.1:http", "port must be 1-65535"),
        ("[::1", "expected [IPv6]:PORT"),
        ("fe80::zz::1", "not an IPv6 address"),
        (":80", "no host"),
    ],
)
def test_bad_target(value: str, message: str) -> None:
    r = invoke(["probe", "onvif", value])
    assert r.exit_code == 3
    assert message in r.output


def test_unknown_option_exit_3() -> None:
    r = invoke(["probe", "onvif", "127.0.0.1", "--bogus"])
    assert r.exit_code == 3


def test_save_snapshot(sim: list[OnvifSimHandle], tmp_path: Path) -> None:
    ep = start(sim)
    folder = tmp_path / "keep"
    r = invoke(["probe", "onvif", *target(ep), "--save-snapshot", str(folder), "--json"])
    assert r.exit_code == 0, r.output
    saved = list(folder.glob("*.jpg"))
    assert len(saved) == 1 and saved[0].read_bytes()[:3] == b"\xff\xd8\xff"
    assert json.loads(r.output)["metrics"]["snapshot_path"] == str(saved[0])


def test_missing_snapshot_exit_2(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(snapshot_missing=True))
    r = invoke(["probe", "onvif", *target(ep)])
    assert r.exit_code == 2
    assert "HTTP 404" in r.output and "FAILED" in r.output


def test_nvr_flag_checks_recording(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(recording_stopped=True), kind="nvr")
    r = invoke(["probe", "onvif", *target(ep), "--nvr", "--json"])
    assert r.exit_code == 2
    doc = json.loads(r.output)
    assert doc["metrics"]["failed_layer"] == 6 and "not recording" in doc["reason"]


def test_asset_tag_target_uses_inventory_ip_credential_and_identity(
    sim: list[OnvifSimHandle], tmp_path: Path
) -> None:
    ep = start(sim, serial="SWAPPED-UNIT")
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("S1", {"name": "School One"})], ctx)
        values = {
            "school": "S1",
            "kind": DeviceKind.CAMERA,
            "ip": "127.0.0.1",
            "credential": "cams",
        }
        repo.apply_devices(
            [
                DeviceUpsert("CAM-1", {**values, "serial": "ORIGINAL-UNIT"}),
                DeviceUpsert("CAM-NOIP", {**values, "ip": None}),
            ],
            ctx,
        )
    store.dispose()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cams.onvif]\nusername = "admin"\npassword = "{DEFAULT_PASSWORD}"\n')
    secrets.chmod(0o600)
    base = ["--db", url, "--secrets", str(secrets), "probe", "onvif"]
    r = invoke([*base, f"CAM-1:{ep.port}", "--json"], password=None)
    assert r.exit_code == 2, r.output
    doc = json.loads(r.output)
    assert doc["target"] == "CAM-1" and "serial mismatch" in doc["reason"]
    r = invoke([*base, "CAM-NOIP"], password=None)
    assert r.exit_code == 3 and "CAM-NOIP has no IP address" in r.output
