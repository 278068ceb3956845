"""SSH backups of a fleet: 50 simulated devices backed up in one run, devices/s.

Usage: .venv/bin/python benchmarks/ssh_fleet.py [DEVICES] [CONCURRENCY]   (default: 50, 16)

The vendor-CLI simulator (half MikroTik, half Cisco) runs in a child process on 127.0.0.1, so
the simulator's crypto does not share the benchmark's interpreter. Measured side by side:

- ``itops`` backup service: bounded thread pool, host keys pinned (--trust-new on the first
  run), fetch + scrub + SHA-256 + store in SQLite; then a second run where every configuration
  is unchanged;
- ``itops`` health checks of the same fleet (every command of the command sets, parsed);
- the usual script: a plain sequential netmiko loop (ConnectHandler, send_command, disconnect)
  fetching the same configurations without storing them.

Target: the first itops run under 30 s for 50 devices at the default concurrency.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kape_itops.backups.service import BackupService, BackupSettings  # noqa: E402
from kape_itops.domain.backups import BackupStatus  # noqa: E402
from kape_itops.domain.enums import DeviceKind, ProbeStatus  # noqa: E402
from kape_itops.domain.inventory import DeviceFilter  # noqa: E402
from kape_itops.domain.results import ProbeResult  # noqa: E402
from kape_itops.lab.ssh_sim import (  # noqa: E402
    LAB_ENABLE_SECRET,
    LAB_PASSWORD,
    LAB_USERNAME,
    sim_devices,
    start_ssh_sim,
)
from kape_itops.probes.addressmap import load_address_map  # noqa: E402
from kape_itops.probes.base import ProbeContext, Target  # noqa: E402
from kape_itops.probes.ssh.client import SshLogin  # noqa: E402
from kape_itops.probes.ssh.hostkeys import KnownHosts  # noqa: E402
from kape_itops.probes.ssh.probe import SshProbe  # noqa: E402
from kape_itops.probes.ssh.settings import load_command_sets  # noqa: E402
from kape_itops.secrets import Secret  # noqa: E402
from kape_itops.store.db import Store  # noqa: E402
from tests.support.sshd import seed_devices, write_lab_state  # noqa: E402


def _serve(count: int, conn: Any) -> None:
    handle = start_ssh_sim(sim_devices(count))
    conn.send([(d.platform, d.port) for d in handle.devices])
    conn.recv()  # wait for "stop"
    handle.stop()


def _sequential_netmiko(devices: list[tuple[str, int]]) -> float:
    from netmiko import ConnectHandler

    commands = {"cisco_ios": "show running-config", "mikrotik_routeros": "/export terse"}
    t0 = time.perf_counter()
    for platform, port in devices:
        conn = ConnectHandler(
            device_type=platform,
            host="127.0.0.1",
            port=port,
            username=LAB_USERNAME,
            password=LAB_PASSWORD,
            secret=LAB_ENABLE_SECRET,
        )
        if platform == "cisco_ios":
            conn.enable()
        conn.send_command(commands[platform])
        conn.disconnect()
    return time.perf_counter() - t0


def _checks(
    devices: list[tuple[str, int]], work: Path, login: SshLogin, concurrency: int
) -> tuple[float, int]:
    """Health checks (every shipped command, parsed) of the whole fleet with the SSH probe."""

    async def go() -> list[ProbeResult]:
        probe = SshProbe(
            probes_dir=ROOT / "probes",
            known_hosts=KnownHosts(work / "known_hosts"),
            login=login,
            concurrency=concurrency,
        )
        await probe.start(ProbeContext())
        try:
            targets = [Target("127.0.0.1", port, settings={"platform": p}) for p, port in devices]
            return list(await asyncio.gather(*(probe.check(t) for t in targets)))
        finally:
            await probe.stop()

    t0 = time.perf_counter()
    results = asyncio.run(go())
    return time.perf_counter() - t0, sum(r.status == ProbeStatus.OK for r in results)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve, args=(count, child), daemon=True)
    proc.start()
    try:
        devices: list[tuple[str, int]] = parent.recv()
        work = Path(tempfile.mkdtemp(prefix="itops-bench-ssh-"))
        store = Store(f"sqlite:///{work / 'bench.db'}")
        store.upgrade()
        rows, ports = [], {}
        for i, (platform, port) in enumerate(devices):
            ip = f"10.30.{i // 8 + 1}.{i % 8 + 1}"
            kind = DeviceKind.ROUTER if platform == "mikrotik_routeros" else DeviceKind.SWITCH
            rows.append({"tag": f"NET-{i:03d}", "kind": kind, "ip": ip, "platform": platform})
            ports[ip] = port
        seed_devices(store, rows)
        amap = load_address_map(write_lab_state(work / "state.json", ports))
        login = SshLogin(
            LAB_USERNAME, Secret(LAB_PASSWORD), enable_secret=Secret(LAB_ENABLE_SECRET)
        )

        def service(trust: bool) -> BackupService:
            return BackupService(
                store,
                "bench",
                load_command_sets(ROOT / "probes"),
                BackupSettings(
                    KnownHosts(work / "known_hosts", trust_new=trust),
                    login=login,
                    concurrency=concurrency,
                ),
            )

        t0 = time.perf_counter()
        first = asyncio.run(service(True).run(DeviceFilter(), amap))
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = asyncio.run(service(False).run(DeviceFilter(), amap))
        t_second = time.perf_counter() - t0
        t_check, checked_ok = _checks(devices, work, login, concurrency)
        t_seq = _sequential_netmiko(devices)
        store.dispose()
    finally:
        parent.send("stop")
        proc.join(timeout=30)

    stored = first.count(BackupStatus.FIRST)
    unchanged = second.count(BackupStatus.UNCHANGED)
    print(
        f"SSH fleet backup: {count} simulated devices (MikroTik + Cisco), concurrency {concurrency}"
    )
    print(f"{'tool':44} {'seconds':>8} {'devices/s':>10} {'vs netmiko loop':>16}")
    for name, secs in (
        (f"itops ssh backup, first run ({stored} stored)", t_first),
        (f"itops ssh backup, again ({unchanged} unchanged)", t_second),
        (f"itops ssh check, health commands ({checked_ok} ok)", t_check),
        ("plain sequential netmiko loop (no storing)", t_seq),
    ):
        print(f"{name:44} {secs:8.2f} {count / secs:10.1f} {t_seq / secs:15.1f}x")
    target = "met" if t_first < 30 else "MISSED"
    print(f"target: {count} backups in under 30 s -> {target} ({t_first:.1f} s)")
    failed = first.count(BackupStatus.FAILED) + second.count(BackupStatus.FAILED)
    if failed or stored != count or unchanged != count or checked_ok != count:
        print(
            f"error: {failed} failed, {stored} stored, {unchanged} unchanged, "
            f"{checked_ok} checks ok",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
