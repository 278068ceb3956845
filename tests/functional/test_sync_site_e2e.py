"""End to end: a collector offline for 30 days catches up with the server in bounded batches.

The history (probe rounds every 20 minutes, a discovery sweep and a router backup a day,
inventory edits) is written through the normal write paths; the site pushes it to a real
SyncServer over LocalTransport, on both backends. Memory stays near one batch (tracemalloc
peak against the bytes sent), the server then holds exactly what the site holds, and a second
sync sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from pathlib import Path
from typing import Any

from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.sync.local import LocalTransport
from kape_itops.sync.site import SyncReport, SyncSite
from tests.functional.sync_site_data import (
    SCHOOL,
    T0,
    add_backup,
    add_runs,
    add_sweep,
    join,
    seed_inventory,
    server_counts,
    server_for,
    site_counts,
)
from tests.functional.test_sync_site import stores  # noqa: F401  (the fixture)

DAYS = 30
STEP = dt.timedelta(minutes=20)
DEVICES = 3
BATCH = 600


class Counting:
    """A transport that records the size and results of every batch it carries."""

    def __init__(self, inner: LocalTransport) -> None:
        self.inner = inner
        self.sizes: list[int] = []
        self.results: list[int] = []

    def join(self, token: str, public_key: str, name: str, version: str) -> dict[str, Any]:
        return self.inner.join(token, public_key, name, version)

    def hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.inner.hello(payload)

    def push(self, batch: bytes) -> dict[str, Any]:
        self.sizes.append(len(batch))
        doc = json.loads(batch)
        if doc["stream"] == "runs":
            self.results.append(sum(len(i["results"]["at"]) for i in doc["items"]))
        return self.inner.push(batch)

    def pull(self) -> dict[str, Any]:
        return self.inner.pull()


def _history(store: Store, days: range) -> None:
    """Days of a school's records, as the collector wrote them while offline."""
    names = [f"{SCHOOL}-{i:03d}" for i in range(1, DEVICES + 1)]
    per_day = int(dt.timedelta(days=1) / STEP)
    for day in days:
        start = T0 + dt.timedelta(days=day)
        runs = add_runs(store, names, per_day, start=start, step=STEP)
        add_sweep(store, start + dt.timedelta(hours=1), names)
        config = f"hostname r1\n! week {day // 7}\n"
        add_backup(store, names[0], start + dt.timedelta(hours=2), config, runs[0])
        if day % 10 == 0:
            Inventory(store, "officer").set(names[1], {"notes": f"checked on day {day}"})


def _measured(site: SyncSite, transport: Counting) -> tuple[SyncReport, int]:
    """One sync and the peak of memory allocated during it (tracemalloc, bytes)."""
    tracemalloc.start()
    try:
        report = site.sync(transport, batch_results=BATCH)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, peak


def test_thirty_days_offline_catch_up_in_bounded_batches(
    stores: tuple[Store, Store],  # noqa: F811
    tmp_path: Path,
) -> None:
    site_store, server_store = stores
    server = server_for(server_store, DEVICES)
    seed_inventory(site_store, DEVICES)
    site, transport = join(site_store, server, tmp_path / "secrets.toml")
    _history(site_store, range(1))
    site.sync(transport)  # in step when the link went down (and every statement compiled)
    _history(site_store, range(1, 3))
    first = Counting(transport)
    small, small_peak = _measured(site, first)  # two days offline
    assert small.error is None and small.push.committed["runs"] == 2 * 72
    _history(site_store, range(3, DAYS))
    mine = site_counts(site_store)
    assert mine["results"] == DAYS * 72 * DEVICES * 2

    counting = Counting(transport)
    report, peak = _measured(site, counting)  # 27 days offline
    assert report.error is None and report.push.backlog == 0
    assert report.pull is not None
    # bounded batches: whole runs, never more than BATCH results, many of them
    assert max(counting.results) <= BATCH
    assert len(counting.results) >= 27 * 72 * DEVICES * 2 // BATCH
    # memory: about one batch, whatever the backlog (13.5 times the small one's)
    assert sum(counting.sizes) > 10 * sum(first.sizes)
    assert peak < 1.5 * small_peak + 512 * 1024, (peak, small_peak, sum(counting.sizes))
    # nothing lost, nothing twice
    theirs = server_counts(server_store)
    assert {k: theirs[k] for k in ("runs", "results", "sweeps", "backups")} == {
        k: mine[k] for k in ("runs", "results", "sweeps", "backups")
    }
    assert theirs["changes"] == 3  # the three edits made offline (the seed is the server's own)
    assert sum(report.push.duplicates.values()) == 0
    # a second sync sends nothing new
    again = Counting(transport)
    second = site.sync(again)
    assert second.error is None and second.push.batches == 0 and again.sizes == []
    assert server_counts(server_store) == theirs
    status = site.status()
    assert status.backlog == {"changes": 0, "runs": 0, "sweeps": 0, "backups": 0}
    assert status.last_sync_at is not None and status.last_error is None
