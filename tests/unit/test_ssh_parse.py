"""Pure CLI-output parsers: recorded outputs into metrics, unreadable output refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from kape_itops.lab.ssh_sim import recording
from kape_itops.probes.ssh.parse import (
    ParseFailed,
    interpret,
    parse_size,
    parse_uptime,
    read_metrics,
)
from kape_itops.probes.ssh.settings import load_command_sets

REPO = Path(__file__).resolve().parents[2]
SETS = load_command_sets(REPO / "probes")


def _metrics(platform: str) -> dict[str, object]:
    cs = SETS.get(platform)
    rec = recording(platform)
    out: dict[str, object] = {}
    for hc in cs.checks:
        text = str(rec["commands"][hc.command]).replace("{hostname}", rec["hostname"])
        out.update(interpret(hc.parser, hc.reads, cs.device_type, hc.command, text))
    return out


def test_cisco_recordings_read_into_metrics() -> None:
    m = _metrics("cisco_ios")
    assert m["version"] == "15.0(2)SE11"
    assert m["model"] == "WS-C2960-24TT-L"
    assert m["uptime_s"] == 3 * 604800 + 2 * 86400 + 4 * 3600 + 17 * 60
    assert m["cpu_pct"] == 9.0
    assert m["mem_pct"] == pytest.approx(57.3)
    assert m["if_up"] == 4
    assert m["if_down"] == ["Fa0/3", "Gi0/2"]  # disabled Fa0/5 is not "down"
    assert m["dhcp_leases"] == 3


def test_mikrotik_recordings_read_into_metrics() -> None:
    m = _metrics("mikrotik_routeros")
    assert m["version"] == "6.49.10 (long-term)"
    assert m["model"] == "hAP ac^2"
    assert m["uptime_s"] == 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5
    assert m["cpu_pct"] == 3.0
    assert m["mem_pct"] == pytest.approx(24.6)
    assert m["if_down"] == ["ether3"]  # ether5 is disabled (X), not down
    assert m["dhcp_leases"] == 2  # the 'waiting' lease is not counted
    assert m["clients"] == 12


@pytest.mark.parametrize(
    ("parser", "reads", "command", "text", "message"),
    [
        ("ntc", "resource", "/system resource print", "%%% garbage %%%", "TextFSM"),
        ("ntc", "version", "show version", "nothing useful here", "no records"),
        ("integer", "wifi_clients", "x", "twelve", "single number"),
        ("ios_memory", "memory", "show processes memory", "Pool: ?", "Processor Pool Total"),
        ("linux_uptime", "uptime", "cat /proc/uptime", "up 3 days", "/proc/uptime"),
        ("linux_loadavg", "cpu", "cat /proc/loadavg; nproc", "0.5 0.4 0.3 1/2 3", "loadavg"),
        ("linux_meminfo", "memory", "cat /proc/meminfo", "MemFree: 1 kB", "MemTotal"),
        ("ntc", "version", "show no-such-template", "x", "template"),
        ("nonsense", "version", "x", "x", "unknown parser"),
        ("port_status", "interfaces", "show interface status", "Port  Speed\n", "no port table"),
        ("port_status", "interfaces", "x", "Port  Status\n----  ------\n", "no port rows"),
        ("cpu_five", "cpu", "show cpu utilization", "CPU: 5%", "five seconds"),
        ("jetstream_cpu", "cpu", "show cpu-utilization", "Unit | CPU\n", "no CPU utilization"),
        ("jetstream_memory", "memory", "x", " 1 | n/a\n", "no memory utilization"),
        ("fastpath_cpu", "cpu", "show process cpu", "CPU Utilization:\n", "Total CPU"),
    ],
)
def test_unreadable_output_is_refused_with_a_reason(
    parser: str, reads: str, command: str, text: str, message: str
) -> None:
    device_type = "mikrotik_routeros" if command.startswith("/") else "cisco_ios"
    with pytest.raises(ParseFailed, match=message):
        interpret(parser, reads, device_type, command, text)


def test_escape_sequences_do_not_reach_the_reason() -> None:
    with pytest.raises(ParseFailed) as err:
        interpret("ntc", "cpu", "cisco_ios", "show processes cpu", "\x1b[7m%% bad\x1b[0m\x07")
    assert "\x1b" not in str(err.value) and "\x07" not in str(err.value)


def test_linux_parsers() -> None:
    assert interpret("linux_uptime", "uptime", "linux", "", "\n975.69 1520.85\n") == {
        "uptime_s": 975
    }
    cpu = interpret("linux_loadavg", "cpu", "linux", "", "3.00 1.0 0.5 5/120 99\n2\n")
    assert cpu == {"cpu_pct": 100.0}
    mem = interpret(
        "linux_meminfo", "memory", "linux", "", "MemTotal: 1000 kB\nMemAvailable: 250 kB\n"
    )
    assert mem == {"mem_pct": 75.0}
    links = (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\n"
        "    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n"
        "3: eth1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/ether 52:54:00:12:34:57 brd ff:ff:ff:ff:ff:ff\n"
    )
    assert interpret("ntc", "interfaces", "linux", "ip link show", links) == {
        "if_up": 1,
        "if_down": ["eth1"],
    }


def test_key_value_parser_reads_tplink_system_info() -> None:
    text = (
        " System Description     - JetStream 24-Port Gigabit L2 Managed Switch\n"
        " Hardware Version       - T1600G-28TS 3.0\n"
        " Firmware Version       - 3.0.2 Build 20180528 Rel.38834(s)\n"
        " Running Time           - 5 day - 3 hour - 2 min - 11 sec\n"
    )
    m = interpret("kv", "version", "tplink_jetstream", "show system-info", text)
    assert m == {
        "version": "3.0.2 Build 20180528 Rel.38834(s)",
        "model": "T1600G-28TS 3.0",
        "uptime_s": 5 * 86400 + 3 * 3600 + 2 * 60 + 11,
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1w2d3h4m5s", 788645),
        ("45m", 2700),
        ("3 weeks, 2 days, 4 hours, 17 minutes", 2002620),
        ("1 year, 1 week", 31536000 + 604800),
        ("2d 01:02:03", 2 * 86400 + 3723),
        ("12,04:33:51", 12 * 86400 + 4 * 3600 + 33 * 60 + 51),
    ],
)
def test_uptime_formats(text: str, seconds: int) -> None:
    assert parse_uptime(text) == seconds


def test_bad_uptime_and_size() -> None:
    with pytest.raises(ParseFailed, match="not an uptime"):
        parse_uptime("yesterday")
    with pytest.raises(ParseFailed, match="not a size"):
        parse_size("lots")
    assert parse_size("96.5MiB") == 96.5 * 1024**2
    assert parse_size("1184.0KiB") == 1184 * 1024


def test_missing_fields_are_unreadable() -> None:
    with pytest.raises(ParseFailed, match="no memory fields"):
        read_metrics("memory", [{"cpu_load": "3%"}])
    with pytest.raises(ParseFailed, match="no records"):
        read_metrics("version", [])
    with pytest.raises(ParseFailed, match="no interfaces"):
        read_metrics("interfaces", [{"port": "Fa0/5", "status": "disabled"}])


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        (
            "tplink_jetstream",
            {
                "version": "3.20.1 Build 20210323 Rel.33462",
                "model": "TL-SG2210P 3.20",
                "uptime_s": 12 * 86400 + 4 * 3600 + 33 * 60 + 51,
                "cpu_pct": 7.0,
                "mem_pct": 61.0,
                "if_up": 7,
                "if_down": ["Gi1/0/4", "Gi1/0/6", "Gi1/0/9"],
            },
        ),
        (
            "ubiquiti_edgeswitch",
            {
                "version": "1.9.3.5170040",
                "model": "ES-24-Lite",
                "cpu_pct": 4.48,
                "mem_pct": 63.7,
                "if_up": 6,
                "if_down": ["0/4", "0/6", "0/25", "3/1"],
            },
        ),
        (
            "cisco_s300",
            {
                "version": "3.1.1.7",
                "uptime_s": 12 * 86400 + 4 * 3600 + 33 * 60 + 51,
                "cpu_pct": 4.0,
                "if_up": 9,
            },
        ),
    ],
)
def test_switch_recordings_read_into_metrics(platform: str, expected: dict[str, object]) -> None:
    m = _metrics(platform)
    for key, value in expected.items():
        assert m[key] == value, key


def test_port_table_reads_the_link_column_not_the_physical_status() -> None:
    text = (
        "                                     Link    Physical    Physical\n"
        "Port       Name                      State   Mode        Status\n"
        "---------  ------------------------- ------  ----------  ----------\n"
        "0/1        Down link named Up        Down    Auto\n"
        "0/2                                  Up      Auto        1000 Full\n"
    )
    m = interpret("port_status", "interfaces", "ubiquiti_edgeswitch", "x", text)
    assert m == {"if_up": 1, "if_down": ["0/1"]}
