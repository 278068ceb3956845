"""Reconciliation of a sweep against the inventory (pure)."""

from __future__ import annotations

from kape_itops.discovery.diff import FieldChange, Observation, reconcile
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Device

NET = ["10.30.1.0/24"]


def dev(
    tag: str, ip: str | None, mac: str | None, status: DeviceStatus = DeviceStatus.DEPLOYED
) -> Device:
    return Device(tag, DeviceKind.CAMERA, "KPT-PSP", status=status, ip=ip, mac=mac)


def obs(ip: str, mac: str | None) -> Observation:
    return Observation(ip, mac, "arp")


def test_all_matched_is_clean() -> None:
    r = reconcile(
        [obs("10.30.1.31", "44:19:B6:00:00:01")],
        [dev("CAM-1", "10.30.1.31", "44-19-b6-00-00-01")],
        NET,
    )
    assert r.clean and r.matched == ["CAM-1"]


def test_unknown_mac_gets_vendor() -> None:
    r = reconcile([obs("10.30.1.77", "44:19:b6:aa:bb:cc"), obs("10.30.1.78", None)], [], NET)
    assert [(u.ip, u.vendor) for u in r.unknown] == [
        ("10.30.1.77", "Hikvision"),
        ("10.30.1.78", None),
    ]


def test_missing_only_deployed_with_ip_on_subnet() -> None:
    devices = [
        dev("CAM-1", "10.30.1.31", None),
        dev("CAM-2", "10.30.1.32", None, DeviceStatus.IN_REPAIR),
        dev("CAM-3", "10.30.2.31", None),
        dev("LAP-1", None, "aa:bb:cc:00:00:01"),
        dev("OLD-1", "10.30.1.33", None, DeviceStatus.RETIRED),
    ]
    r = reconcile([], devices, NET)
    assert [d.asset_tag for d in r.missing] == ["CAM-1"]


def test_ip_changed_by_mac_match() -> None:
    r = reconcile(
        [obs("10.30.1.50", "3c:ef:8c:00:00:01")],
        [dev("CAM-1", "10.30.1.31", "3c:ef:8c:00:00:01")],
        NET,
    )
    assert r.changes == [FieldChange("CAM-1", "ip", "10.30.1.31", "10.30.1.50")]
    assert not r.missing and not r.unknown


def test_mac_changed_by_ip_match() -> None:
    r = reconcile(
        [obs("10.30.1.31", "3c:ef:8c:00:00:02")],
        [dev("CAM-1", "10.30.1.31", "3c:ef:8c:00:00:01")],
        NET,
    )
    assert r.changes == [FieldChange("CAM-1", "mac", "3c:ef:8c:00:00:01", "3c:ef:8c:00:00:02")]


def test_mac_recorded_when_inventory_had_none() -> None:
    r = reconcile([obs("10.30.1.31", "3c:ef:8c:00:00:02")], [dev("CAM-1", "10.30.1.31", None)], NET)
    assert r.changes == [FieldChange("CAM-1", "mac", None, "3c:ef:8c:00:00:02")]


def test_swap_two_devices() -> None:
    a = dev("CAM-A", "10.30.1.31", "3c:ef:8c:00:00:0a")
    b = dev("CAM-B", "10.30.1.32", "3c:ef:8c:00:00:0b")
    seen = [obs("10.30.1.31", "3c:ef:8c:00:00:0b"), obs("10.30.1.32", "3c:ef:8c:00:00:0a")]
    r = reconcile(seen, [a, b], NET)
    assert sorted((c.asset_tag, c.field, c.new) for c in r.changes) == [
        ("CAM-A", "ip", "10.30.1.32"),
        ("CAM-B", "ip", "10.30.1.31"),
    ]
    assert not r.unknown and not r.missing


def test_dhcp_client_moves_freely() -> None:
    r = reconcile(
        [obs("10.30.1.150", "aa:bb:cc:00:00:01")], [dev("LAP-1", None, "aa:bb:cc:00:00:01")], NET
    )
    assert r.clean and r.matched == ["LAP-1"]


def test_old_ip_of_moved_device_answered_by_stranger() -> None:
    a = dev("CAM-A", "10.30.1.31", "3c:ef:8c:00:00:0a")
    seen = [obs("10.30.1.31", "3c:ef:8c:00:00:ff"), obs("10.30.1.40", "3c:ef:8c:00:00:0a")]
    r = reconcile(seen, [a], NET)
    assert r.changes == [FieldChange("CAM-A", "ip", "10.30.1.31", "10.30.1.40")]
    assert [u.ip for u in r.unknown] == ["10.30.1.31"]


def test_ping_sweep_without_macs_matches_by_ip() -> None:
    r = reconcile(
        [Observation("10.30.1.31", None, "ping")],
        [dev("CAM-1", "10.30.1.31", "3c:ef:8c:00:00:01")],
        NET,
    )
    assert r.clean
