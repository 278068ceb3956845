"""Real processes editing one device at once, on both backends: no update is lost and the
change log's old -> new chain is unbroken."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from collections import Counter

import pytest

from kape_itops.domain.enums import EntityType
from kape_itops.domain.inventory import Change, ChangeContext, DeviceUpsert
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.conftest import REPO
from tests.functional.test_store import seed

RACE_SECONDS = 4.0
TAG = "KAPE-0001"


def race(url: str, workers: list[tuple[str, str]]) -> list[dict[str, object]]:
    """Start every (mode, name) worker at once; their JSON reports once all have finished."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.edit_race",
                url,
                TAG,
                mode,
                name,
                str(RACE_SECONDS),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode, name in workers
    ]
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=RACE_SECONDS + 120)
        assert p.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def assert_chain(changes: list[Change], field: str, final: str | None) -> int:
    """Every ``field`` row's old value is the previous row's new one; returns how many rows."""
    rows = [c for c in changes if c.field == field]
    previous: str | None = None
    if field == "status":
        previous = "deployed"  # as seeded
    for i, c in enumerate(rows):
        assert c.old == previous, f"{field} row {i} (id {c.id}): old {c.old!r} != {previous!r}"
        previous = c.new
    assert previous == final
    return len(rows)


def test_racing_set_and_retire_lose_nothing(db_url: str) -> None:
    store = Store(db_url)
    store.upgrade()
    seed(store)
    reports = race(
        db_url,
        [("notes", "a"), ("notes", "b"), ("retire", "r"), ("cli", "c")],
    )
    ok: Counter[str] = Counter()
    for r in reports:
        assert r["errors"] == [], r["errors"]
        ok.update(r["ok"])  # type: ignore[arg-type]
    assert ok["notes"] >= 10 and ok["retire"] >= 2, ok  # the race did happen
    with store.session() as s:
        changes = InventoryRepo(s).history(EntityType.DEVICE, TAG)
    device = Inventory(store, "t").device(TAG)
    notes_rows = assert_chain(changes, "notes", device.notes)
    status_rows = assert_chain(changes, "status", device.status.value)
    assert notes_rows == ok["notes"] + ok["retire"]
    assert status_rows == ok["retire"] + ok["status"]
    store.dispose()


@pytest.mark.parametrize("workers", [4])
def test_racing_sets_keep_one_old_value_each(db_url: str, workers: int) -> None:
    """N processes each set a new value: every value appears exactly once as someone's old."""
    store = Store(db_url)
    store.upgrade()
    seed(store)
    reports = race(db_url, [("notes", f"w{i}") for i in range(workers)])
    succeeded = sum(int(r["ok"].get("notes", 0)) for r in reports)  # type: ignore[attr-defined]
    assert all(r["errors"] == [] for r in reports), reports
    with store.session() as s:
        rows = [c for c in InventoryRepo(s).history(EntityType.DEVICE, TAG) if c.field == "notes"]
    olds = [c.old for c in rows]
    assert len(olds) == len(set(olds)) == succeeded
    assert assert_chain(rows, "notes", Inventory(store, "t").device(TAG).notes) == succeeded
    store.dispose()


def test_a_writer_waits_for_the_one_holding_the_lock_and_readers_do_not(db_url: str) -> None:
    store, other = Store(db_url), Store(db_url)
    store.upgrade()
    seed(store)
    done: list[list[Change]] = []
    second = threading.Thread(
        target=lambda: done.append(Inventory(other, "b").set(TAG, {"notes": "second"}))
    )
    with store.write() as s:
        ctx = ChangeContext("a", "test", dt.datetime.now(dt.UTC))
        InventoryRepo(s).apply_devices([DeviceUpsert(TAG, {"notes": "first"})], ctx)
        second.start()
        second.join(1.5)
        assert second.is_alive() and not done  # waiting for the write lock
        assert Inventory(other, "reader").device(TAG).notes is None  # reads go on meanwhile
    second.join(30)
    assert [(c.old, c.new) for c in done[0]] == [("first", "second")]
    store.dispose()
    other.dispose()
