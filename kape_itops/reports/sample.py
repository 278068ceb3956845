"""Deterministic sample schools, devices and probe history for demos, tests and benchmarks.

The history follows the metric conventions (:mod:`kape_itops.domain.results`) and contains
one of every problem a report shows: an outage, a device down now, a gap with no data, low
toner, a nearly full NVR disk, clock drift, a camera not recording, an interface down, a
reboot, a configuration change and a device-supplied string with HTML in it;
:func:`generate_discovery` adds discovery sweeps with unknown devices and a camera gone missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kape_itops.domain import ping as ping_text
from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus, RunStatus, SchoolLevel
from kape_itops.domain.inventory import ChangeContext, DeviceFilter, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import worst
from kape_itops.probes.onvif import findings as onvif_findings
from kape_itops.probes.onvif.evaluate import drift_finding
from kape_itops.probes.snmp import findings as snmp_findings
from kape_itops.probes.snmp.checks.printer import supply_limits, supply_status
from kape_itops.probes.snmp.checks.storage import disk_limits, disk_status
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import record_sweeps
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.report_repo import ReportRepo

SCHOOLS = (
    ("KPT-PSP", "Prey Speu Primary School", SchoolLevel.PRIMARY),
    ("KPT-PSH", "Prek Sdey High School", SchoolLevel.SECONDARY),
    ("KPT-TKP", "Trapeang Kak Primary School", SchoolLevel.PRIMARY),
    ("KPT-CHS", "Chhouk High School", SchoolLevel.SECONDARY),
    ("KPT-BKP", "Boeng Kak Primary School", SchoolLevel.PRIMARY),
    ("KPT-KSH", "Kampong Seila High School", SchoolLevel.SECONDARY),
    ("KPT-AKP", "Angkor Chey Primary School", SchoolLevel.PRIMARY),
    ("KPT-DTH", "Dang Tong High School", SchoolLevel.SECONDARY),
    ("KPT-TBP", "Tuk Meas Primary School", SchoolLevel.PRIMARY),
    ("KPT-BNH", "Banteay Meas High School", SchoolLevel.SECONDARY),
    ("KPT-KTP", "Kampong Trach Primary School", SchoolLevel.PRIMARY),
    ("KPT-LKH", "Lbaeng Khmer High School", SchoolLevel.SECONDARY),
)
FIXED = (
    (DeviceKind.ROUTER, 1, 1),
    (DeviceKind.SWITCH, 2, 2),
    (DeviceKind.HOTSPOT, 4, 6),
    (DeviceKind.PRINTER, 20, 4),
    (DeviceKind.NVR, 30, 1),
    (DeviceKind.CAMERA, 31, 29),
)
"""(kind, first host number, how many at most) per school, by the shared address plan."""
SUPPLY_NAMES = ("Black Toner", 'Cyan <Toner> "CX-1"')


@cache
def _limits() -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(warn, crit) of toner, disk and clock drift, read from the probe profiles (the same
    files and rules the real probes use); the sample stores its verdicts in ``levels``."""
    snmp = snmp_findings.fallback_limits()
    drift = onvif_findings.fallback_limits()["clock_drift_s"]
    return supply_limits(snmp), disk_limits(snmp), (drift["warn"], drift["crit"])

FUNDING = ("IDEAL", "ICT4E-2025", None)
_METHODS = {"ping": "icmp", "snmp": "snmp-v2c", "onvif": "onvif", "ssh": "ssh"}
_STATUS = {s.value: s for s in ProbeStatus}
MODELS = {
    DeviceKind.ROUTER: ("MikroTik", "hEX S"),
    DeviceKind.SWITCH: ("Cisco", "CBS250-24T"),
    DeviceKind.HOTSPOT: ("TP-Link", "EAP225"),
    DeviceKind.PRINTER: ("HP", "LaserJet M404dn"),
    DeviceKind.NVR: ("Hikvision", "DS-7616NI"),
    DeviceKind.CAMERA: ("Hikvision", "DS-2CD1043"),
    DeviceKind.DESKTOP: ("Dell", "OptiPlex 3000"),
}


@dataclass(frozen=True, slots=True)
class SampleDevice:
    """A device in the sample history."""

    id: int
    tag: str
    kind: DeviceKind
    ip: str
    index: int


@dataclass(frozen=True, slots=True)
class GenStats:
    """What the generator wrote."""

    runs: int
    results: int
    seconds: float


def seed_inventory(
    store: Store, schools: int = 3, devices_per_school: int = 20, today: dt.date | None = None
) -> int:
    """Create sample schools and devices (deployed, with addresses); returns devices created."""
    if not 1 <= schools <= len(SCHOOLS):
        raise ValueError(f"schools must be 1..{len(SCHOOLS)}")
    today = today or dt.date.today()
    ctx = ChangeContext("sample", "kape_itops.reports.sample", dt.datetime.now(dt.UTC))
    school_ups: list[SchoolUpsert] = []
    device_ups: list[DeviceUpsert] = []
    n = 0
    for i, (code, name, level) in enumerate(SCHOOLS[:schools], start=1):
        school_ups.append(
            SchoolUpsert(code, {"name": name, "level": level, "subnets": (f"10.30.{i}.0/24",)})
        )
        for kind, host, ip in _plan(i, devices_per_school):
            n += 1
            maker, model = MODELS.get(kind, ("Generic", "Device"))
            warranty = today + dt.timedelta(days=(n * 53) % 1400 - 60)
            device_ups.append(
                DeviceUpsert(
                    f"KAPE-{i:02d}-{host:03d}",
                    {
                        "school": code,
                        "kind": kind,
                        "status": DeviceStatus.DEPLOYED,
                        "ip": ip,
                        "manufacturer": maker,
                        "model": model,
                        "funding": FUNDING[n % len(FUNDING)],
                        "warranty_until": warranty,
                        "room": "Lab 1" if kind == DeviceKind.DESKTOP else "Office",
                    },
                )
            )
    with store.write() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(school_ups, ctx)
        repo.apply_devices(device_ups, ctx)
    return n


def _plan(school: int, count: int) -> list[tuple[DeviceKind, int, str]]:
    out: list[tuple[DeviceKind, int, str]] = []
    scale = max(1, count // 20)
    for kind, first, most in FIXED:
        take = min(most, {DeviceKind.CAMERA: 4, DeviceKind.HOTSPOT: 2}.get(kind, 1) * scale)
        take = min(take, most) if kind not in (DeviceKind.ROUTER, DeviceKind.NVR) else 1
        out.extend((kind, first + k, f"10.30.{school}.{first + k}") for k in range(take))
    host = 100
    while len(out) < count and host < 255:
        out.append((DeviceKind.DESKTOP, host, f"10.30.{school}.{host}"))
        host += 1
    return out[:count]


def generate_history(
    store: Store,
    start: dt.datetime,
    end: dt.datetime,
    interval: dt.timedelta = dt.timedelta(minutes=5),
    *,
    extra_every: int = 12,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> GenStats:
    """Write one probe run per ``interval`` over ``[start, end)`` for every deployed device.

    Ping runs every tick; SNMP (printers, NVRs, switches, routers, hotspots), ONVIF (cameras)
    and SSH (routers) every ``extra_every`` ticks. Runs, results and backups are written by the
    same repository calls as real probe runs and backups, in one transaction.
    """
    t0 = time.perf_counter()
    step = int(interval.total_seconds())
    with store.session() as s:
        devices = _sample_devices(s)
    if not devices or step <= 0:
        return GenStats(0, 0, 0.0)
    rng = random.Random(seed)  # noqa: S311 (reproducible sample data)
    ticks = int((end - start).total_seconds()) // step
    world = _World(devices, start, ticks, step, rng)
    runs = results = reported = 0
    with store.write() as s:
        repo, backups = ProbeRepo(s), BackupRepo(s)
        for k in range(ticks):
            at = start + dt.timedelta(seconds=k * step)
            run_id = repo.start_run("sample", {}, at)
            extra = k % extra_every == 0
            batch = [(r, d.id) for d in devices for r in world.results(d, k, at, extra)]
            results += repo.add_results(run_id, batch)
            repo.finish_run(run_id, RunStatus.COMPLETED, finished_at=at + dt.timedelta(seconds=20))
            runs += 1
            for d, changed_at in world.config_changes(k, at):
                config = _config(d.tag, k)
                backups.record(d.id, changed_at, _sha256(config), config, run_id)
            if progress and results - reported >= 20000:
                reported = results
                progress(k + 1, ticks)
    return GenStats(runs, results, time.perf_counter() - t0)


def _sample_devices(s: Any) -> list[SampleDevice]:
    inv = InventoryRepo(s)
    ids = {r.asset_tag: r.id for r in ReportRepo(s).device_refs()}
    out = []
    for i, d in enumerate(inv.iter_devices()):
        if d.status == DeviceStatus.DEPLOYED and d.ip:
            out.append(SampleDevice(ids[d.asset_tag], d.asset_tag, d.kind, d.ip, i))
    return out


def _sha(tag: str, k: int) -> str:
    return hashlib.sha256(f"{tag}:{k}".encode()).hexdigest()


def _config(tag: str, k: int) -> str:
    return f"# sample configuration of {tag}, change {k}\n/system identity set name={tag}\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _World:
    """The scripted behaviour of every sample device over the ticks."""

    def __init__(
        self,
        devices: list[SampleDevice],
        start: dt.datetime,
        ticks: int,
        step: int,
        rng: random.Random,
    ) -> None:
        self.rng = rng
        self.ticks = ticks
        self.step = step
        self.start = start
        by_kind: dict[DeviceKind, list[SampleDevice]] = {}
        for d in devices:
            by_kind.setdefault(d.kind, []).append(d)
        first = {k: v[0].tag for k, v in by_kind.items()}
        self.down_now = by_kind.get(DeviceKind.HOTSPOT, devices)[0].tag
        self.low_toner = first.get(DeviceKind.PRINTER)
        self.full_nvr = first.get(DeviceKind.NVR)
        cams = by_kind.get(DeviceKind.CAMERA, [])
        self.drift_cam = cams[0].tag if cams else None
        self.idle_cam = cams[1].tag if len(cams) > 1 else None
        self.if_switch = first.get(DeviceKind.SWITCH)
        self.reboot_router = first.get(DeviceKind.ROUTER)
        self.down_ticks = max(1, 3 * 3600 // step)
        self.outage = (ticks // 2, ticks // 2 + max(1, 6 * 3600 // step))
        self.gap = (ticks // 4, ticks // 4 + max(1, ticks // 8))
        self.reboot_tick = ticks * 2 // 3
        self.pages: dict[str, int] = {}
        routers = by_kind.get(DeviceKind.ROUTER, [])
        self.router = routers[0] if routers else None
        self.change_tick = ticks // 3 // 12 * 12

    def config_changes(self, k: int, at: dt.datetime) -> list[tuple[SampleDevice, dt.datetime]]:
        """The router's configuration is changed once, a third into the period."""
        if k != self.change_tick or self.router is None:
            return []
        return [(self.router, at)]

    def _down(self, d: SampleDevice, k: int) -> bool:
        if d.tag == self.down_now and k >= self.ticks - self.down_ticks:
            return True
        return d.index % 17 == 3 and self.outage[0] <= k < self.outage[1]

    def results(self, d: SampleDevice, k: int, at: dt.datetime, extra: bool) -> list[ProbeResult]:
        if d.index % 29 == 5 and self.gap[0] <= k < self.gap[1]:
            return []
        down = self._down(d, k)
        out = [self._ping(d, at, down)]
        if extra and not down:
            if d.kind in (
                DeviceKind.PRINTER,
                DeviceKind.NVR,
                DeviceKind.SWITCH,
                DeviceKind.ROUTER,
                DeviceKind.HOTSPOT,
            ):
                out.append(self._snmp(d, k, at))
            if d.kind == DeviceKind.CAMERA:
                out.append(self._onvif(d, at))
            if d.kind == DeviceKind.ROUTER:
                out.append(self._ssh(d, k, at))
        return out

    def _result(
        self,
        d: SampleDevice,
        probe: str,
        status: str,
        reason: str,
        at: dt.datetime,
        metrics: dict[str, Any],
    ) -> ProbeResult:
        return ProbeResult(
            probe,
            d.ip,
            _STATUS[status],
            reason,
            at,
            round(self.rng.uniform(2, 40), 1),
            metrics,
            _METHODS[probe],
            d.tag,
        )

    def _ping(self, d: SampleDevice, at: dt.datetime, down: bool) -> ProbeResult:
        if down:
            m = {"sent": 3, "received": 0, "loss_pct": 100.0}
            return self._result(d, "ping", "crit", ping_text.down(3), at, m)
        base = 1.5 + (d.index % 12) * 2.5
        rtt = round(base * self.rng.uniform(0.7, 1.6), 2)
        lost = 1 if self.rng.random() < 0.02 else 0
        status = "warn" if lost else "ok"
        if self.rng.random() < 0.003:
            m = {"sent": 3, "received": 0}
            return self._result(d, "ping", "unknown", "no route to host", at, m)
        m = {
            "sent": 3,
            "received": 3 - lost,
            "loss_pct": round(100 * lost / 3, 1),
            "rtt_min_ms": round(rtt * 0.8, 2),
            "rtt_avg_ms": rtt,
            "rtt_max_ms": round(rtt * 1.3, 2),
            "rtt_stddev_ms": round(rtt * 0.1, 2),
            "jitter_ms": round(rtt * 0.05, 2),
        }
        reason = ping_text.summary(3, 3 - lost, m["loss_pct"], rtt, m["jitter_ms"])
        if lost:
            reason = f"loss_pct {m['loss_pct']:g} > 20 (warn); {reason}"
        return self._result(d, "ping", status, reason, at, m)

    def _snmp(self, d: SampleDevice, k: int, at: dt.datetime) -> ProbeResult:
        frac = k / max(1, self.ticks - 1)
        uptime = 86400 * 40 + k * self.step
        m: dict[str, Any] = {"sys_name": d.tag.lower(), "uptime_s": uptime, "rebooted": False}
        levels: dict[str, str] = {}
        status, reason = "ok", "all readings normal"
        if d.tag == self.reboot_router and k >= self.reboot_tick:
            m["uptime_s"] = (k - self.reboot_tick) * self.step + 60
            if k - self.reboot_tick < 12:
                m["rebooted"] = True
                status, reason = "warn", "rebooted"
        if d.kind == DeviceKind.PRINTER:
            start = 80 - (d.index % 5) * 8
            end = 4 if d.tag == self.low_toner else start - 25
            black = round(start + (end - start) * frac)
            cyan = round(60 - 20 * frac)
            m["supplies"] = [
                {"name": SUPPLY_NAMES[0], "level": black * 50, "max": 5000, "pct": black},
                {"name": SUPPLY_NAMES[1], "level": cyan * 30, "max": 3000, "pct": cyan},
            ]
            if at.hour <= 10:  # school hours in Cambodia (UTC+7)
                self.pages[d.tag] = self.pages.get(d.tag, 10000) + self.rng.randint(0, 400)
            m["page_count"] = self.pages.setdefault(d.tag, 10000)
            for x in m["supplies"]:
                verdict = supply_status(x["pct"], *_limits()[0])
                levels[f"supplies:{x['name']}"] = verdict.value
                if verdict != ProbeStatus.OK:
                    status, reason = _worse(status, verdict.value), f"{x['name']} {x['pct']}%"
        if d.kind == DeviceKind.NVR:
            top = 93 if d.tag == self.full_nvr else 78
            m["disk_used_pct"] = pct = round(top - 12 * (1 - frac), 1)
            verdict = disk_status(pct, *_limits()[1])
            levels["disk_used_pct"] = verdict.value
            if verdict != ProbeStatus.OK:
                status, reason = _worse(status, verdict.value), f"disk {pct:g}% used"
        if d.kind == DeviceKind.SWITCH:
            m["if_down"] = ["Gi0/7"] if d.tag == self.if_switch else []
            if m["if_down"]:
                levels["if_down:Gi0/7"] = "crit"  # an uplink
                status, reason = "crit", "uplink down: Gi0/7 down"
        if d.kind == DeviceKind.HOTSPOT:
            m["clients"] = self.rng.randint(0, 35)
        m["levels"] = levels
        return self._result(d, "snmp", status, reason, at, m)

    def _onvif(self, d: SampleDevice, at: dt.datetime) -> ProbeResult:
        drift = 92.0 if d.tag == self.drift_cam else round(self.rng.uniform(-1.5, 1.5), 1)
        recording = d.tag != self.idle_cam
        levels = {
            "clock_drift_s": drift_finding(drift, *_limits()[2]).status.value,
            "recording": "ok" if recording else "crit",
        }
        status = "ok"
        for verdict in levels.values():
            status = _worse(status, verdict)
        m = {
            "clock_drift_s": drift,
            "layer": "media",
            "manufacturer": "Hikvision",
            "model": "DS-2CD1043",
            "recording": recording,
            "levels": levels,
        }
        return self._result(d, "onvif", status, "camera answered", at, m)

    def _ssh(self, d: SampleDevice, k: int, at: dt.datetime) -> ProbeResult:
        changed = k == self.ticks // 3 // 12 * 12
        m = {
            "config_sha256": _sha(d.tag, 1 if k >= self.ticks // 3 else 0),
            "config_changed": changed,
        }
        return self._result(d, "ssh", "ok", "configuration saved", at, m)


def _worse(a: str, b: str) -> str:
    return worst([ProbeStatus(a), ProbeStatus(b)]).value


UNKNOWN_AP = "24:a4:3c:5e:01:77"
UNKNOWN_PHONE = "da:a1:19:00:42:01"
UNKNOWN_CAMERA_NAME = 'IPC <img src=x onerror=alert(1)> "Lobby"'


def generate_discovery(store: Store, start: dt.datetime, end: dt.datetime) -> list[int]:
    """Sweeps of the first sample school: ARP at ``start`` and an hour before ``end``, then ONVIF.

    Every deployed device answers except the school's last camera; an unknown Ubiquiti access
    point (seen in both ARP sweeps), a phone with a randomised MAC and an ONVIF camera whose
    name holds HTML are on the network.
    """
    with store.session() as s:
        repo = InventoryRepo(s)
        school = repo.school(SCHOOLS[0][0])
        if school is None:
            return []
        devices = [
            d
            for d in repo.iter_devices(DeviceFilter(schools=(school.code,)))
            if d.status == DeviceStatus.DEPLOYED and d.ip
        ]
    cameras = {d.asset_tag for d in devices if d.kind == DeviceKind.CAMERA}
    gone = max(cameras, default=None)
    net = tuple(school.subnets)
    seen = [SweepHost(d.ip or "", None, None, d.asset_tag, HostState.KNOWN) for d in devices]
    now_seen = [h for h in seen if h.asset_tag != gone]
    missed = [
        SweepHost(h.ip, None, None, h.asset_tag, HostState.MISSING, "camera")
        for h in seen
        if h.asset_tag == gone
    ]
    prefix = net[0].rsplit(".", 1)[0] if net else "10.30.1"
    ap = SweepHost(f"{prefix}.201", UNKNOWN_AP, "Ubiquiti", None, HostState.UNKNOWN)
    phone = SweepHost(f"{prefix}.202", UNKNOWN_PHONE, "(randomised MAC)", None, HostState.UNKNOWN)
    camera = SweepHost(
        f"{prefix}.203",
        None,
        None,
        None,
        HostState.UNKNOWN,
        f"name {UNKNOWN_CAMERA_NAME}; ONVIF endpoint urn:uuid:sample-lobby",
    )

    def sweep(at: dt.datetime, method: str, found: list[SweepHost]) -> SweepRecord:
        return SweepRecord(school.code, at, 2.1, method, net, "sample", tuple(found), "eth0")

    return record_sweeps(
        store,
        [
            sweep(start, "arp", [*seen, ap]),
            sweep(end - dt.timedelta(hours=1), "arp", [*now_seen, *missed, ap, phone]),
            sweep(
                end - dt.timedelta(minutes=30),
                "onvif",
                [*(h for h in now_seen if h.asset_tag in cameras), *missed, camera],
            ),
        ],
    )


def write_sample_report(
    out: Path, db_url: str, schools: int = 3, devices_per_school: int = 20, days: int = 7
) -> Path:
    """Build a sample database at ``db_url`` (empty) and write its HTML report to ``out``."""
    from kape_itops.reports.build import ReportOptions, build_report
    from kape_itops.reports.model import Period
    from kape_itops.reports.render_html import write_html

    store = Store(db_url)
    try:
        store.upgrade()
        seed_inventory(store, schools, devices_per_school)
        end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        start = end - dt.timedelta(days=days)
        generate_history(store, start, end)
        generate_discovery(store, start, end)
        report = build_report(
            store, Period(start, end), ReportOptions(title="Sample health report")
        )
        return write_html(report, out)
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> None:
    """``python -m kape_itops.reports.sample OUT.html [--db URL]``: a sample report."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--db", default="sqlite:///itops-sample.db", help="an empty database")
    ap.add_argument("--schools", type=int, default=3)
    ap.add_argument("--devices", type=int, default=20, help="devices per school")
    ap.add_argument("--days", type=int, default=7)
    a = ap.parse_args(argv)
    print(write_sample_report(a.out, a.db, a.schools, a.devices, a.days))


if __name__ == "__main__":
    main()
