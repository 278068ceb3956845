"""``itops probe ping`` on loopback: methods, fallbacks, asset tags, bad input and exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.lab.netns import run, set_sysctl
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.netns import netns_lab, new_lab, require_netns
from tests.support.unprivileged import Unprivileged

__all__ = ["netns_lab"]


def _has_ipv6_loopback() -> bool:
    inet6 = Path("/proc/net/if_inet6")
    return inet6.exists() and "00000000000000000000000000000001" in inet6.read_text()


def test_ping_loopback_json(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["probe", "ping", "127.0.0.1", "127.0.0.2", "--json", "-c", "3", "--interval", "0.01"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [r["status"] for r in doc["results"]] == ["ok", "ok"]
    m = doc["results"][0]["metrics"]
    assert m["sent"] == 3 and m["received"] == 3 and m["loss_pct"] == 0.0
    assert 0 <= m["rtt_min_ms"] <= m["rtt_avg_ms"] <= m["rtt_max_ms"] < 100
    assert m["jitter_ms"] is not None and m["rtt_stddev_ms"] is not None
    assert doc["results"][0]["method"] == doc["method"]


def test_ping_ipv6_loopback(runner: CliRunner) -> None:
    if not _has_ipv6_loopback():
        pytest.skip("this host has no IPv6 loopback")
    result = runner.invoke(cli, ["probe", "ping", "::1", "--json", "-c", "2", "--interval", "0.01"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"][0]["metrics"]["received"] == 2


def test_table_output_and_tcp_method(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["probe", "ping", "127.0.0.1", "-c", "1", "--method", "tcp-connect"]
    )
    assert result.exit_code == 0, result.output
    assert "ping (tcp-connect)" in result.output and "1 ok" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["10.0.0.0/8"],
            "refusing to sweep 10.0.0.0/8 (16,777,216 addresses, larger than a /16) without --force",
        ),
        (["10.1.0.0/12"], "larger than a /16) without --force"),
        (["10.0.0.300/24"], "bad CIDR '10.0.0.300/24'"),
        (
            ["no-such-host.invalid"],
            "unknown target 'no-such-host.invalid': cannot resolve host name",
        ),
        (["not/a/tag"], "bad CIDR 'not/a/tag'"),
        (["b@d"], "unknown target 'b@d'"),
    ],
)
def test_bad_targets_exit_3(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["probe", "ping", *args])
    assert result.exit_code == 3
    assert message in result.output


def test_count_out_of_range_is_usage_exit_3(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["probe", "ping", "127.0.0.1", "--count", "0"])
    assert result.exit_code == 3 and "--count" in result.output  # Nagios: usage errors are 3


def _seed(url: str) -> None:
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("test", "test", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("KPT-PSP", {"name": "Prey Speu Primary School"})], ctx)
        repo.apply_devices(
            [
                DeviceUpsert(
                    "PSP-PRN-01",
                    {
                        "kind": DeviceKind.PRINTER,
                        "school": "KPT-PSP",
                        "ip": "127.0.0.7",
                        "status": DeviceStatus.DEPLOYED,
                    },
                ),
                DeviceUpsert("PSP-LAP-01", {"kind": DeviceKind.LAPTOP, "school": "KPT-PSP"}),
            ],
            ctx,
        )
    store.dispose()


def test_asset_tags(runner: CliRunner, sqlite_url: str) -> None:
    _seed(sqlite_url)
    result = runner.invoke(
        cli, ["--db", sqlite_url, "probe", "ping", "PSP-PRN-01", "--json", "-c", "1"]
    )
    assert result.exit_code == 0, result.output
    (r,) = json.loads(result.output)["results"]
    assert (r["asset_tag"], r["address"], r["target"]) == ("PSP-PRN-01", "127.0.0.7", "PSP-PRN-01")
    result = runner.invoke(cli, ["--db", sqlite_url, "probe", "ping", "PSP-LAP-01"])
    assert result.exit_code == 3
    assert "device 'PSP-LAP-01' has no IP address in the inventory" in result.output
    result = runner.invoke(cli, ["--db", sqlite_url, "probe", "ping", "PSP-XXX-99"])
    assert result.exit_code == 3 and "unknown target 'PSP-XXX-99'" in result.output


def test_no_raw_permission_falls_back_and_says_so(unprivileged: Unprivileged) -> None:
    low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    proc = unprivileged.run("probe", "ping", "127.0.0.1", "--json", "-c", "2", "--interval", "0.01")
    assert proc.returncode == 0, proc.stderr
    assert "cannot open icmp-raw IPv4 socket: Operation not permitted" in proc.stderr
    assert "setcap cap_net_raw+ep" in proc.stderr
    doc = json.loads(proc.stdout)
    expected = "icmp-dgram" if low <= 65534 <= high else "tcp-connect"
    assert doc["method"] == expected and doc["results"][0]["status"] == "ok"
    if expected == "tcp-connect":
        assert "falling back to TCP connect" in proc.stderr


def test_forced_raw_without_permission_is_exit_3(unprivileged: Unprivileged) -> None:
    proc = unprivileged.run("probe", "ping", "127.0.0.1", "--method", "icmp-raw")
    assert proc.returncode == 3
    assert "cannot open icmp-raw IPv4 socket" in proc.stderr and "setcap" in proc.stderr


def test_unprivileged_datagram_icmp_where_ping_group_range_allows(
    unprivileged: Unprivileged,
) -> None:
    require_netns()
    lab = new_lab()
    ns = f"{lab.prefix}-dgram"
    try:
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        set_sysctl(ns, "net.ipv4.ping_group_range", "0 2147483647")
        v6 = ["::1"] if _has_ipv6_loopback() else []
        args = ["probe", "ping", "127.0.0.1", *v6, "--json", "-c", "2", "--interval", "0.01"]
        proc = unprivileged.run(*args, ns=ns)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["method"] == "icmp-dgram"
        assert [r["metrics"]["received"] for r in doc["results"]] == [2] * (1 + len(v6))
    finally:
        run("ip", "netns", "del", ns, check=False)
        lab.close()


def test_lab_map_redirects_and_never_pings_unmapped(runner: CliRunner, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "mode": "loopback",
                "address_map": {"10.30.1.1": {"address": "127.30.1.1", "ports": {}}},
            }
        )
    )
    result = runner.invoke(
        cli,
        ["probe", "ping", "10.30.1.1", "10.30.1.2", "--json", "-c", "1"],
        env={"ITOPS_LAB_STATE": str(state)},
    )
    assert result.exit_code == 3, result.output
    first, second = json.loads(result.output)["results"]
    assert (first["address"], first["pinged"], first["status"]) == ("10.30.1.1", "127.30.1.1", "ok")
    assert second["pinged"] is None and second["status"] == "unknown"
    assert "not simulated by the lab" in second["reason"] and second["metrics"] == {}


def test_lab_flag_without_state_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["probe", "ping", "--lab", "10.30.1.1"], env={"ITOPS_DATA": str(tmp_path)}
    )
    assert result.exit_code == 3 and "start the lab with 'itops lab up' first" in result.output
