"""The ``device_state`` table: each device's newest result per probe, kept on write.

Every write of results (a local run, a synced batch) calls :func:`note_plain` /
:func:`note_compact` in its own transaction: one upsert per batch that moves a state only
forward (``excluded.at_us >= device_state.at_us``), so an old result arriving late never
hides a newer one. Pruning drops the states older than the cutoff with the results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kape_itops.store import ping_codec
from kape_itops.store.models import DeviceStateRow

_STATE = cast(Table, DeviceStateRow.__table__)
_CHUNK = 1000
_STATUSES = ping_codec.STATUSES

State = tuple[int, str, int, str, str | None, Any]
"""(device id, probe, Unix microseconds, status, reason, metrics)."""


def note(s: Session, states: Iterable[State]) -> int:
    """Upsert the newest of ``states`` per (device, probe) where newer than (or as new as)
    the stored one; returns how many (device, probe) pairs were offered."""
    newest: dict[tuple[int, str], State] = {}
    for st in states:
        have = newest.get((st[0], st[1]))
        if have is None or st[2] >= have[2]:
            newest[(st[0], st[1])] = st
    rows = [
        {"device_id": d, "probe": p, "at_us": at, "status": status, "reason": r, "metrics": m}
        for (d, p), (_, _, at, status, r, m) in sorted(newest.items())  # one lock order
    ]
    make = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    for i in range(0, len(rows), _CHUNK):
        q = make(_STATE)
        q = q.on_conflict_do_update(
            index_elements=[_STATE.c.device_id, _STATE.c.probe],
            set_={c: q.excluded[c] for c in ("at_us", "status", "reason", "metrics")},
            where=q.excluded.at_us >= _STATE.c.at_us,
        )
        s.execute(q, rows[i : i + _CHUNK])
    return len(rows)


def note_plain(s: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Note ``probe_results`` column dicts (those of devices)."""
    return note(
        s,
        (
            (
                r["device_id"],
                r["probe"],
                ping_codec.to_us(r["started_at"]),
                r["status"],
                r["reason"],
                r["metrics"],
            )
            for r in rows
            if r["device_id"] is not None
        ),
    )


def note_compact(s: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Note ``ping_results`` column dicts (status as its code)."""
    return note(
        s,
        (
            (r["device_id"], "ping", r["started_us"], _STATUSES[r["status"]], None, None)
            for r in rows
        ),
    )


def prune(s: Session, cutoff_us: int) -> int:
    """Delete the states older than ``cutoff_us`` (their results are pruned with them)."""
    result = s.execute(delete(DeviceStateRow).where(DeviceStateRow.at_us < cutoff_us))
    return int(getattr(result, "rowcount", 0) or 0)
