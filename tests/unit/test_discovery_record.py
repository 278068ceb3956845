"""Sweeps turned into stored records, and stored sweeps turned into report problems (pure)."""

from __future__ import annotations

import datetime as dt

from kape_itops.discovery.diff import DiscoveryReport, Observation, diff_inventory, reconcile
from kape_itops.discovery.record import onvif_records, sweep_record
from kape_itops.discovery.wsd_messages import Discovered
from kape_itops.domain.discovery import HostState, StoredSweep, SweepHost, SweepRecord, scope_of
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Device, School
from kape_itops.domain.problems import ProblemKind, Severity
from kape_itops.reports.problems import discovery_problems

NET = "10.30.1.0/24"
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
HIK = "44:19:b6:00:00:01"
UBNT = "24:a4:3c:00:00:13"


def dev(
    tag: str,
    ip: str | None,
    mac: str | None = None,
    kind: DeviceKind = DeviceKind.CAMERA,
    status: DeviceStatus = DeviceStatus.DEPLOYED,
    school: str = "KPT-PSP",
) -> Device:
    return Device(tag, kind, school, status=status, ip=ip, mac=mac)


def test_sweep_record_states_and_counts() -> None:
    devices = [
        dev("CAM-OK", "10.30.1.31", HIK),
        dev("CAM-MOVED", "10.30.1.32", "3c:ef:8c:00:00:01"),
        dev("RTR-1", "10.30.1.1", "4c:5e:0c:00:00:01", DeviceKind.ROUTER),
        dev("LAP-1", None, "aa:bb:cc:00:00:01", DeviceKind.LAPTOP),
        dev("CAM-GONE", "10.30.1.33", "44-19-B6-00-00-33"),
    ]
    observed = [
        Observation("10.30.1.31", HIK.upper(), "arp"),
        Observation("10.30.1.50", "3c:ef:8c:00:00:01", "arp"),
        Observation("10.30.1.1", "4c:5e:0c:99:99:99", "arp"),
        Observation("10.30.1.120", "aa:bb:cc:00:00:01", "arp"),
        Observation("10.30.1.77", UBNT, "arp"),
        Observation("10.30.1.78", None, "ping/raw"),
    ]
    result = reconcile(observed, devices, [NET])
    report = DiscoveryReport("KPT-PSP", [NET], "arp", observed, result, 1.25)
    rec = sweep_record(report, devices, "tech1", T0, "eth0")
    got = {(h.ip, h.state, h.asset_tag, h.mac, h.vendor, h.detail) for h in rec.hosts}
    assert got == {
        ("10.30.1.31", HostState.KNOWN, "CAM-OK", HIK, "Hikvision", None),
        (
            "10.30.1.50",
            HostState.IP_CHANGED,
            "CAM-MOVED",
            "3c:ef:8c:00:00:01",
            "Dahua",
            "inventory IP 10.30.1.32",
        ),
        (
            "10.30.1.1",
            HostState.MAC_CHANGED,
            "RTR-1",
            "4c:5e:0c:99:99:99",
            "MikroTik",
            "inventory MAC 4c:5e:0c:00:00:01",
        ),
        ("10.30.1.120", HostState.KNOWN, "LAP-1", "aa:bb:cc:00:00:01", "(randomised MAC)", None),
        ("10.30.1.77", HostState.UNKNOWN, None, UBNT, "Ubiquiti", None),
        ("10.30.1.78", HostState.UNKNOWN, None, None, None, None),
        ("10.30.1.33", HostState.MISSING, "CAM-GONE", "44:19:b6:00:00:33", "Hikvision", "camera"),
    }
    assert (rec.school, rec.method, rec.subnets, rec.actor, rec.interface) == (
        "KPT-PSP",
        "arp",
        (NET,),
        "tech1",
        "eth0",
    )
    assert (rec.started_at, rec.duration_s) == (T0, 1.25)
    assert rec.counts == {
        "seen": 6,
        "known": 2,
        "unknown": 2,
        "ip_changed": 1,
        "mac_changed": 1,
        "missing": 1,
    }


def test_counts_default_to_hosts_not_missing() -> None:
    rec = SweepRecord(
        "S",
        T0,
        0.1,
        "ping",
        (),
        "a",
        (
            SweepHost("10.0.0.1", None, None, None, HostState.UNKNOWN),
            SweepHost("10.0.0.2", None, None, "X", HostState.MISSING),
        ),
    )
    assert rec.counts["seen"] == 1 and rec.counts["missing"] == 1
    assert scope_of("onvif") == "onvif" and scope_of("ping") == scope_of("arp") == "network"


def wsd(address: str, name: str = "Hikvision", serial: str = "A") -> Discovered:
    return Discovered(
        address,
        f"urn:uuid:sim-{serial}",
        (f"http://{address}/onvif/device_service",),
        (f"onvif://www.onvif.org/name/{name}", "onvif://www.onvif.org/hardware/DS-2CD"),
    )


SCHOOLS = [
    School("KPT-PSP", "Prey Speu", subnets=("10.30.1.0/24",)),
    School("KPT-PSH", "Prek Sdey", subnets=("10.30.2.0/24",)),
]


def test_onvif_records_place_devices_by_school_and_subnet() -> None:
    devices = [
        dev("CAM-1", "10.30.1.31"),
        dev("PRN-1", "10.30.1.20", kind=DeviceKind.PRINTER),
        dev("CAM-9", "10.30.1.39"),
        dev("CAM-B", "10.30.2.31", school="KPT-PSH"),
        dev("CAM-C", "10.30.3.31", school="KPT-OTHER"),
    ]
    found = [
        wsd("10.30.1.31"),
        wsd("10.30.1.20"),
        wsd("10.30.2.77", "Evil%3Cb%3E", "E"),
        wsd("192.0.2.5", serial="Z"),
    ]
    diff = diff_inventory(found, devices)
    records, notes = onvif_records(diff, SCHOOLS, (), "lo", "tech1", T0, 0.5)
    by_school = {r.school: r for r in records}
    assert sorted(by_school) == ["KPT-PSH", "KPT-PSP"]  # KPT-OTHER had no responder
    psp = {(h.asset_tag, h.state): h for h in by_school["KPT-PSP"].hosts}
    assert psp[("CAM-1", HostState.KNOWN)].detail == (
        "name Hikvision; hardware DS-2CD; ONVIF endpoint urn:uuid:sim-A"
    )
    assert psp[("PRN-1", HostState.KNOWN)].detail.startswith(
        "answers ONVIF but is a printer in the inventory"
    )
    assert psp[("CAM-9", HostState.MISSING)].ip == "10.30.1.39"
    psh = by_school["KPT-PSH"]
    assert [(h.ip, h.state, h.detail) for h in psh.hosts] == [
        (
            "10.30.2.77",
            HostState.UNKNOWN,
            "name Evil<b>; hardware DS-2CD; ONVIF endpoint urn:uuid:sim-E",
        ),
        ("10.30.2.31", HostState.MISSING, "camera"),
    ]
    assert psh.counts["seen"] == 1 and psh.method == "onvif" and psh.interface == "lo"
    assert notes == [
        "not recorded: ONVIF device at 192.0.2.5 is in no school's subnets (give --school)"
    ]
    # one chosen school takes every responder, and only its missing cameras
    records, notes = onvif_records(diff, SCHOOLS, ("KPT-PSP",), "lo", "tech1", T0, 0.5)
    assert [r.school for r in records] == ["KPT-PSP"]
    states = sorted(h.state.value for h in records[0].hosts)
    assert states == ["known", "known", "missing", "unknown"]  # 192.0.2.5 placed there
    assert notes == [
        "not recorded: ONVIF device at 10.30.2.77 is in the subnets of KPT-PSH, not of --school"
    ]


def stored(
    sid: int, method: str, at: dt.datetime, *hosts: SweepHost, school: str = "KPT-PSP"
) -> StoredSweep:
    return StoredSweep(sid, school, at, 1.0, method, (NET,), "t", None, {}, hosts)


def test_discovery_problems() -> None:
    net = stored(
        1,
        "arp",
        T0,
        SweepHost("10.30.1.77", UBNT, "Ubiquiti", None, HostState.UNKNOWN),
        SweepHost("10.30.1.78", "02:00:00:00:00:01", "(randomised MAC)", None, HostState.UNKNOWN),
        SweepHost("10.30.1.79", "aa:bb:cc:00:00:01", None, None, HostState.UNKNOWN),
        SweepHost("10.30.1.80", None, None, None, HostState.UNKNOWN),
        SweepHost("10.30.1.5", None, None, None, HostState.UNKNOWN),
        SweepHost("10.30.1.33", None, None, "CAM-GONE", HostState.MISSING),
        SweepHost("10.30.1.34", None, None, "CAM-DOWN", HostState.MISSING),
        SweepHost("10.30.1.35", None, None, "CAM-RETIRED", HostState.MISSING),
        SweepHost("10.30.1.36", None, None, "CAM-ONVIF", HostState.MISSING),
    )
    onvif = stored(
        2,
        "onvif",
        T0,
        SweepHost("10.30.1.80", None, None, None, HostState.UNKNOWN, "name <Cam>"),
        SweepHost("10.30.1.36", None, None, "CAM-ONVIF", HostState.KNOWN),
        SweepHost("10.30.1.33", None, None, "CAM-GONE", HostState.MISSING),
    )
    devices = [
        dev("CAM-GONE", "10.30.1.33"),
        dev("CAM-DOWN", "10.30.1.34"),
        dev("CAM-RETIRED", "10.30.1.35", status=DeviceStatus.RETIRED),
        dev("CAM-ONVIF", "10.30.1.36"),
        dev("AP-NEW", None, "AA-BB-CC-00-00-01", DeviceKind.HOTSPOT),  # added since the sweep
        dev("RTR-1", "10.30.1.5", kind=DeviceKind.ROUTER),
    ]
    first = {("KPT-PSP", "network", UBNT): T0 - dt.timedelta(days=3)}
    since = {("KPT-PSP", "network", "CAM-GONE"): T0 - dt.timedelta(days=1)}
    got = discovery_problems([onvif, net], devices, first, since, down={"CAM-DOWN"})
    assert [(p.kind, p.severity, p.asset_tag, p.part, p.since, p.probe) for p in got] == [
        (ProblemKind.UNKNOWN_DEVICE, Severity.WARN, None, UBNT, T0 - dt.timedelta(days=3), "arp"),
        (ProblemKind.UNKNOWN_DEVICE, Severity.WARN, None, "02:00:00:00:00:01", T0, "arp"),
        (ProblemKind.UNKNOWN_DEVICE, Severity.WARN, None, "10.30.1.80", T0, "arp"),
        (
            ProblemKind.MISSING_FROM_NETWORK,
            Severity.INFO,
            "CAM-GONE",
            "",
            T0 - dt.timedelta(days=1),
            "arp",
        ),
    ]
    assert got[0].detail == f"MAC {UBNT} at 10.30.1.77, vendor Ubiquiti (arp sweep)"
    assert got[1].detail.endswith("vendor (randomised MAC) (arp sweep)")
    assert got[2].detail == "at 10.30.1.80 (arp sweep)"  # the ONVIF sighting is the same host
    assert got[3].detail == "not seen at 10.30.1.33 by the arp sweep"
    assert got[0].key == f"unknown_device:-:{UBNT}"
    assert discovery_problems([], devices, {}, {}) == []
    only_onvif = discovery_problems([onvif], [], {}, {})
    assert [p.detail for p in only_onvif] == ["at 10.30.1.80 (onvif sweep); name <Cam>"]
