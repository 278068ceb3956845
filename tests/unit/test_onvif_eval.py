"""Pure ONVIF evaluation: drift thresholds, inventory identity, JPEG validation, recording."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.lab.onvif_jpeg import SNAPSHOT_JPEG
from kape_itops.probes.onvif.evaluate import (
    Identity,
    MediaProfile,
    RecordingState,
    SnapshotLimits,
    choose_main_profile,
    compare_identity,
    drift_finding,
    firmware_change,
    inspect_jpeg,
    recording_finding,
    strip_userinfo,
)


@pytest.mark.parametrize(
    ("drift", "status"),
    [
        (0.0, ProbeStatus.OK),
        (5.0, ProbeStatus.OK),
        (-5.0, ProbeStatus.OK),
        (5.1, ProbeStatus.WARN),
        (-10.0, ProbeStatus.WARN),
        (300.0, ProbeStatus.WARN),
        (300.1, ProbeStatus.CRIT),
        (-3600.0, ProbeStatus.CRIT),
    ],
)
def test_drift_thresholds(drift: float, status: ProbeStatus) -> None:
    assert drift_finding(drift).status == status


def test_drift_messages() -> None:
    assert drift_finding(12.0).message == "clock drift +12.0 s (over 5 s)"
    crit = drift_finding(-3600.0).message
    assert crit.startswith("clock drift -3600.0 s (over 300 s") and "NTP" in crit
    assert drift_finding(61, warn_s=5, crit_s=60).status == ProbeStatus.CRIT


def device(**kw: Any) -> Device:
    values: dict[str, Any] = {
        "asset_tag": "CAM-1",
        "kind": DeviceKind.CAMERA,
        "school": "S1",
        "manufacturer": "Hikvision",
        "model": "DS-2CD1023G0-I",
        "serial": "ABC123",
    }
    values.update(kw)
    return Device(**values)


ALIASES = {"Hikvision": ["HIKVISION", "Hangzhou Hikvision Digital Technology"]}


def test_identity_matches() -> None:
    found = Identity("HIKVISION", "DS-2CD1023G0-I", "V5", "abc123")
    assert compare_identity(device(), found, ALIASES) == []
    assert compare_identity(None, found) == []


def test_identity_alias_and_containment() -> None:
    found = Identity("Hangzhou Hikvision Digital Technology", "DS-2CD1023G0-IU", None, "ABC123")
    assert compare_identity(device(), found, ALIASES) == []


def test_swapped_camera_is_critical() -> None:
    [finding] = compare_identity(device(), Identity("Hikvision", "DS-2CD1023G0-I", None, "ZZZ999"))
    assert finding.status == ProbeStatus.CRIT
    assert "serial mismatch: inventory 'ABC123', device 'ZZZ999'" in finding.message


def test_other_maker_and_model_are_warnings() -> None:
    findings = compare_identity(device(), Identity("Dahua", "IPC-HFW1230S", None, None), ALIASES)
    assert [f.status for f in findings] == [ProbeStatus.WARN, ProbeStatus.WARN]
    assert "manufacturer mismatch" in findings[0].message
    assert "model mismatch" in findings[1].message


def test_missing_fields_are_not_compared() -> None:
    assert compare_identity(device(serial=None, model=None), Identity(None, "X", None, "Y")) == []


def test_firmware_change() -> None:
    assert firmware_change({"firmware": "V1"}, "V2") is not None
    assert firmware_change({"firmware": "V1"}, "V1") is None
    assert firmware_change(None, "V1") is None
    assert firmware_change({}, "V1") is None


def test_main_profile_is_the_largest() -> None:
    profiles = [
        MediaProfile("sub", width=640, height=360),
        MediaProfile("main", width=1920, height=1080),
        MediaProfile("third", width=1920, height=1080),
    ]
    chosen = choose_main_profile(profiles)
    assert chosen is not None and chosen.token == "main"
    unknown = choose_main_profile([MediaProfile("a"), MediaProfile("b")])
    assert unknown is not None and unknown.token == "a"
    assert choose_main_profile([]) is None


def test_real_jpeg() -> None:
    info = inspect_jpeg(SNAPSHOT_JPEG)
    assert info.ok, info.reason
    assert (info.width, info.height, info.components, info.size) == (160, 120, 3, 1300)


def _jpeg(width: int, height: int, pad: int = 2000, eoi: bool = True, sof: bool = True) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    scan = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + app0
        + (frame if sof else b"")
        + scan
        + b"\x12" * pad
        + (b"\xff\xd9" if eoi else b"")
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "snapshot is empty"),
        (b"<html><body>login</body></html>", "snapshot is not a JPEG (it looks like text/HTML)"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "snapshot is not a JPEG (it is a PNG)"),
        (b"\x00\x01\x02\x03", "snapshot is not a JPEG (it starts with 00 01 02 03)"),
        (_jpeg(640, 480, eoi=False), "truncated JPEG: no end-of-image marker"),
        (_jpeg(640, 480, sof=False), "corrupt JPEG: no frame header (SOF)"),
        (_jpeg(32, 24), "JPEG is 32x24, below the 64x48 minimum"),
        (_jpeg(640, 480, pad=10), "likely a blank frame"),
        (b"\xff\xd8\xff\xe0\x7f\xff", "overruns the data"),
    ],
)
def test_bad_snapshots(data: bytes, reason: str) -> None:
    info = inspect_jpeg(data)
    assert not info.ok
    assert reason in info.reason


def test_snapshot_size_limit() -> None:
    info = inspect_jpeg(SNAPSHOT_JPEG, SnapshotLimits(max_bytes=1000))
    assert not info.ok and "over the 1000 limit" in info.reason


@pytest.mark.parametrize(
    ("state", "status", "text"),
    [
        (RecordingState(1, 1, 1, ("Active",)), ProbeStatus.OK, "1 of 1 job(s) active"),
        (RecordingState(0, 0, 0), ProbeStatus.CRIT, "no recordings configured"),
        (RecordingState(2, 0, 0), ProbeStatus.CRIT, "no recording job"),
        (RecordingState(1, 2, 0, ("Idle", "Idle")), ProbeStatus.CRIT, "all 2 job(s) idle"),
        (
            RecordingState(1, 2, 1, ("Active", "Error")),
            ProbeStatus.CRIT,
            "1 of 2 recording job(s) in error",
        ),
    ],
)
def test_recording(state: RecordingState, status: ProbeStatus, text: str) -> None:
    finding = recording_finding(state)
    assert finding.status == status and text in finding.message


def test_strip_userinfo() -> None:
    assert strip_userinfo("rtsp://admin:pw@10.0.0.1:554/s") == "rtsp://10.0.0.1:554/s"
    assert strip_userinfo("rtsp://10.0.0.1/s") == "rtsp://10.0.0.1/s"
