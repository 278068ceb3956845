"""SNMP fleet poll and IF-MIB walk, side by side with net-snmp.

Usage: .venv/bin/python benchmarks/snmp_poll.py [AGENTS] [IN_FLIGHT]   (default: 500, 50)

1. Fleet poll: AGENTS snmpsim agents, each on its own loopback address (127.31.x.y:16161),
   polled with the every-agent profile ('base': sysDescr, sysObjectID, sysUpTime, sysName in one
   GET) by kape-itops (one SnmpProbe run, IN_FLIGHT checks at a time) against net-snmp
   ``snmpget`` for the same four OIDs run as 50 parallel processes (``xargs -P 50``).
   Every agent is live: any agent reported down is printed as a failure of the poller.
2. Walk: the 500-interface recording, the 12 IF-MIB columns the 'switch' profile judges, walked
   by kape-itops (GETBULK of all columns side by side) against ``snmpbulkwalk`` of the same
   columns (one process per column) and of all of ifTable + ifXTable.

Targets (issue 4): faster than the parallel net-snmp baseline on the fleet poll; the walk
within 5x of snmpbulkwalk.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kape_itops.domain.enums import ProbeStatus  # noqa: E402
from kape_itops.lab.snmp_sim import SNMPSIM_ENV, start_snmpsim  # noqa: E402
from kape_itops.probes.base import ProbeContext, Target  # noqa: E402
from kape_itops.probes.snmp.client import Endpoint, SnmpAuth, SnmpClient  # noqa: E402
from kape_itops.probes.snmp.probe import SnmpProbe  # noqa: E402
from kape_itops.probes.snmp.settings import load_profiles  # noqa: E402
from kape_itops.secrets import Credential, Secret, SecretStore  # noqa: E402
from tests.support.snmp import ensure_snmpsim, free_udp_port  # noqa: E402

COMMUNITY = "bench-community"
PORT = 16161
PROFILES = ROOT / "probes" / "snmp"
BASE_OIDS = [str(v) for v in load_profiles(PROFILES).get("base").section("system").values()]
IF_COLUMNS = [
    str(v) for v in load_profiles(PROFILES).get("switch").section("interfaces")["columns"].values()
]
NETSNMP_ENV = dict(os.environ, MIBS="", MIBDIRS="", SNMP_PERSISTENT_DIR=tempfile.mkdtemp())


def addresses(n: int) -> list[str]:
    return [f"127.31.{i // 250}.{1 + i % 250}" for i in range(n)]


async def poll_itops(addrs: list[str], in_flight: int) -> tuple[float, dict[str, int]]:
    secrets = SecretStore(
        {
            "b": {
                "snmp": Credential("b", "snmp", {"version": "2c"}, {"community": Secret(COMMUNITY)})
            }
        },
        None,
    )
    t0 = time.perf_counter()
    probe = SnmpProbe(PROFILES)
    await probe.start(ProbeContext(secrets=secrets))
    gate = asyncio.Semaphore(in_flight)
    settings = {"profile": "base", "timeout_s": 2.0, "retries": 1}

    async def one(addr: str) -> ProbeStatus:
        async with gate:
            result = await probe.check(Target(addr, PORT, settings=settings, credential="b"))
            return result.status

    statuses = await asyncio.gather(*(one(a) for a in addrs))
    await probe.stop()
    elapsed = time.perf_counter() - t0
    counts: dict[str, int] = {}
    for st in statuses:
        counts[st.value] = counts.get(st.value, 0) + 1
    return elapsed, counts


def poll_netsnmp(addrs: list[str], parallel: int = 50) -> tuple[float, int]:
    targets = "\n".join(f"{a}:{PORT}" for a in addrs) + "\n"
    cmd = (
        f"xargs -P {parallel} -I{{}} snmpget -v2c -c {COMMUNITY} -t 2 -r 1 -On -Oq {{}} "
        + " ".join(BASE_OIDS)
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        ["bash", "-c", cmd],
        input=targets,
        capture_output=True,
        text=True,
        env=NETSNMP_ENV,
        timeout=600,
    )
    elapsed = time.perf_counter() - t0
    answered = sum(1 for line in out.stdout.splitlines() if line.startswith(".1.3.6.1.2.1.1.3.0 "))
    return elapsed, answered


async def walk_itops(port: int, repeats: int) -> tuple[list[float], int, float]:
    client = SnmpClient()
    t_cold = time.perf_counter()
    await client.start()
    auth = SnmpAuth(version="2c", community=Secret(COMMUNITY))
    ep = Endpoint("127.0.0.1", port, timeout_s=5.0, retries=1)
    times: list[float] = []
    rows = 0
    cold = 0.0
    for i in range(repeats):
        t0 = time.perf_counter()
        found = await client.walk(ep, auth, IF_COLUMNS, max_repetitions=25)
        times.append(time.perf_counter() - t0)
        if i == 0:
            cold = time.perf_counter() - t_cold
        rows = sum(len(v) for v in found.values())
    await client.close()
    return times, rows, cold


def bulkwalk(port: int, roots: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    lines = 0
    for root in roots:
        out = subprocess.run(
            [
                "snmpbulkwalk",
                "-v2c",
                "-c",
                COMMUNITY,
                "-On",
                "-Cr25",
                "-t",
                "5",
                f"127.0.0.1:{port}",
                root,
            ],
            capture_output=True,
            text=True,
            env=NETSNMP_ENV,
            timeout=300,
            check=True,
        )
        lines += len(out.stdout.splitlines())
    return time.perf_counter() - t0, lines


def main() -> int:
    agents = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    in_flight = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    for tool in ("snmpget", "snmpbulkwalk", "xargs"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: run 'make sysdeps'", file=sys.stderr)
            return 1
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    addrs = addresses(agents)
    walk_port = free_udp_port()
    print(
        f"starting snmpsim: {agents} agents on distinct loopback addresses + one 500-port switch …"
    )
    t0 = time.perf_counter()
    handle = start_snmpsim(
        [(a, PORT, "agent-basic") for a in addrs] + [("127.0.0.1", walk_port, "switch-500")],
        COMMUNITY,
        ready_timeout_s=300,
    )
    print(f"snmpsim ready in {time.perf_counter() - t0:.1f} s ({len(handle.processes)} processes)")
    failures = 0
    try:
        # Warm the simulator (its per-agent state) so neither poller pays for it.
        poll_netsnmp(addrs[:50])
        print(
            f"\n== fleet poll: {agents} agents, every-agent profile ({len(BASE_OIDS)} OIDs, one GET each)"
        )
        rows = []
        for label, run in (
            ("net-snmp snmpget, xargs -P 50", None),
            (f"kape-itops, {in_flight} in flight", in_flight),
        ):
            if run is None:
                results = [poll_netsnmp(addrs) for _ in range(3)]
                elapsed = statistics.median(r[0] for r in results)
                ok = min(r[1] for r in results)
                rows.append((label, elapsed, ok, ""))
            else:
                results2 = [asyncio.run(poll_itops(addrs, run)) for _ in range(3)]
                elapsed = statistics.median(r[0] for r in results2)
                ok = min(r[1].get("ok", 0) for r in results2)
                other = "; ".join(str(r[1]) for r in results2 if r[1].get("ok", 0) != agents)
                rows.append((label, elapsed, ok, other))
        for label, elapsed, ok, other in rows:
            print(
                f"  {label:36s} {elapsed:6.2f} s  {agents / elapsed:7.1f} devices/s  answered {ok}/{agents} {other}"
            )
            if ok != agents:
                failures += 1
                print(f"  FAIL: {label} reported live agents as not ok")
        ratio = rows[0][1] / rows[1][1]
        print(f"  ratio: kape-itops is {ratio:.2f}x the speed of parallel snmpget (target > 1)")
        if ratio <= 1:
            failures += 1

        print("\n== IF-MIB walk of the 500-interface agent")
        times, found, cold = asyncio.run(walk_itops(walk_port, 5))
        warm = statistics.median(times[1:])
        per_col, per_col_lines = min(
            (bulkwalk(walk_port, IF_COLUMNS) for _ in range(3)), key=lambda r: r[0]
        )
        tables, table_lines = min(
            (bulkwalk(walk_port, ["1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"]) for _ in range(3)),
            key=lambda r: r[0],
        )
        print(
            f"  kape-itops, 12 columns side by side   {warm:6.3f} s warm ({cold:.3f} s cold, incl. setup)  {found} values"
        )
        print(
            f"  snmpbulkwalk, the same 12 columns     {per_col:6.3f} s  {per_col_lines} values (12 processes)"
        )
        print(
            f"  snmpbulkwalk, ifTable + ifXTable      {tables:6.3f} s  {table_lines} values (2 processes)"
        )
        r1, r2 = warm / per_col, warm / tables
        print(
            f"  ratio: kape-itops / snmpbulkwalk = {r1:.2f}x (same columns), {r2:.2f}x (whole tables); target <= 5x"
        )
        if found != 12 * 500 or r1 > 5:
            failures += 1
    finally:
        handle.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
