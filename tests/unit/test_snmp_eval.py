"""Pure SNMP evaluation: uptime/reboots, counters, interfaces, printers, storage, clients."""

from __future__ import annotations

import datetime as dt

import pytest

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.snmp.checks.base import Outcome
from kape_itops.probes.snmp.checks.clients import eval_clients, match_vendor
from kape_itops.probes.snmp.checks.devices import eval_devices
from kape_itops.probes.snmp.checks.interfaces import counter_delta, eval_interfaces
from kape_itops.probes.snmp.checks.printer import detected_errors, eval_printer, judge_supply
from kape_itops.probes.snmp.checks.storage import eval_storage
from kape_itops.probes.snmp.checks.system import (
    TICKS_WRAP,
    Uptime,
    cross_check,
    eval_system,
    uptime_change,
)
from kape_itops.probes.snmp.values import Kind, Value, rows_from_columns

T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def i(n: int) -> Value:
    return Value(Kind.INTEGER, n)


def s(text: str | bytes) -> Value:
    return Value(Kind.OCTETS, text if isinstance(text, bytes) else text.encode())


def c64(n: int) -> Value:
    return Value(Kind.COUNTER64, n)


# --- uptime -----------------------------------------------------------------------------


def test_uptime_first_check_has_no_verdict() -> None:
    assert uptime_change(None, None, 100, T0) is Uptime.FIRST


def test_uptime_that_grows_with_time_continues() -> None:
    later = T0 + dt.timedelta(hours=1)
    assert uptime_change(500_000, T0, 500_000 + 360_000, later) is Uptime.CONTINUED


def test_uptime_that_went_down_is_a_reboot() -> None:
    later = T0 + dt.timedelta(minutes=5)
    assert uptime_change(8_640_000, T0, 6_000, later) is Uptime.REBOOTED


def test_uptime_that_grew_less_than_the_elapsed_time_is_a_reboot() -> None:
    later = T0 + dt.timedelta(days=1)
    assert uptime_change(10_000, T0, 50_000, later) is Uptime.REBOOTED


def test_uptime_counter_wrap_is_not_a_reboot() -> None:
    later = T0 + dt.timedelta(seconds=10)
    assert uptime_change(TICKS_WRAP - 296, T0, 704, later) is Uptime.WRAPPED


def test_small_uptime_after_a_wrap_window_is_still_a_reboot_when_far_from_prediction() -> None:
    later = T0 + dt.timedelta(seconds=10)
    # predicted 704 ticks after the wrap; 3 000 000 ticks (8 h) is not a wrap
    assert uptime_change(TICKS_WRAP - 296, T0, 3_000_000, later) is Uptime.REBOOTED


def _system(ticks: Value) -> dict[str, Value]:
    return {
        "sys_descr": s("Switch"),
        "sys_name": s("sw1"),
        "sys_object_id": Value(Kind.OID, "1.3.6.1.4.1.9.1.1"),
        "sys_uptime": ticks,
    }


def test_eval_system_reports_a_reboot_as_warning() -> None:
    out = Outcome()
    prev = {"uptime_ticks": 8_640_000, "uptime_wraps": 0}
    eval_system(
        _system(Value(Kind.TIMETICKS, 6_000)), {}, prev, T0, T0 + dt.timedelta(minutes=5), out
    )
    assert out.status is ProbeStatus.WARN
    assert out.metrics["rebooted"] is True
    assert "rebooted since the last check" in out.reason


def test_eval_system_counts_wraps_and_keeps_uptime_growing() -> None:
    out = Outcome()
    prev = {"uptime_ticks": TICKS_WRAP - 296, "uptime_wraps": 0}
    eval_system(
        _system(Value(Kind.TIMETICKS, 704)), {}, prev, T0, T0 + dt.timedelta(seconds=10), out
    )
    assert out.status is ProbeStatus.OK
    assert out.metrics["rebooted"] is False
    assert out.metrics["uptime_wraps"] == 1
    assert out.metrics["uptime_s"] == pytest.approx((TICKS_WRAP + 704) / 100)
    assert "counter wrapped, not a reboot" in out.reason


def test_string_where_the_uptime_belongs_is_unknown_with_the_value() -> None:
    out = Outcome()
    eval_system(_system(s("yesterday")), {}, None, None, T0, out)
    assert out.status is ProbeStatus.UNKNOWN
    assert "sysUpTime: expected a number, got octets 'yesterday'" in out.reason


def test_missing_scalars_are_named_with_their_oid() -> None:
    out = Outcome()
    values = _system(Value(Kind.TIMETICKS, 5))
    values["sys_name"] = Value(Kind.NO_SUCH_INSTANCE)
    eval_system(values, {"sys_name": "1.3.6.1.2.1.1.5.0"}, None, None, T0, out)
    assert out.status is ProbeStatus.UNKNOWN
    assert "sysName not exposed (noSuchInstance at 1.3.6.1.2.1.1.5.0)" in out.reason


# --- counters and interfaces ------------------------------------------------------------


@pytest.mark.parametrize(
    ("prev", "cur", "bits", "delta"),
    [(10, 25, 64, 15), (2**64 - 1000, 500, 64, 1500), (2**32 - 1, 4, 32, 5), (7, 7, 32, 0)],
)
def test_counter_delta_is_wrap_safe(prev: int, cur: int, bits: int, delta: int) -> None:
    assert counter_delta(prev, cur, bits) == delta


def _port(
    name: str, admin: int, oper: int, alias: str = "", hc_in: int = 0, hc_out: int = 0
) -> dict[str, Value]:
    return {
        "name": s(name),
        "alias": s(alias),
        "admin": i(admin),
        "oper": i(oper),
        "hc_in_octets": c64(hc_in),
        "hc_out_octets": c64(hc_out),
        "in_errors": Value(Kind.COUNTER32, 0),
        "out_errors": Value(Kind.COUNTER32, 0),
        "in_discards": Value(Kind.COUNTER32, 0),
        "out_discards": Value(Kind.COUNTER32, 0),
        "high_speed": Value(Kind.UNSIGNED, 1000),
    }


SETTINGS = {"uplink_pattern": "(?i)uplink", "error_rate_warn": 1.0}


def test_down_uplink_is_critical_and_an_unused_port_is_not() -> None:
    table = {
        "1": _port("gi1", 1, 1),
        "3": _port("gi3", 1, 2, alias="lab room"),
        "5": _port("gi5", 2, 2),
        "8": _port("gi8", 1, 2, alias="UPLINK to router"),
    }
    out = Outcome()
    eval_interfaces(table, SETTINGS, None, None, False, out)
    assert out.status is ProbeStatus.CRIT
    assert out.reason == "uplink down: gi8 (UPLINK to router) down"
    assert out.metrics["if_down"] == ["gi3", "gi8"]
    assert out.metrics["levels"] == {"if_down:gi3": "ok", "if_down:gi8": "crit"}


def test_only_unused_ports_down_is_ok() -> None:
    out = Outcome()
    eval_interfaces(
        {"1": _port("gi1", 1, 1), "3": _port("gi3", 1, 2)}, SETTINGS, None, None, False, out
    )
    assert out.status is ProbeStatus.OK
    assert "1 enabled but down (not uplinks)" in out.reason


def test_rates_from_previous_counters_across_a_64_bit_wrap() -> None:
    prev = {"if_counters": {"1": [2**64 - 1000, 2**64 - 10, 0]}}
    out = Outcome()
    eval_interfaces(
        {"1": _port("eth0", 1, 1, hc_in=500, hc_out=1990)}, SETTINGS, prev, 10.0, False, out
    )
    assert out.metrics["if_rates"]["eth0"] == {
        "in_bps": 1200.0,
        "out_bps": 1600.0,
        "errors_ps": 0.0,
    }


def test_no_rates_after_a_reboot() -> None:
    prev = {"if_counters": {"1": [5_000_000, 5_000_000, 0]}}
    out = Outcome()
    eval_interfaces(
        {"1": _port("eth0", 1, 1, hc_in=100, hc_out=100)}, SETTINGS, prev, 10.0, True, out
    )
    assert out.metrics["if_rates"] == {}


def test_a_rate_faster_than_the_link_is_a_reset_not_traffic() -> None:
    prev = {"if_counters": {"1": [10**12, 10**12, 0]}}
    out = Outcome()
    eval_interfaces(
        {"1": _port("eth0", 1, 1, hc_in=5, hc_out=10**12)}, SETTINGS, prev, 10.0, False, out
    )
    assert "in_bps" not in out.metrics["if_rates"]["eth0"]


def test_string_where_an_interface_integer_belongs_is_unknown() -> None:
    row = _port("port1", 1, 1)
    row["oper"] = s("up")
    out = Outcome()
    eval_interfaces({"1": row}, SETTINGS, None, None, False, out)
    assert out.status is ProbeStatus.UNKNOWN
    assert "port1 ifOperStatus: expected a number, got octets 'up'" in out.reason


def test_error_rate_warns() -> None:
    row = _port("eth0", 1, 1)
    row["in_errors"] = Value(Kind.COUNTER32, 500)
    prev = {"if_counters": {"1": [0, 0, 100]}}
    out = Outcome()
    eval_interfaces({"1": row}, SETTINGS, prev, 100.0, False, out)
    assert out.status is ProbeStatus.WARN
    assert "eth0 4.0 errors/s" in out.reason


def test_rows_from_columns_pivot_by_index() -> None:
    rows = rows_from_columns(
        {"a": [("1.3.6.1.2.1.2.2.1.2.7", s("x"))], "b": [("1.3.6.1.2.1.2.2.1.8.7", i(1))]},
        {"a": "1.3.6.1.2.1.2.2.1.2", "b": "1.3.6.1.2.1.2.2.1.8"},
    )
    assert rows == {"7": {"a": s("x"), "b": i(1)}}


# --- printers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "cap", "pct", "state"),
    [
        (40, 100, 40.0, "measured"),
        (-1, 100, None, "no restriction"),
        (-2, 100, None, "unknown"),
        (-3, 100, None, "some remaining"),
        (10, -2, None, "unknown"),
        (-1, -1, None, "no restriction"),
        (150, 100, None, "impossible"),
        (-7, 100, None, "impossible"),
        (5, 0, None, "impossible"),
    ],
)
def test_supply_special_and_impossible_values(
    level: int, cap: int, pct: float | None, state: str
) -> None:
    supply = judge_supply("Black", level, cap)
    assert (supply.pct, supply.state) == (pct, state)


def _supplies(*rows: tuple[str, int, int]) -> dict[str, dict[str, Value]]:
    return {
        f"1.{n}": {"descr": s(d), "level": i(lv), "max": i(mx)}
        for n, (d, lv, mx) in enumerate(rows, 1)
    }


TH = {"supply_pct": {"warn": 15, "crit": 5}}


def test_toner_thresholds() -> None:
    out = Outcome()
    eval_printer(
        _supplies(("Black", 4, 100), ("Cyan", 12, 100), ("Drum", -3, 100)), {}, {}, None, TH, out
    )
    assert out.status is ProbeStatus.CRIT
    assert out.reason == "Black 4% (< 5%)"
    assert [f.text for f in out.findings if f.status is ProbeStatus.WARN] == ["Cyan 12% (< 15%)"]
    assert out.metrics["levels"] == {"supplies:Black": "crit", "supplies:Cyan": "warn"}


def test_150_percent_is_unknown_with_raw_numbers_never_150() -> None:
    out = Outcome()
    eval_printer(_supplies(("Black", 150, 100)), {}, {}, None, TH, out)
    assert out.status is ProbeStatus.UNKNOWN
    assert out.reason == "Black: impossible level 150 of capacity 100 (raw values, unknown)"
    assert out.metrics["supplies"][0]["pct"] is None
    assert "150%" not in repr(out.findings)


def test_string_where_a_supply_level_belongs_is_unknown() -> None:
    rows = {"1.1": {"descr": s("Black"), "level": s("full"), "max": i(100)}}
    out = Outcome()
    eval_printer(rows, {}, {}, None, TH, out)
    assert out.status is ProbeStatus.UNKNOWN
    assert "Black level: expected a number, got octets 'full'" in out.reason


def test_printer_alerts_errors_and_pages() -> None:
    alerts = {"1.1": {"severity": i(4), "code": i(1104), "descr": s("Toner low")}}
    status = {"1": {"status": i(3), "error_state": Value(Kind.OCTETS, b"\x24")}}
    out = Outcome()
    eval_printer(
        _supplies(("Black", 50, 100)), alerts, status, Value(Kind.COUNTER32, 48213), TH, out
    )
    assert out.status is ProbeStatus.CRIT  # bit 5 (0x04): jammed
    assert out.metrics["page_count"] == 48213
    assert out.metrics["printer_status"] == "idle"
    assert out.metrics["printer_errors"] == ["low toner", "jammed"]
    assert out.metrics["alerts"] == [
        {"severity": "warning", "code": 1104, "description": "Toner low"}
    ]


def test_detected_error_bits_span_two_octets() -> None:
    assert [n for n, _ in detected_errors(b"\x80\x02")] == [
        "low paper",
        "overdue preventive maintenance",
    ]


def test_no_supplies_table_is_not_exposed() -> None:
    out = Outcome()
    eval_printer({}, {}, {}, None, TH, out)
    assert out.status is ProbeStatus.UNKNOWN
    assert "supplies not exposed" in out.reason


# --- storage, devices, clients, inventory -----------------------------------------------

DISK = "1.3.6.1.2.1.25.2.1.4"
STORAGE = {"disk_types": [DISK]}


def _disk(name: str, size: int, used: int, typ: str = DISK) -> dict[str, Value]:
    return {
        "type": Value(Kind.OID, typ),
        "descr": s(name),
        "units": i(4096),
        "size": i(size),
        "used": i(used),
    }


def test_nearly_full_recording_disk_warns() -> None:
    table = {
        "1": _disk("RAM", 100, 99, "1.3.6.1.2.1.25.2.1.2"),
        "36": _disk("/mnt/record", 1000, 902),
    }
    out = Outcome()
    eval_storage(table, STORAGE, {"disk_used_pct": {"warn": 85, "crit": 95}}, out)
    assert out.status is ProbeStatus.WARN
    assert out.metrics["disk_used_pct"] == 90.2
    assert out.reason == "disk /mnt/record 90.2% used (> 85%)"
    assert out.metrics["levels"] == {"disk_used_pct": "warn"}


def test_negative_integer32_sizes_read_unsigned_and_impossible_used_is_unknown() -> None:
    big = _disk("/big", -294_967_296, -1_294_967_296)  # both wrapped: 75 %
    bad = _disk("/bad", 100, 200)
    out = Outcome()
    eval_storage({"1": big, "2": bad}, STORAGE, {}, out)
    assert out.metrics["disks"][0] == {
        "name": "/big",
        "used_pct": 75.0,
        "size_bytes": 4_000_000_000 * 4096,
    }
    assert out.status is ProbeStatus.UNKNOWN
    assert "/bad: impossible storage numbers used=200 size=100 units=4096" in out.reason


def test_device_down_is_critical_and_network_devices_are_ignored() -> None:
    table = {
        "1": {
            "type": Value(Kind.OID, "1.3.6.1.2.1.25.3.1.6"),
            "descr": s("SATA disk"),
            "status": i(5),
        },
        "2": {"type": Value(Kind.OID, "1.3.6.1.2.1.25.3.1.4"), "descr": s("eth1"), "status": i(5)},
    }
    out = Outcome()
    eval_devices(table, {"ignore_types": ["1.3.6.1.2.1.25.3.1.4"]}, out)
    assert out.status is ProbeStatus.CRIT
    assert out.metrics["devices_not_running"] == ["SATA disk"]


VENDORS = [
    {"name": "Cisco", "enterprise": "1.3.6.1.4.1.9", "walk": ["1.3.6.1.4.1.9.9.273.1.1.2.1.1"]},
    {
        "name": "MikroTik",
        "enterprise": "1.3.6.1.4.1.14988",
        "walk": ["1.3.6.1.4.1.14988.1.1.1.3.1.6"],
    },
]


def test_vendor_match_by_enterprise_prefix_not_by_text() -> None:
    assert match_vendor("1.3.6.1.4.1.14988.1", VENDORS)["name"] == "MikroTik"  # type: ignore[index]
    assert match_vendor("1.3.6.1.4.1.99.1", VENDORS) is None
    assert match_vendor("1.3.6.1.4.1.98", VENDORS) is None  # 9 is not a prefix of 98


def test_clients_summed_and_not_exposed() -> None:
    out = Outcome()
    eval_clients(VENDORS[1], [Value(Kind.COUNTER32, 14), Value(Kind.COUNTER32, 9)], {}, out)
    assert out.metrics["clients"] == 23
    out = Outcome()
    eval_clients(None, [], {}, out)
    assert out.metrics["clients"] is None
    assert out.status is ProbeStatus.OK
    assert "client count not exposed" in out.reason


def test_inventory_mismatch_is_flagged() -> None:
    out = Outcome()
    cross_check("KPT-PSP-PRN01.school.local", "CNB1", "kpt-psp-prn01", "CNB2", out)
    assert out.status is ProbeStatus.WARN
    assert out.metrics["inventory_mismatch"] == ["serial 'CNB1' but inventory serial 'CNB2'"]
