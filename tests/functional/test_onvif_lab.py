"""The lab plug-in: simulated cameras/NVRs on the loopback images of inventory addresses."""

from __future__ import annotations

import asyncio

from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.lab import LabContext, LabDevice
from kape_itops.lab.onvif_sim import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    SimFaults,
    lab_component,
    lab_faults,
)
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.onvif.probe import OnvifProbe
from kape_itops.secrets import Credential, Secret, SecretStore

SECRETS = SecretStore(
    {
        "cameras": {
            "onvif": Credential(
                "cameras",
                "onvif",
                {"username": DEFAULT_USER},
                {"password": Secret(DEFAULT_PASSWORD)},
            )
        }
    },
    None,
)


def lab_check(address: str, ports: dict[str, int], device: Device | None = None) -> ProbeResult:
    """One probe as ``probe run --lab`` makes it: the ONVIF port and the lab map's ports."""

    async def run() -> ProbeResult:
        probe = OnvifProbe()
        await probe.start(ProbeContext(secrets=SECRETS, timeout_s=2.0))
        try:
            return await probe.check(
                Target(
                    address,
                    ports["onvif"],
                    device=device,
                    settings={"lab_ports": ports},
                    credential="cameras",
                )
            )
        finally:
            await probe.stop()

    return asyncio.run(run())


def test_lab_component_serves_deployed_cameras_and_nvrs() -> None:
    devices = [
        LabDevice(
            "KPT-PSP-007",
            "KPT-PSP",
            "nvr",
            "10.30.1.30",
            manufacturer="Hikvision",
            model="DS-7608NI-K2",
        ),
        LabDevice(
            "KPT-PSP-010",
            "KPT-PSP",
            "camera",
            "10.30.1.33",
            manufacturer="Hikvision",
            model="DS-2CD1143G2-I",
        ),
        LabDevice("KPT-PSP-011", "KPT-PSP", "camera", "10.30.1.34", status="retired"),
        LabDevice("KPT-PSP-001", "KPT-PSP", "router", "10.30.1.1"),
    ]
    [handle] = lab_component(devices, LabContext("loopback", None, "/tmp"))
    try:
        assert set(handle.ports) == {"10.30.1.30", "10.30.1.33"}
        ports = handle.ports["10.30.1.33"]
        inventory = Device(
            "KPT-PSP-010",
            DeviceKind.CAMERA,
            "KPT-PSP",
            manufacturer="Hikvision",
            model="DS-2CD1143G2-I",
            serial="DS-2CD1143G2-I2024000079648",
        )
        result = lab_check("127.30.1.33", ports, inventory)
        expected = lab_faults("KPT-PSP-010", "camera")
        assert result.metrics["layer"] >= 4, result.reason
        assert result.metrics["model"] == "DS-2CD1143G2-I"
        assert "serial mismatch" not in result.reason
        if expected == SimFaults():
            assert result.status == ProbeStatus.OK, result.reason
    finally:
        handle.stop()
    assert lab_component([devices[3]], LabContext("loopback", None, "/tmp")) == []


def test_lab_faults_are_deterministic_and_mixed() -> None:
    tags = [f"KPT-PSP-{i:03d}" for i in range(200)]
    faults = [lab_faults(t, "camera") for t in tags]
    assert faults == [lab_faults(t, "camera") for t in tags]
    healthy = sum(1 for f in faults if f == SimFaults())
    assert 0.6 * len(tags) < healthy < len(tags)
    assert any(f.clock_offset_s == 3600 for f in faults)
    assert any(lab_faults(t, "nvr").recording_stopped for t in tags)


def test_lab_camera_stream_on_its_own_port_running_then_stopped() -> None:
    """The lab camera's RTSP server is on a free port, not 554: checked there, then stopped."""
    tag = next(
        t
        for t in (f"KPT-PSP-{i:03d}" for i in range(100))
        if lab_faults(t, "camera") == SimFaults()
    )
    device = LabDevice(tag, "KPT-PSP", "camera", "10.30.1.40", model="DS-2CD1043G0-I")
    [handle] = lab_component([device], LabContext("loopback", None, "/tmp"))
    try:
        ports = handle.ports["10.30.1.40"]
        assert ports["rtsp"] not in (0, 554)
        running = lab_check("127.30.1.40", ports)
        assert running.status == ProbeStatus.OK, running.reason
        assert running.metrics["rtsp_port"] == ports["rtsp"]
        handle.stop_rtsp("10.30.1.40")
        stopped = lab_check("127.30.1.40", ports)
    finally:
        handle.stop()
    assert stopped.status == ProbeStatus.CRIT
    assert stopped.metrics["failed_layer"] == 5 and stopped.metrics["layer"] == 4
    assert f"RTSP 127.30.1.40:{ports['rtsp']} refused" in stopped.reason
    m = stopped.metrics
    assert (m["manufacturer"], m["model"], m["profiles"]) == ("Hikvision", "DS-2CD1043G0-I", 2)
    assert "clock_drift_s" in m and m["snapshot_size"] == "160x120"
    assert "learned: Hikvision DS-2CD1043G0-I" in stopped.reason
