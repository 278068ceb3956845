"""The SNMP probe against snmpsim serving the project's recordings (real UDP agents)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.lab.snmp_sim import SNMPSIM_ENV, SnmpsimHandle, start_snmpsim
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.snmp.probe import SnmpProbe
from kape_itops.secrets import Credential, Secret, SecretStore
from tests.support.snmp import ensure_snmpsim, free_udp_port

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "probes" / "snmp"
COMMUNITY = "sim-community"
RECORDINGS = [
    "printer-low-toner",
    "printer-odd-values",
    "ap-clients",
    "switch-uplink-down",
    "nvr-disk-full",
    "switch-500",
    "fault-string-integer",
    "wrap-before",
    "wrap-after",
    "agent-basic",
]


@pytest.fixture(scope="module")
def sim() -> Iterator[dict[str, int]]:
    """One snmpsim process per recording, each on its own free port."""
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    ports = {name: free_udp_port() for name in RECORDINGS}
    handle: SnmpsimHandle = start_snmpsim(
        [("127.0.0.1", port, name) for name, port in ports.items()], COMMUNITY
    )
    try:
        yield ports
    finally:
        handle.stop()
        os.environ.pop(SNMPSIM_ENV, None)


SECRETS = SecretStore(
    {
        "sim": {
            "snmp": Credential("sim", "snmp", {"version": "2c"}, {"community": Secret(COMMUNITY)})
        }
    },
    None,
)


def check(
    ports: dict[str, int],
    recording: str,
    profile: str,
    previous: ProbeResult | None = None,
    device: Device | None = None,
) -> ProbeResult:
    async def run() -> ProbeResult:
        probe = SnmpProbe(PROFILES)
        await probe.start(ProbeContext(secrets=SECRETS))
        try:
            return await probe.check(
                Target(
                    "127.0.0.1",
                    ports[recording],
                    device=device,
                    settings={"profile": profile, "deadline_s": 60},
                    credential="sim",
                    previous=previous,
                )
            )
        finally:
            await probe.stop()

    return asyncio.run(run())


def test_printer_with_low_toner_and_an_alert(sim: dict[str, int]) -> None:
    result = check(sim, "printer-low-toner", "printer")
    assert result.status is ProbeStatus.CRIT
    assert result.reason == "Black Toner Cartridge HP 58A 4% (< 5%)"
    m = result.metrics
    names = [s["name"] for s in m["supplies"]]
    assert names == [
        "Black Toner Cartridge HP 58A",
        "Imaging Drum",
        "ទឹកខ្មៅ (Khmer ink)",
        "Toner réserve",  # the agent sends Latin-1 bytes
    ]
    assert m["supplies"][1]["state"] == "some remaining"
    assert m["alerts"] == [
        {"severity": "warning", "code": 1104, "description": "Black toner low: order HP 58A"}
    ]
    assert m["printer_errors"] == ["low toner"]
    assert (m["page_count"], m["serial"], m["sys_name"]) == (48213, "CNB7K12345", "KPT-PSP-PRN01")


def test_printer_special_and_impossible_values_are_unknown_with_raw_numbers(
    sim: dict[str, int],
) -> None:
    result = check(sim, "printer-odd-values", "printer")
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason == (
        "Black Toner: impossible level 150 of capacity 100 (raw values, unknown); "
        "Cyan Toner: impossible level -7 of capacity 100 (raw values, unknown)"
    )
    states = {s["name"]: (s["pct"], s["state"]) for s in result.metrics["supplies"]}
    assert states["Black Toner"] == (None, "impossible")
    assert states["Waste Toner Box"] == (None, "unknown")
    assert states["Staples"] == (None, "no restriction")
    assert states["Fuser"] == (None, "some remaining")
    assert states["[red]Magenta[/red] Toner"] == (50.0, "measured")


def test_ap_client_count_from_the_vendor_table(sim: dict[str, int]) -> None:
    result = check(sim, "ap-clients", "hotspot")
    assert result.status is ProbeStatus.OK
    assert result.metrics["clients"] == 23
    assert result.reason == "up 1d 0h; 3/3 interfaces up; 23 clients"


def test_client_count_not_exposed_is_clean(sim: dict[str, int]) -> None:
    unknown_vendor = check(sim, "nvr-disk-full", "hotspot")
    assert unknown_vendor.metrics["clients"] is None
    assert (
        "ok: client count not exposed (vendor not in the client table)"
        in (unknown_vendor.metrics["findings"])
    )
    tp_link = check(sim, "switch-uplink-down", "hotspot")  # TP-Link without the client OID
    assert tp_link.metrics["clients"] is None
    assert "ok: client count not exposed by this TP-Link device" in tp_link.metrics["findings"]


def test_switch_with_a_down_uplink_is_critical_unused_port_is_not(sim: dict[str, int]) -> None:
    result = check(sim, "switch-uplink-down", "switch")
    assert result.status is ProbeStatus.CRIT
    assert result.reason == "uplink down: gi8 (UPLINK to router) down"
    assert result.metrics["if_down"] == ["gi3", "gi8"]


def test_nvr_with_a_nearly_full_recording_disk(sim: dict[str, int]) -> None:
    result = check(sim, "nvr-disk-full", "nvr")
    assert result.status is ProbeStatus.WARN
    assert result.reason == "disk /mnt/record 90.2% used (> 85%)"
    assert result.metrics["disk_used_pct"] == 90.2
    assert result.metrics["cpu_pct"] == 35.0


def test_a_device_with_500_interfaces(sim: dict[str, int]) -> None:
    result = check(sim, "switch-500", "switch")
    assert result.status is ProbeStatus.OK
    assert result.metrics["if_count"] == 500
    assert result.metrics["if_down"] == ["Gi1/0/17", "Gi1/0/250"]
    assert len(result.metrics["if_counters"]) == 500
    assert "498/500 interfaces up, 2 enabled but down (not uplinks)" in result.reason


def test_string_where_an_integer_belongs(sim: dict[str, int]) -> None:
    result = check(sim, "fault-string-integer", "switch")
    assert result.status is ProbeStatus.UNKNOWN
    assert result.reason == (
        "sysUpTime: expected a number, got octets 'yesterday'; "
        "port1 ifOperStatus: expected a number, got octets 'up'"
    )


def _earlier(result: ProbeResult, seconds: float) -> ProbeResult:
    """The same stored result, as if it had been measured ``seconds`` earlier."""
    shift = dt.timedelta(seconds=seconds)
    sampled = dt.datetime.fromisoformat(result.metrics["sampled_at"]) - shift
    return dataclasses.replace(
        result,
        started_at=result.started_at - shift,
        metrics={**result.metrics, "sampled_at": sampled.isoformat()},
    )


def test_counter_wrap_is_not_a_reboot_and_rates_survive_the_wrap(sim: dict[str, int]) -> None:
    before = check(sim, "wrap-before", "hotspot")
    assert before.metrics["uptime_ticks"] == 2**32 - 296
    # The stored result of the previous run, taken 10 s before the next one.
    after = check(sim, "wrap-after", "hotspot", previous=_earlier(before, 10))
    assert after.metrics["rebooted"] is False
    assert after.metrics["uptime_wraps"] == 1
    assert "counter wrapped, not a reboot" in after.reason
    rates = after.metrics["if_rates"]["eth0"]
    assert rates["in_bps"] == pytest.approx(1500 * 8 / 10, rel=0.05)
    assert rates["out_bps"] == pytest.approx(2000 * 8 / 10, rel=0.05)
    assert after.metrics["clients"] == 10


def test_uptime_that_went_down_is_a_reboot(sim: dict[str, int]) -> None:
    earlier = check(sim, "ap-clients", "hotspot")  # uptime 1 day
    result = check(sim, "wrap-after", "hotspot", previous=_earlier(earlier, 60))
    assert result.metrics["rebooted"] is True
    assert result.status is ProbeStatus.WARN
    assert result.reason.startswith("rebooted since the last check (uptime 7s, was 1d 0h)")
    assert result.metrics["if_rates"] == {}


def test_inventory_serial_mismatch(sim: dict[str, int]) -> None:
    device = Device(
        "KAPE-0042", DeviceKind.PRINTER, "KPT-PSP", hostname="KPT-PSP-PRN01", serial="CNBOTHER01"
    )
    result = check(sim, "printer-low-toner", "printer", device=device)
    assert result.metrics["inventory_mismatch"] == [
        "serial 'CNB7K12345' but inventory serial 'CNBOTHER01'"
    ]
    assert result.status is ProbeStatus.CRIT  # the toner outranks the mismatch warning


def test_cli_renders_device_strings_escaped(sim: dict[str, int]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["probe", "snmp", f"127.0.0.1:{sim['printer-odd-values']}", "--profile", "printer"],
        env={"ITOPS_DATA": str(REPO), "ITOPS_SNMP_COMMUNITY": COMMUNITY, "COLUMNS": "200"},
    )
    assert result.exit_code == 3
    assert "[red]Magenta[/red] Toner" in result.output
    assert COMMUNITY not in result.output


def test_cli_shows_latin1_supply_names_as_text(sim: dict[str, int]) -> None:
    result = CliRunner().invoke(
        cli,
        ["probe", "snmp", f"127.0.0.1:{sim['printer-low-toner']}", "--profile", "printer"],
        env={"ITOPS_DATA": str(REPO), "ITOPS_SNMP_COMMUNITY": COMMUNITY, "COLUMNS": "80"},
    )
    assert result.exit_code == 2
    assert "Toner réserve" in result.output and "\\xe9" not in result.output


def test_cli_json_for_the_printer(sim: dict[str, int]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "probe",
            "snmp",
            f"127.0.0.1:{sim['printer-low-toner']}",
            "--profile",
            "printer",
            "--json",
        ],
        env={"ITOPS_DATA": str(REPO), "ITOPS_SNMP_COMMUNITY": COMMUNITY},
    )
    doc = json.loads(result.output)
    assert (result.exit_code, doc["status"]) == (2, "crit")
    assert doc["metrics"]["supplies"][0] == {
        "name": "Black Toner Cartridge HP 58A",
        "level": 4,
        "max": 100,
        "pct": 4.0,
        "state": "measured",
    }
    assert "if_counters" not in doc["metrics"]


def test_lab_component_serves_kind_recordings_on_loopback(tmp_path: Path) -> None:
    from kape_itops.lab.lab import LabContext, LabDevice
    from kape_itops.lab.snmp_sim import LAB_PORT, lab_component

    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    devices = [
        LabDevice("AP-9", "S250", "hotspot", "10.30.250.4"),
        LabDevice("LAP-9", "S250", "laptop", "10.30.250.101"),
        LabDevice("NVR-9", "S250", "nvr", "10.30.250.30", status="in_stock"),
    ]
    ctx = LabContext(mode="loopback", netns=None, workdir=str(tmp_path))
    handles = lab_component(devices, ctx)
    try:
        assert [h.ports for h in handles] == [{"10.30.250.4": {"snmp": LAB_PORT}}]
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

        async def run() -> ProbeResult:
            probe = SnmpProbe(PROFILES)
            await probe.start(ProbeContext(secrets=secrets))
            try:
                return await probe.check(
                    Target(
                        "127.30.250.4", LAB_PORT, settings={"profile": "hotspot"}, credential="lab"
                    )
                )
            finally:
                await probe.stop()

        result = asyncio.run(run())
        assert result.status is ProbeStatus.OK, result.reason
        assert result.metrics["clients"] == 23
    finally:
        for h in handles:
            h.stop()
        os.environ.pop(SNMPSIM_ENV, None)


def test_lab_serves_the_sample_nvrs_their_recording_disk(tmp_path: Path) -> None:
    import yaml

    from kape_itops.lab.lab import LabContext, devices_from_csv
    from kape_itops.lab.snmp_sim import LAB_PORT, lab_component

    sample = devices_from_csv(REPO / "inventory" / "devices.csv")
    nvrs = [d for d in sample if d.kind == "nvr" and d.status == "deployed"][:2]
    assert len(nvrs) == 2
    kind = yaml.safe_load((REPO / "probes" / "kinds" / "nvr.yaml").read_text())
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    handles = lab_component(nvrs, LabContext(mode="loopback", netns=None, workdir=str(tmp_path)))
    try:
        assert [h.ports for h in handles] == [{d.ip: {"snmp": LAB_PORT} for d in nvrs}]
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

        async def run() -> list[ProbeResult]:
            probe = SnmpProbe(PROFILES)
            await probe.start(ProbeContext(secrets=secrets))
            try:
                return [
                    await probe.check(
                        Target(
                            "127." + d.ip.split(".", 1)[1],
                            LAB_PORT,
                            settings=kind["snmp"],
                            credential="lab",
                        )
                    )
                    for d in nvrs
                ]
            finally:
                await probe.stop()

        for result in asyncio.run(run()):
            assert result.status is ProbeStatus.WARN, result.reason
            assert result.reason == "disk /mnt/record 90.2% used (> 85%)"
            assert result.metrics["disk_used_pct"] == 90.2
    finally:
        for h in handles:
            h.stop()
        os.environ.pop(SNMPSIM_ENV, None)


def test_a_failed_check_carries_the_baseline_so_a_reboot_across_the_gap_is_seen(
    sim: dict[str, int],
) -> None:
    good = _earlier(check(sim, "ap-clients", "hotspot"), 60)
    silent_port = free_udp_port()  # nothing listens: the device is unreachable for a while

    async def unreachable() -> ProbeResult:
        probe = SnmpProbe(PROFILES)
        await probe.start(ProbeContext(secrets=SECRETS))
        try:
            return await probe.check(
                Target(
                    "127.0.0.1",
                    silent_port,
                    settings={"profile": "hotspot", "timeout_s": 0.2, "retries": 0},
                    credential="sim",
                    previous=good,
                )
            )
        finally:
            await probe.stop()

    failed = asyncio.run(unreachable())
    assert failed.status is ProbeStatus.UNKNOWN
    assert failed.metrics["uptime_ticks"] == good.metrics["uptime_ticks"]
    assert failed.metrics["sampled_at"] == good.metrics["sampled_at"]
    back = check(sim, "wrap-after", "hotspot", previous=failed)  # uptime 7 s: it rebooted
    assert back.metrics["rebooted"] is True
