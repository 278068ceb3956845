"""Real ICMP into namespaces the test builds: live, dead routed, dead on-link, delay, loss."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
import sys

import pytest

from kape_itops.domain.enums import ProbeStatus
from kape_itops.lab.netns import (
    HostBehaviour,
    NetnsLab,
    namespace_exists,
    pid_alive,
    route_device,
)
from kape_itops.probes.base import Target
from kape_itops.probes.icmp.probe import ping_targets
from tests.support.netns import LINK_SPACE, TEST_SPACE, free_prefix, netns_lab

pytestmark = pytest.mark.netns
__all__ = ["netns_lab"]


def _build(lab: NetnsLab, hosts: dict[int, HostBehaviour]) -> tuple[list[str], str, str]:
    taken: set[str] = set()
    routed = free_prefix(TEST_SPACE, 24, taken)
    link = free_prefix(LINK_SPACE, 29, taken)
    seg = lab.add_segment([routed], link)
    net = ipaddress.IPv4Network(routed)
    addrs = {h: str(net.network_address + h) for h in hosts}
    lab.start_responder(seg, {addrs[h]: b for h, b in hosts.items()})
    dead_routed = str(net.network_address + 200)
    return [addrs[h] for h in sorted(hosts)], dead_routed, seg.onlink_dead()[0]


def _ping(addresses: list[str], **settings: object) -> list[object]:
    targets = [Target(a, settings=settings) for a in addresses]
    run = asyncio.run(ping_targets(targets, timeout_s=1.0, pps=2000))
    return list(run.results)


def test_live_dead_routed_and_dead_onlink(netns_lab: NetnsLab) -> None:
    (live,), dead_routed, dead_onlink = _build(netns_lab, {1: HostBehaviour()})
    assert route_device(live) == netns_lab.segments[0].host_if
    live_r, routed_r, onlink_r = _ping([live, dead_routed, dead_onlink], count=3, interval_s=0.05)
    assert live_r.status == ProbeStatus.OK, live_r.reason
    assert live_r.metrics["received"] == 3 and live_r.method == "icmp-raw"
    assert routed_r.status == ProbeStatus.CRIT and routed_r.metrics["received"] == 0
    assert "down" in routed_r.reason
    assert onlink_r.status == ProbeStatus.CRIT and onlink_r.metrics["loss_pct"] == 100.0


def test_delay_20ms_measured(netns_lab: NetnsLab) -> None:
    (slow,), _, _ = _build(netns_lab, {5: HostBehaviour(delay_ms=20.0)})
    (r,) = _ping([slow], count=10, interval_s=0.02)
    assert r.metrics["received"] == 10
    assert r.metrics["rtt_min_ms"] >= 19.5 and r.metrics["rtt_avg_ms"] <= 24.0, r.metrics
    assert r.metrics["jitter_ms"] < 3.0


def test_loss_8pct_measured_over_400(netns_lab: NetnsLab) -> None:
    (lossy,), _, _ = _build(netns_lab, {7: HostBehaviour(loss=0.08)})
    (r,) = _ping([lossy], count=400, interval_s=0.002)
    assert 3.0 <= r.metrics["loss_pct"] <= 13.0, r.metrics
    assert r.status == ProbeStatus.OK  # below the default 20 % warn threshold


def test_many_hosts_in_flight_do_not_inflate_rtt(netns_lab: NetnsLab) -> None:
    behaviours = {h: HostBehaviour(delay_ms=20.0) for h in range(1, 151)}
    live, _, _ = _build(netns_lab, behaviours)
    results = _ping(live, count=2, interval_s=0.05)
    assert all(r.metrics["received"] == 2 for r in results)
    assert max(r.metrics["rtt_max_ms"] for r in results) < 40.0


def test_cli_in_namespace_reports_warn_on_delay(netns_lab: NetnsLab) -> None:
    (slow,), dead, _ = _build(netns_lab, {9: HostBehaviour(delay_ms=20.0)})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kape_itops",
            "probe",
            "ping",
            slow,
            dead,
            "--json",
            "-c",
            "2",
            "--interval",
            "0.05",
            "--timeout",
            "0.5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    status = {r["address"]: r["status"] for r in doc["results"]}
    assert status == {slow: "ok", dead: "crit"}


def test_cleanup_removes_namespace_and_route() -> None:
    from tests.support.netns import new_lab, require_netns

    require_netns()
    lab = new_lab()
    try:
        (live,), _, _ = _build(lab, {1: HostBehaviour()})
        ns, pid, host_if = lab.segments[0].ns, lab.pids[0], lab.segments[0].host_if
    finally:
        lab.close()
    assert not namespace_exists(ns)
    assert route_device(live) != host_if
    assert not pid_alive(pid)


def test_cancelled_check_leaves_no_pending_echo(netns_lab: NetnsLab) -> None:
    from kape_itops.probes.base import ProbeContext
    from kape_itops.probes.icmp.probe import PingProbe

    _, dead, _ = _build(netns_lab, {1: HostBehaviour()})

    async def scenario() -> int:
        probe = PingProbe()
        await probe.start(ProbeContext(timeout_s=2.0))
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(probe.check(Target(dead, settings={"count": 3})), 0.3)
            await asyncio.sleep(0)
            assert probe.engine is not None
            return probe.engine.pending
        finally:
            await probe.stop()

    assert asyncio.run(scenario()) == 0


def test_refuses_a_prefix_that_is_already_routed(netns_lab: NetnsLab) -> None:
    from kape_itops.errors import ProbeError

    taken: set[str] = set()
    routed = free_prefix(TEST_SPACE, 24, taken)
    netns_lab.add_segment([routed], free_prefix(LINK_SPACE, 29, taken))
    with pytest.raises(ProbeError, match=f"refusing to route {routed}: overlaps existing route"):
        netns_lab.add_segment([routed], free_prefix(LINK_SPACE, 29, taken))
    assert len(netns_lab.segments) == 1


def test_refuses_an_existing_namespace_name(netns_lab: NetnsLab) -> None:
    from kape_itops.errors import ProbeError

    taken: set[str] = set()
    seg = netns_lab.add_segment([], free_prefix(LINK_SPACE, 29, taken), index=5)
    with pytest.raises(ProbeError, match="already exists"):
        netns_lab.add_segment([], free_prefix(LINK_SPACE, 29, taken), index=5)
    assert namespace_exists(seg.ns) and len(netns_lab.segments) == 1


def test_tcp_fallback_live_listener_and_dead_host(netns_lab: NetnsLab) -> None:
    import socket

    _, dead, _ = _build(netns_lab, {1: HostBehaviour()})
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        targets = [
            Target("127.0.0.1", settings={"count": 2, "interval_s": 0.01, "tcp_ports": [port]}),
            Target(dead, settings={"count": 1, "tcp_ports": [80, 443]}),
        ]
        run = asyncio.run(ping_targets(targets, timeout_s=0.5, method="tcp-connect"))
    live_r, dead_r = run.results
    assert run.method == "tcp-connect" and live_r.method == "tcp-connect"
    assert live_r.status == ProbeStatus.OK and live_r.metrics["received"] == 2
    assert live_r.metrics["tcp_ports"] == [port]
    assert dead_r.status == ProbeStatus.CRIT and dead_r.metrics["received"] == 0
