"""The layered ONVIF probe against the real simulator (HTTP SOAP + RTSP) on 127.0.0.1.

Every simulator fault gets a test checking the layer reported and the reason given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.onvif_jpeg import SNAPSHOT_JPEG
from kape_itops.lab.onvif_sim import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    OnvifSimHandle,
    SimEndpoint,
    SimFaults,
    start_onvif_sim,
)
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.onvif.client import OnvifClient
from kape_itops.probes.onvif.errors import OnvifCallError
from kape_itops.probes.onvif.probe import OnvifProbe
from kape_itops.secrets import Credential, Secret, SecretStore

SECRETS = SecretStore(
    {
        "cams": {
            "onvif": Credential(
                "cams", "onvif", {"username": DEFAULT_USER}, {"password": Secret(DEFAULT_PASSWORD)}
            )
        },
        "stale": {
            "onvif": Credential(
                "stale", "onvif", {"username": DEFAULT_USER}, {"password": Secret("old-password")}
            )
        },
    },
    None,
)


@pytest.fixture
def sim() -> Iterator[list[OnvifSimHandle]]:
    """Start simulators on demand; every one is stopped after the test."""
    handles: list[OnvifSimHandle] = []
    yield handles
    for h in handles:
        h.stop()


def start(handles: list[OnvifSimHandle], faults: SimFaults | None = None, **kw: Any) -> SimEndpoint:
    h = start_onvif_sim([SimEndpoint(faults=faults or SimFaults(), **kw)])
    handles.append(h)
    return h.endpoints[0]


def check(
    ep: SimEndpoint,
    *,
    device: Device | None = None,
    credential: str | None = "cams",
    settings: dict[str, Any] | None = None,
    timeout_s: float = 1.0,
    previous: ProbeResult | None = None,
) -> ProbeResult:
    async def run() -> ProbeResult:
        probe = OnvifProbe()
        await probe.start(ProbeContext(secrets=SECRETS, timeout_s=timeout_s))
        try:
            return await probe.check(
                Target(
                    ep.address,
                    ep.port,
                    device=device,
                    settings=settings or {},
                    credential=credential,
                    previous=previous,
                )
            )
        finally:
            await probe.stop()

    return asyncio.run(run())


def camera(**kw: Any) -> Device:
    values: dict[str, Any] = {
        "asset_tag": "KPT-PSP-CAM-01",
        "kind": DeviceKind.CAMERA,
        "school": "KPT-PSP",
        "manufacturer": "Hikvision",
        "model": "DS-2CD1023G0-I",
        "serial": "DS-2CD1023G0-I20230101AAWRJ00001",
    }
    values.update(kw)
    return Device(**values)


def failed_at(result: ProbeResult, layer: int) -> None:
    assert result.metrics["failed_layer"] == layer, result.reason
    assert result.metrics["layer"] == layer - 1
    assert result.reason.startswith(f"layer {layer} (")


def test_healthy_camera_passes_all_five_layers(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    r = check(ep, device=camera())
    assert r.status == ProbeStatus.OK, r.reason
    m = r.metrics
    assert m["layer"] == 5 and "failed_layer" not in m
    assert abs(m["clock_drift_s"]) <= 1.5 and m["clock_source"] == "soap"
    assert (m["manufacturer"], m["model"], m["serial"]) == (
        "Hikvision",
        "DS-2CD1023G0-I",
        "DS-2CD1023G0-I20230101AAWRJ00001",
    )
    assert m["firmware"] == "V5.7.3 build 220112"
    assert m["main_profile"] == "main" and m["resolution"] == "1920x1080"
    assert m["stream_uri"] == f"rtsp://127.0.0.1:{ep.rtsp_port}/Streaming/Channels/101"
    assert m["snapshot_size"] == "160x120" and m["snapshot_bytes"] == len(SNAPSHOT_JPEG)
    assert m["snapshot_auth"] == "digest" and m["rtsp_status"] == 200
    assert "snapshot_path" not in m
    assert set(m["layer_ms"]) == {"1", "2", "3", "4", "5"}
    assert r.reason.startswith("layers 1-5 passed")


def test_nvr_recording_layer(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, kind="nvr", model="DS-7608NI-K2")
    r = check(ep, device=camera(kind=DeviceKind.NVR, model="DS-7608NI-K2"))
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["layer"] == 6 and r.metrics["recording"] is True
    assert r.metrics["recordings"] == 1 and r.metrics["recording_jobs"] == 1


def test_nvr_not_recording_fails_layer_6(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(recording_stopped=True), kind="nvr")
    r = check(ep, settings={"recording": True})
    assert r.status == ProbeStatus.CRIT
    failed_at(r, 6)
    assert "not recording" in r.reason and r.metrics["recording"] is False


def test_camera_without_recording_service_when_forced(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    r = check(ep, settings={"recording": True})
    assert r.status == ProbeStatus.WARN
    failed_at(r, 6)
    assert "no ONVIF Recording service" in r.reason


def test_clock_offset_10s_is_a_warning_not_a_login_failure(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(clock_offset_s=10))
    r = check(ep)
    assert r.status == ProbeStatus.WARN, r.reason
    assert r.metrics["layer"] == 5
    assert 8.5 <= r.metrics["clock_drift_s"] <= 11.5
    assert "clock drift +" in r.reason and "over 5 s" in r.reason


def test_clock_offset_1h_is_critical_but_logins_still_work(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(clock_offset_s=3600))
    r = check(ep)
    assert r.status == ProbeStatus.CRIT
    assert r.metrics["layer"] == 5, r.reason
    assert 3598 <= r.metrics["clock_drift_s"] <= 3602
    assert "over 300 s" in r.reason and "credentials" not in r.reason


def test_simulator_really_rejects_unsigned_skewed_tokens(sim: list[OnvifSimHandle]) -> None:
    """Without signing on the camera's clock, the 1 h camera refuses the same password."""
    ep = start(sim, SimFaults(clock_offset_s=3600))

    async def run() -> str:
        client = OnvifClient(ep.address, ep.port, DEFAULT_USER, DEFAULT_PASSWORD, 1.0)
        try:
            await client.device_information()
        except OnvifCallError as exc:
            return exc.kind
        finally:
            await client.close()
        return "accepted"

    assert asyncio.run(run()) == "auth"


def test_wrong_password_fails_layer_3(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(reject_auth=True))
    r = check(ep)
    assert r.status == ProbeStatus.UNKNOWN
    failed_at(r, 3)
    assert "credentials rejected" in r.reason and "not clock drift" in r.reason


def test_stale_credential_entry_fails_layer_3(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    r = check(ep, credential="stale")
    failed_at(r, 3)
    assert "credentials rejected" in r.reason


def test_missing_credential_is_unknown_at_layer_3(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    r = check(ep, credential=None)
    assert r.status == ProbeStatus.UNKNOWN
    failed_at(r, 3)
    assert "no ONVIF credential configured" in r.reason
    r = check(ep, credential="nope")
    assert "credential 'nope' is not defined" in r.reason


def test_slow_device_times_out_at_layer_2(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(slow_s=3))
    r = check(ep, timeout_s=0.5)
    assert r.status == ProbeStatus.CRIT
    failed_at(r, 2)
    assert "GetSystemDateAndTime: no answer within 0.5 s" in r.reason


def test_slow_profiles_time_out_at_layer_4(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(slow_s=3, slow_ops=frozenset({"GetProfiles"})))
    r = check(ep, timeout_s=0.5)
    failed_at(r, 4)
    assert "GetProfiles: no answer within 0.5 s" in r.reason


def test_invalid_xml_fails_the_layer_of_the_call(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(invalid_xml_ops=frozenset({"GetDeviceInformation"})))
    r = check(ep)
    assert r.status == ProbeStatus.CRIT
    failed_at(r, 3)
    assert "GetDeviceInformation: the device sent invalid XML" in r.reason
    ep = start(sim, SimFaults(invalid_xml_ops=frozenset({"GetSystemDateAndTime"})))
    r = check(ep)
    failed_at(r, 2)
    assert "GetSystemDateAndTime: the device sent invalid XML" in r.reason


def test_invalid_utf8_device_strings_are_repaired_and_flagged(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(invalid_utf8=True))
    r = check(ep, device=camera())
    assert r.status == ProbeStatus.WARN, r.reason
    assert r.metrics["layer"] == 5 and r.metrics["invalid_utf8"] is True
    assert "\ufffd" in r.metrics["manufacturer"] and r.metrics["manufacturer"].startswith("Hik")
    assert "not valid UTF-8" in r.reason


def test_missing_snapshot_fails_layer_5(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(snapshot_missing=True))
    r = check(ep)
    assert r.status == ProbeStatus.CRIT
    failed_at(r, 5)
    assert "snapshot URL answered HTTP 404" in r.reason
    assert r.metrics["rtsp_status"] == 200


def test_snapshot_that_is_not_a_jpeg_fails_layer_5(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(snapshot_not_jpeg=True))
    r = check(ep)
    failed_at(r, 5)
    assert "snapshot is not a JPEG (it looks like text/HTML)" in r.reason


def closed_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_stream_is_checked_at_the_port_the_stream_uri_names(sim: list[OnvifSimHandle]) -> None:
    """No rtsp_port configured: nothing assumes 554, the camera's own URI names the port."""
    ep = start(sim)
    assert ep.rtsp_port not in (None, 554)
    r = check(ep)
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["rtsp_port"] == ep.rtsp_port and r.metrics["rtsp_status"] == 200
    assert r.reason.startswith("layers 1-5 passed") and "RTSP answers" in r.reason


def test_stopped_stream_fails_layer_5_and_keeps_what_was_learned(
    sim: list[OnvifSimHandle],
) -> None:
    """ONVIF answers, the RTSP server is down: maker, drift, profiles and snapshot stay."""
    ep = start(sim, SimFaults(rtsp_closed=True, clock_offset_s=10))
    r = check(ep, device=camera())
    assert r.status == ProbeStatus.CRIT
    failed_at(r, 5)
    m = r.metrics
    assert f"RTSP 127.0.0.1:{ep.rtsp_port} refused" in r.reason and m["rtsp_port"] == ep.rtsp_port
    assert (m["manufacturer"], m["model"], m["serial"], m["firmware"]) == (
        "Hikvision",
        "DS-2CD1023G0-I",
        "DS-2CD1023G0-I20230101AAWRJ00001",
        "V5.7.3 build 220112",
    )
    assert 8.5 <= m["clock_drift_s"] <= 11.5 and m["profiles"] == 2
    assert m["main_profile"] == "main" and m["snapshot_size"] == "160x120"
    assert "learned: Hikvision DS-2CD1023G0-I fw V5.7.3 build 220112" in r.reason
    assert "clock drift +" in r.reason


def test_stream_stopped_while_the_camera_runs(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    assert check(ep).status == ProbeStatus.OK
    sim[-1].stop_rtsp()
    r = check(ep)
    failed_at(r, 5)
    assert f"RTSP 127.0.0.1:{ep.rtsp_port} refused" in r.reason
    assert r.metrics["model"] == "DS-2CD1023G0-I" and r.metrics["snapshot_bytes"] > 0


def test_configured_rtsp_port_overrides_the_uri_port(sim: list[OnvifSimHandle]) -> None:
    """A port-forward the camera does not know: its URI names a port that is closed here."""
    named = closed_port()
    ep = start(sim, stream_uri_port=named)
    r = check(ep)
    failed_at(r, 5)
    assert f"RTSP 127.0.0.1:{named} refused" in r.reason and r.metrics["rtsp_port"] == named
    assert r.metrics["stream_uri"] == f"rtsp://127.0.0.1:{named}/Streaming/Channels/101"
    r = check(ep, settings={"rtsp_port": ep.rtsp_port})
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["rtsp_port"] == ep.rtsp_port


def test_stream_uri_without_a_port_means_554(sim: list[OnvifSimHandle]) -> None:
    """A camera with no RTSP server names no port: the check goes to 554 (RTSP's own default)."""
    ep = start(sim, rtsp_port=None)
    r = check(ep, settings={"snapshot": {"enabled": False}})
    failed_at(r, 5)
    assert r.metrics["stream_uri"] == "rtsp://127.0.0.1/Streaming/Channels/101"
    assert r.metrics["rtsp_port"] == 554 and "RTSP 127.0.0.1:554" in r.reason


def test_closed_onvif_port_fails_layer_1(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    sim[-1].stop()
    r = check(ep)
    failed_at(r, 1)
    assert f"TCP 127.0.0.1:{ep.port} (onvif) refused" in r.reason


def test_time_behind_credentials_uses_the_authenticated_call(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(auth_for_time=True))
    r = check(ep)
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["clock_source"] == "soap-auth"


def test_time_behind_credentials_and_skewed_falls_back_to_http_date(
    sim: list[OnvifSimHandle],
) -> None:
    ep = start(sim, SimFaults(auth_for_time=True, clock_offset_s=3600))
    r = check(ep)
    assert r.metrics["clock_source"] == "http-date"
    assert r.metrics["layer"] == 5, r.reason
    assert 3597 <= r.metrics["clock_drift_s"] <= 3603
    assert r.status == ProbeStatus.CRIT


def test_device_without_getservices_uses_getcapabilities(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(no_get_services=True), kind="nvr")
    r = check(ep, settings={"recording": True})
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["services_via"] == "GetCapabilities" and r.metrics["layer"] == 6


def test_basic_auth_snapshot(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, SimFaults(snapshot_auth="basic"))
    r = check(ep)
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["snapshot_auth"] == "basic"


def test_swapped_camera_is_flagged(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, serial="OTHER-UNIT-0002", manufacturer="HIKVISION")
    r = check(ep, device=camera())
    assert r.status == ProbeStatus.CRIT
    assert r.metrics["layer"] == 5
    assert "serial mismatch" in r.reason and "OTHER-UNIT-0002" in r.reason
    assert "manufacturer mismatch" not in r.reason


def test_model_mismatch_is_a_warning(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, model="DS-2CD2143G2-I")
    r = check(ep, device=camera(serial=None))
    assert r.status == ProbeStatus.WARN
    assert "model mismatch" in r.reason


def test_firmware_change_is_noted(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim)
    before = ProbeResult(
        "onvif", "x", ProbeStatus.OK, "", dt.datetime.now(dt.UTC), 1.0, {"firmware": "V5.6.0"}
    )
    r = check(ep, previous=before)
    assert r.status == ProbeStatus.OK
    assert "firmware changed from 'V5.6.0' to 'V5.7.3 build 220112'" in r.reason


def test_snapshot_saved_only_when_asked(sim: list[OnvifSimHandle], tmp_path: Path) -> None:
    ep = start(sim)
    folder = tmp_path / "snaps"
    r = check(ep, device=camera(), settings={"save_snapshot_dir": str(folder)})
    path = Path(r.metrics["snapshot_path"])
    assert path.parent == folder and path.name.startswith("KPT-PSP-CAM-01-")
    assert path.read_bytes() == SNAPSHOT_JPEG
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_lab_ports_do_not_replace_the_uri_port(sim: list[OnvifSimHandle]) -> None:
    """The lab map's 'rtsp' entry is not a configured rtsp_port: the camera's URI wins."""
    ep = start(sim)

    async def run() -> ProbeResult:
        probe = OnvifProbe()
        await probe.start(ProbeContext(secrets=SECRETS, timeout_s=1.0))
        try:
            settings = {
                "lab_ports": {"onvif": ep.port, "rtsp": closed_port()},
                "check_timeout_s": 30,
                "thresholds": {"clock_drift_s": {"warn": 5, "crit": 60}},
            }
            return await probe.check(
                Target(ep.address, ep.port, settings=settings, credential="cams")
            )
        finally:
            await probe.stop()

    r = asyncio.run(run())
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["rtsp_port"] == ep.rtsp_port


def test_ipv6_loopback_camera(sim: list[OnvifSimHandle]) -> None:
    ep = start(sim, address="::1")
    r = check(ep)
    assert r.status == ProbeStatus.OK, r.reason
    assert r.metrics["stream_uri"] == f"rtsp://[::1]:{ep.rtsp_port}/Streaming/Channels/101"
    assert r.metrics["rtsp_port"] == ep.rtsp_port
