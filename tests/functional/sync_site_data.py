"""Data and peers for the site-side sync tests: a school's records written through the normal
write paths (InventoryRepo, ProbeRepo, DiscoveryRepo, BackupRepo), a real SyncServer over its own
database, and a transport wrapper that loses the link at chosen calls."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.enums import DeviceKind, ProbeStatus, RunStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import LinkError
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.sync.local import LocalTransport
from kape_itops.sync.server import SyncServer
from kape_itops.sync.site import SyncSite

SCHOOL = "KEP-DCP"
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def tags(n: int) -> list[str]:
    return [f"{SCHOOL}-{i:03d}" for i in range(1, n + 1)]


def seed_inventory(store: Store, devices: int, source: str = "test: seed") -> list[str]:
    """The school and ``devices`` devices (routers and cameras) with IPs."""
    names = tags(devices)
    ctx = ChangeContext(actor="seed", source=source, at=T0 - dt.timedelta(days=60))
    with store.write() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [SchoolUpsert(SCHOOL, {"name": "Kep Demo", "subnets": ("10.1.0.0/24",)})], ctx
        )
        repo.apply_devices(
            [
                DeviceUpsert(
                    t,
                    {
                        "kind": DeviceKind.ROUTER if i == 0 else DeviceKind.CAMERA,
                        "school": SCHOOL,
                        "ip": f"10.1.0.{i + 1}",
                        "probes": ("ping", "snmp"),
                    },
                )
                for i, t in enumerate(names)
            ],
            ctx,
        )
    return names


def add_runs(
    store: Store,
    names: list[str],
    rounds: int,
    start: dt.datetime = T0,
    step: dt.timedelta = dt.timedelta(minutes=5),
    finish: bool = True,
) -> list[int]:
    """``rounds`` probe runs, a ping (compact) and an SNMP (plain) result per device each."""
    with store.session() as s:
        ids = ProbeRepo(s).device_ids(names)
    runs = []
    with store.write() as s:
        repo = ProbeRepo(s)
        for k in range(rounds):
            at = start + k * step
            run = repo.start_run("collector", {"round": k}, at)
            batch: list[tuple[ProbeResult, int | None]] = []
            for i, tag in enumerate(names):
                t = at + dt.timedelta(milliseconds=10 * i + 1, microseconds=7)
                ok = (k + i) % 7 != 0
                ping: dict[str, Any] = {"sent": 3, "received": 3 if ok else 0}
                ping["loss_pct"] = 0.0 if ok else 100.0
                status = ProbeStatus.OK if ok else ProbeStatus.CRIT
                batch.append(
                    (
                        ProbeResult(
                            "ping", f"10.1.0.{i + 1}", status, "r", t, 3.25, ping, "icmp-raw", tag
                        ),
                        ids[tag],
                    )
                )
                snmp = {"sys_name": tag.lower(), "uptime_s": 1000 + k}
                batch.append(
                    (
                        ProbeResult(
                            "snmp",
                            f"10.1.0.{i + 1}",
                            ProbeStatus.OK,
                            "fine",
                            t + dt.timedelta(seconds=1),
                            40.0,
                            snmp,
                            "snmp-v2c",
                            tag,
                        ),
                        ids[tag],
                    )
                )
            repo.add_results(run, batch)
            if finish:
                repo.finish_run(
                    run,
                    RunStatus.COMPLETED,
                    {"results": len(batch)},
                    finished_at=at + dt.timedelta(seconds=20),
                )
            runs.append(run)
    return runs


def add_sweep(store: Store, at: dt.datetime, names: list[str]) -> int:
    hosts = tuple(
        SweepHost(
            ip=f"10.1.0.{i + 1}",
            mac=f"02:00:00:00:00:{i + 1:02x}",
            vendor="x",
            asset_tag=t,
            state=HostState.KNOWN,
            detail=None,
        )
        for i, t in enumerate(names)
    )
    rec = SweepRecord(SCHOOL, at, 2.5, "arp", ("10.1.0.0/24",), "collector", hosts, "eth0")
    with store.write() as s:
        return DiscoveryRepo(s).add_sweep(rec)


def add_backup(
    store: Store, tag: str, at: dt.datetime, content: str, run: int | None = None
) -> None:
    import hashlib

    with store.write() as s:
        repo = BackupRepo(s)
        device = repo.device_id(tag)
        assert device is not None
        repo.record(device, at, hashlib.sha256(content.encode()).hexdigest(), content, run)


def site_counts(store: Store) -> dict[str, int]:
    """Records a site holds: runs (finished), results, changes (not pulled), sweeps, backups."""
    with store.session() as s:
        q = lambda sql: int(s.execute(text(sql)).scalar() or 0)  # noqa: E731
        return {
            "runs": q("SELECT count(*) FROM probe_runs WHERE finished_at IS NOT NULL"),
            "results": q("SELECT count(*) FROM probe_results")
            + q("SELECT count(*) FROM ping_results"),
            "changes": q("SELECT count(*) FROM changes WHERE source NOT LIKE 'sync:pull%'"),
            "sweeps": q("SELECT count(*) FROM discovery_sweeps"),
            "backups": q("SELECT count(*) FROM config_backups"),
        }


def server_counts(store: Store) -> dict[str, int]:
    """Records the server holds that came from a site (origin ids set)."""
    with store.session() as s:
        q = lambda sql: int(s.execute(text(sql)).scalar() or 0)  # noqa: E731
        runs = "SELECT id FROM probe_runs WHERE origin_site_id IS NOT NULL"
        return {
            "runs": q("SELECT count(*) FROM probe_runs WHERE origin_site_id IS NOT NULL"),
            "results": q(f"SELECT count(*) FROM probe_results WHERE run_id IN ({runs})")
            + q(f"SELECT count(*) FROM ping_results WHERE run_id IN ({runs})"),
            "changes": q("SELECT count(*) FROM changes WHERE origin_site_id IS NOT NULL"),
            "sweeps": q("SELECT count(*) FROM discovery_sweeps WHERE origin_site_id IS NOT NULL"),
            "backups": q("SELECT count(*) FROM config_backups WHERE origin_site_id IS NOT NULL"),
        }


class Flaky:
    """A transport that loses the link at chosen push calls (1-based): ``before`` (nothing
    reaches the server) or ``after`` (the server committed, the ack is lost)."""

    def __init__(
        self, inner: LocalTransport, before: set[int] | None = None, after: set[int] | None = None
    ) -> None:
        self.inner = inner
        self.before = before or set()
        self.after = after or set()
        self.pushes = 0
        self.sent: list[bytes] = []

    def join(self, token: str, public_key: str, name: str, version: str) -> dict[str, Any]:
        return self.inner.join(token, public_key, name, version)

    def hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.inner.hello(payload)

    def push(self, batch: bytes) -> dict[str, Any]:
        self.pushes += 1
        if self.pushes in self.before:
            raise LinkError("connection reset (test)")
        self.sent.append(batch)
        ack = self.inner.push(batch)
        if self.pushes in self.after:
            raise LinkError("timed out reading the answer (test)")
        return ack

    def pull(self) -> dict[str, Any]:
        return self.inner.pull()


def server_for(store: Store, devices: int) -> SyncServer:
    seed_inventory(store, devices, source="test: server seed")
    return SyncServer(store)


def join(
    site_store: Store, server: SyncServer, secrets: Path, url: str = "https://127.0.0.1:1"
) -> tuple[SyncSite, LocalTransport]:
    """A site joined to ``server`` through a real enrolment token."""
    token = server.enroll(SCHOOL).token
    site = SyncSite(site_store, "officer", secrets)
    transport = LocalTransport(server)
    site.join(url, token, transport, name="collector-1")
    return site, transport
