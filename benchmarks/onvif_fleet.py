"""ONVIF fleet benchmark: N simulated cameras (default 200) checked in one run.

The simulator runs in its own process (``python -m kape_itops.lab.onvif_sim``) on 127.0.0.1;
this process runs the probe over every camera with bounded concurrency, as ``probe run`` does.
Printed: cameras/s, wall time against the 10 s target, the share of time spent per layer, and,
side by side, the same calls made camera by camera with plain onvif-zeep-async ``ONVIFCamera``
(update_xaddrs + GetDeviceInformation + GetProfiles + GetStreamUri + get_snapshot: the sequence
Home Assistant's integration runs) at the same concurrency.

    .venv/bin/python benchmarks/onvif_fleet.py [--cameras 200] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kape_itops.domain.enums import DeviceKind, ProbeStatus  # noqa: E402
from kape_itops.domain.inventory import Device  # noqa: E402
from kape_itops.domain.results import ProbeResult  # noqa: E402
from kape_itops.lab.onvif_sim import DEFAULT_PASSWORD, DEFAULT_USER  # noqa: E402
from kape_itops.probes.base import ProbeContext, Target  # noqa: E402
from kape_itops.probes.onvif.evaluate import LAYERS  # noqa: E402
from kape_itops.probes.onvif.probe import OnvifProbe  # noqa: E402
from kape_itops.secrets import Credential, Secret, SecretStore  # noqa: E402

PROBE_CPU_S = 0.0


def start_sim(count: int, nvr_every: int) -> tuple[subprocess.Popen[str], list[dict[str, Any]]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kape_itops.lab.onvif_sim",
            "--count",
            str(count),
            "--nvr-every",
            str(nvr_every),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("simulator did not start")
    return proc, json.loads(line)


def stop_sim(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


async def run_probe(
    endpoints: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[ProbeResult]]:
    secrets = SecretStore(
        {
            "lab": {
                "onvif": Credential(
                    "lab",
                    "onvif",
                    {"username": DEFAULT_USER},
                    {"password": Secret(DEFAULT_PASSWORD)},
                )
            }
        },
        None,
    )
    probe = OnvifProbe()
    await probe.start(ProbeContext(secrets=secrets, timeout_s=5.0))
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, ep: dict[str, Any]) -> ProbeResult:
        kind = DeviceKind.NVR if ep["kind"] == "nvr" else DeviceKind.CAMERA
        device = Device(
            asset_tag=f"CAM-{i:04d}",
            kind=kind,
            school="KPT-PSP",
            manufacturer=ep["manufacturer"],
            model=ep["model"],
            serial=ep["serial"],
        )
        target = Target(
            address=ep["address"],
            port=ep["port"],
            device=device,
            settings={"rtsp_port": ep["rtsp_port"]},
            credential="lab",
        )
        async with gate:
            return await probe.check(target)

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    results = await asyncio.gather(*(one(i, ep) for i, ep in enumerate(endpoints)))
    wall = time.perf_counter() - t0
    global PROBE_CPU_S
    PROBE_CPU_S = time.process_time() - cpu0
    await probe.stop()
    return wall, list(results)


async def run_plain_library(endpoints: list[dict[str, Any]], concurrency: int) -> tuple[float, int]:
    """The same fleet with plain ``ONVIFCamera`` (no layering, no RTSP, no JPEG check)."""
    from onvif import ONVIFCamera

    gate = asyncio.Semaphore(concurrency)
    ok = 0

    async def one(ep: dict[str, Any]) -> None:
        nonlocal ok
        async with gate:
            cam = ONVIFCamera(
                ep["address"],
                ep["port"],
                DEFAULT_USER,
                DEFAULT_PASSWORD,
                no_cache=True,
                adjust_time=True,
            )
            try:
                await cam.update_xaddrs()
                dm = await cam.create_devicemgmt_service()
                await dm.GetDeviceInformation()
                media = await cam.create_media_service()
                profiles = await media.GetProfiles()
                token = profiles[0].token
                await media.GetStreamUri(
                    {
                        "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                        "ProfileToken": token,
                    }
                )
                image = await cam.get_snapshot(token)
                ok += bool(image)
            finally:
                await cam.close()

    await one(endpoints[0])  # warm the library's WSDL cache, as the probe's start() does
    ok = 0
    t0 = time.perf_counter()
    await asyncio.gather(*(one(ep) for ep in endpoints))
    return time.perf_counter() - t0, ok


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--nvr-every", type=int, default=20, help="every Nth device is an NVR (0: none)"
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the plain-library comparison"
    )
    args = parser.parse_args()

    proc, endpoints = start_sim(args.cameras, args.nvr_every)
    try:
        sim_cpu0 = _proc_cpu(proc.pid)
        wall, results = asyncio.run(run_probe(endpoints, args.concurrency))
        sim_cpu = _proc_cpu(proc.pid) - sim_cpu0
        baseline = (
            None
            if args.no_baseline
            else asyncio.run(run_plain_library(endpoints, args.concurrency))
        )
    finally:
        stop_sim(proc)

    statuses = Counter(r.status for r in results)
    per_layer: Counter[str] = Counter()
    for r in results:
        for layer, ms in r.metrics.get("layer_ms", {}).items():
            per_layer[layer] += ms
    total_ms = sum(per_layer.values()) or 1.0
    n = len(results)
    print(
        f"ONVIF fleet: {n} simulated devices ({sum(1 for e in endpoints if e['kind'] == 'nvr')} NVRs), concurrency {args.concurrency}"
    )
    print(
        f"  kape-itops OnvifProbe : {wall:6.2f} s  {n / wall:7.1f} cameras/s   target < 10 s: {'met' if wall < 10 else 'MISSED'}"
    )
    if baseline is not None:
        bwall, bok = baseline
        print(
            f"  plain ONVIFCamera     : {bwall:6.2f} s  {n / bwall:7.1f} cameras/s   ({bok}/{n} snapshots; "
            f"no RTSP/JPEG/recording checks)  ratio {bwall / wall:.2f}x"
        )
    print(
        f"  CPU: probe {PROBE_CPU_S:.2f} s ({1000 * PROBE_CPU_S / n:.1f} ms/camera), simulator "
        f"{sim_cpu:.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("  statuses: " + ", ".join(f"{s.value} {statuses.get(s, 0)}" for s in ProbeStatus))
    print("  share of probe time per layer (sum over devices):")
    for layer in sorted(per_layer, key=int):
        name = LAYERS[int(layer)]
        print(
            f"    {layer} {name:<20} {per_layer[layer] / 1000:7.2f} s  {100 * per_layer[layer] / total_ms:5.1f} %"
        )
    bad = [r for r in results if r.status != ProbeStatus.OK]
    for r in bad[:5]:
        print(f"  not ok: {r.target}: {r.status.value} {r.reason}")
    return 0 if not bad and wall < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
