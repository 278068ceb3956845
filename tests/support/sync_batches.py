"""Wire-format batches for the sync server tests (what a site would push), and a seeded store."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.sync import FORMAT
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
PING_METRICS = {
    "sent": 3,
    "received": 3,
    "loss_pct": 0.0,
    "rtt_min_ms": 1.0,
    "rtt_avg_ms": 1.5,
    "rtt_max_ms": 2.0,
    "rtt_stddev_ms": 0.25,
    "jitter_ms": 0.125,
}


def seed(store: Store, at: dt.datetime = T0) -> None:
    """Schools KEP-A and KEP-B, devices A-1, A-2 (KEP-A) and B-1 (KEP-B)."""
    ctx = ChangeContext("seed", "test seed", at)
    switch = DeviceKind("switch")
    with store.write() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [SchoolUpsert("KEP-A", {"name": "School A"}), SchoolUpsert("KEP-B", {"name": "B"})],
            ctx,
        )
        repo.apply_devices(
            [
                DeviceUpsert("A-1", {"kind": switch, "school": "KEP-A", "ip": "10.1.0.1"}),
                DeviceUpsert("A-2", {"kind": switch, "school": "KEP-A", "ip": "10.1.0.2"}),
                DeviceUpsert("B-1", {"kind": switch, "school": "KEP-B", "ip": "10.2.0.1"}),
            ],
            ctx,
        )


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def batch(
    site: str,
    stream: str,
    items: list[dict[str, Any]],
    last: int | None = None,
    school: str = "KEP-A",
    sent_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A batch document."""
    return {
        "format": FORMAT,
        "site": site,
        "school": school,
        "sent_at": iso(sent_at or dt.datetime.now(dt.UTC)),
        "version": "0.1.0",
        "backlog": 0,
        "stream": stream,
        "items": items,
        "last": last if last is not None else max((i["id"] for i in items), default=0),
    }


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def run(
    rid: int,
    at: dt.datetime = T0,
    tags: tuple[str | None, ...] = ("A-1", "A-2"),
    probe: str = "ping",
) -> dict[str, Any]:
    """A finished run with one result per tag (a ping, or another probe's with a metric)."""
    n = len(tags)
    metrics = [dict(PING_METRICS) if probe == "ping" else {"uptime_s": 100} for _ in tags]
    start = at.timestamp()
    return {
        "id": rid,
        "started_at": iso(at),
        "finished_at": iso(at + dt.timedelta(seconds=5)),
        "status": "completed",
        "actor": "schedule",
        "selection": {"probes": [probe]},
        "counts": {"ok": n, "results": n},
        "note": None,
        "results": {
            "tag": list(tags),
            "target": [f"10.1.0.{i + 1}" for i in range(n)],
            "probe": [probe] * n,
            "status": ["ok"] * n,
            "reason": [""] * n,
            "method": ["icmp-raw" if probe == "ping" else None] * n,
            "metrics": metrics,
            "at": [round(start + i * 0.001, 6) for i in range(n)],
            "duration_ms": [12.5] * n,
            "attempts": [1] * n,
        },
    }


def change(
    cid: int,
    key: str,
    field: str | None,
    old: str | None,
    new: str | None,
    at: dt.datetime,
    action: str = "update",
    entity: str = "device",
    actor: str = "officer",
) -> dict[str, Any]:
    """A change-log entry as a site pushes it."""
    return {
        "id": cid,
        "at": iso(at),
        "actor": actor,
        "entity": entity,
        "key": key,
        "action": action,
        "field": field,
        "old": old,
        "new": new,
        "source": "cli: inventory set",
        "source_sha256": None,
    }


def sweep(sid: int, school: str = "KEP-A", at: dt.datetime = T0) -> dict[str, Any]:
    return {
        "id": sid,
        "started_at": iso(at),
        "duration_s": 2.5,
        "method": "arp",
        "interface": "eth0",
        "subnets": ["10.1.0.0/24"],
        "actor": "schedule",
        "counts": {"known": 1},
        "school": school,
        "hosts": [
            {
                "ip": "10.1.0.1",
                "mac": "00:11:22:33:44:55",
                "vendor": "Cisco",
                "asset_tag": "A-1",
                "state": "known",
                "detail": None,
            }
        ],
    }


def backup(bid: int, tag: str = "A-1", run_id: int | None = None) -> dict[str, Any]:
    return {
        "id": bid,
        "tag": tag,
        "taken_at": iso(T0),
        "sha256": "ab" * 32,
        "changed": True,
        "content": "hostname sw1\n",
        "run": run_id,
    }
