"""Ping sweep: ``itops probe ping`` against ``fping`` in a namespace lab (needs root).

1. 250 live hosts (20 ms delay, 5 % loss, user-space responder) and 50 dead ones, ``-c 3``;
   both tools get the same count, per-host interval, timeout and packet rate, one after the
   other in one run. Prints wall times, the ratio, and hosts found up by each (accuracy first:
   our probe must never report a live host as down because of its own load).
2. 5,000 hosts (10 % dead), one echo each, against the lower bound: packets ÷ rate budget +
   timeout.

Traffic goes only to 198.18.0.0/15 addresses routed into namespaces this script creates; all
of it is removed at the end, also on failure.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kape_itops.lab.netns import HostBehaviour, NetnsLab, netns_available
from kape_itops.probes.base import Target
from kape_itops.probes.icmp.probe import ping_targets
from tests.support.netns import LINK_SPACE, TEST_SPACE, free_prefix

ITOPS = [sys.executable, "-m", "kape_itops"]
COUNT, INTERVAL_S, TIMEOUT_S, RATE = 3, 1.0, 1.0, 250.0
BIG, BIG_RATE, BIG_TIMEOUT_S = 5000, 2000.0, 1.0


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    return time.perf_counter() - t0, proc


def itops_up(
    addresses: list[str], count: int, interval: float, timeout: float, rate: float
) -> tuple[float, int, float]:
    """Wall time, hosts up, and the worst RTT among them (ms)."""
    args = [
        *ITOPS,
        "probe",
        "ping",
        *addresses,
        "--json",
        "-c",
        str(count),
        "--interval",
        str(interval),
        "--timeout",
        str(timeout),
        "--rate",
        str(rate),
    ]
    wall, proc = timed(args)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"itops failed ({proc.returncode}): {proc.stderr[-500:]}")
    results = json.loads(proc.stdout)["results"]
    up = [r for r in results if r["metrics"].get("received")]
    worst = max((r["metrics"]["rtt_max_ms"] for r in up), default=0.0)
    return wall, len(up), worst


def api_up(
    addresses: list[str], count: int, interval: float, timeout: float, rate: float
) -> tuple[float, int, float]:
    """The same through the Python API in this process (no interpreter start-up or imports)."""
    settings = {"count": count, "interval_s": interval, "timeout_s": timeout}
    t0 = time.perf_counter()
    run = asyncio.run(
        ping_targets([Target(a, settings=settings) for a in addresses], timeout_s=timeout, pps=rate)
    )
    wall = time.perf_counter() - t0
    up = [r for r in run.results if r.metrics.get("received")]
    return wall, len(up), max((float(r.metrics["rtt_max_ms"]) for r in up), default=0.0)


def startup_s() -> float:
    """Wall time of a one-echo 'itops probe ping 127.0.0.1' (interpreter and imports)."""
    wall, _ = timed([*ITOPS, "probe", "ping", "127.0.0.1", "-c", "1", "--timeout", "0.2", "--json"])
    return wall


def fping_up(
    addresses: list[str], count: int, interval: float, timeout: float, rate: float
) -> tuple[float, int, float]:
    """Wall time, hosts up, and the worst RTT among them (ms), from ``fping -q -c``."""
    cmd = [
        "fping",
        "-q",
        "-c",
        str(count),
        "-p",
        str(int(interval * 1000)),
        "-t",
        str(int(timeout * 1000)),
        "-i",
        f"{1000 / rate:g}",
        *addresses,
    ]
    wall, proc = timed(cmd)
    up, worst = 0, 0.0
    for line in proc.stderr.splitlines():
        m = re.search(
            r"xmt/rcv/%loss = (\d+)/(\d+)/.*?(?:min/avg/max = [\d.]+/[\d.]+/([\d.]+))?$", line
        )
        if m and int(m.group(2)) > 0:
            up += 1
            worst = max(worst, float(m.group(3) or 0))
    return wall, up, worst


def part_one(lab: NetnsLab, taken: set[str]) -> None:
    routed = free_prefix(TEST_SPACE, 23, taken)
    seg = lab.add_segment([routed], free_prefix(LINK_SPACE, 29, taken))
    hosts = [str(a) for a in ipaddress.IPv4Network(routed).hosts()][:300]
    live = hosts[:250]  # hosts[250:] stay dead (routed, silent)
    lab.start_responder(seg, {a: HostBehaviour(delay_ms=20.0, loss=0.05) for a in live}, seed=7)
    print(
        f"== 250 live (20 ms, 5 % loss) + 50 dead hosts; -c {COUNT}, interval {INTERVAL_S:g} s, "
        f"timeout {TIMEOUT_S:g} s, {RATE:g} packets/s"
    )
    f_wall, f_up, f_worst = fping_up(hosts, COUNT, INTERVAL_S, TIMEOUT_S, RATE)
    i_wall, i_up, i_worst = itops_up(hosts, COUNT, INTERVAL_S, TIMEOUT_S, RATE)
    a_wall, a_up, a_worst = api_up(hosts, COUNT, INTERVAL_S, TIMEOUT_S, RATE)
    print(
        f"fping -c {COUNT}           : {f_wall:6.2f} s, {f_up:3d}/250 live up, worst rtt {f_worst:.1f} ms"
    )
    print(
        f"itops probe ping (CLI) : {i_wall:6.2f} s, {i_up:3d}/250 live up, worst rtt {i_worst:.1f} ms"
        f"  (ratio {i_wall / f_wall:.2f}; CLI start-up alone {startup_s():.2f} s)"
    )
    print(
        f"ping_targets (API)     : {a_wall:6.2f} s, {a_up:3d}/250 live up, worst rtt {a_worst:.1f} ms"
        f"  (ratio {a_wall / f_wall:.2f}, target <= 1.5)"
    )
    print(f"accuracy: hosts up fping {f_up}, itops CLI {i_up}, API {a_up} (of 250 live, 50 dead)")


def part_two(lab: NetnsLab, taken: set[str]) -> None:
    routed = free_prefix(TEST_SPACE, 19, taken)
    seg = lab.add_segment([routed], free_prefix(LINK_SPACE, 29, taken))
    hosts = [str(a) for a in ipaddress.IPv4Network(routed).hosts()][:BIG]
    live = hosts[: BIG * 9 // 10]  # the last 10 % stay dead, so the timeout is part of the run
    lab.start_responder(seg, {a: HostBehaviour(delay_ms=5.0) for a in live}, seed=3)
    bound = BIG / BIG_RATE + BIG_TIMEOUT_S
    print(
        f"== {BIG} hosts ({len(live)} live, 5 ms), 1 echo each, {BIG_RATE:g} packets/s, timeout {BIG_TIMEOUT_S:g} s: "
        f"lower bound {bound:.2f} s"
    )
    a_wall, a_up, a_worst = api_up(hosts, 1, 0.0, BIG_TIMEOUT_S, BIG_RATE)
    i_wall, i_up, i_worst = itops_up(hosts, 1, 0.0, BIG_TIMEOUT_S, BIG_RATE)
    f_wall, f_up, f_worst = fping_up(hosts, 1, BIG_TIMEOUT_S, BIG_TIMEOUT_S, BIG_RATE)
    print(
        f"ping_targets (API)     : {a_wall:6.2f} s = {a_wall / bound:.2f}x lower bound (target <= 2), "
        f"{a_up}/{len(live)} live up, worst rtt {a_worst:.1f} ms"
    )
    print(
        f"itops probe ping (CLI) : {i_wall:6.2f} s = {i_wall / bound:.2f}x lower bound, "
        f"{i_up}/{len(live)} live up, worst rtt {i_worst:.1f} ms"
    )
    print(
        f"fping -c 1 -i {1000 / BIG_RATE:g}      : {f_wall:6.2f} s = {f_wall / bound:.2f}x lower bound, "
        f"{f_up}/{len(live)} live up, worst rtt {f_worst:.1f} ms"
    )


def main() -> int:
    reason = netns_available()
    if reason or shutil.which("fping") is None:
        print(f"ping_sweep: skipped ({reason or 'fping is not installed: make sysdeps'})")
        return 0
    lab = NetnsLab(f"itops-b{os.getpid()}")
    taken: set[str] = set()
    try:
        part_one(lab, taken)
        part_two(lab, taken)
    finally:
        lab.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
