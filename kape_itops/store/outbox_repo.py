"""A site's outbox: what it has not yet had acknowledged, read in id order in bounded slices.

Per stream (:data:`kape_itops.domain.sync.STREAMS`) the site keeps a *cursor*
(``sync_cursors``): the highest local id the server acknowledged. Every read here returns
records above a given id, in ascending id order, at most a given number, plus ``last``: the
highest id the slice covers (change-log entries the site wrote while applying the server's
inventory, ``source`` starting with :data:`PULL_SOURCE`, and those of local user accounts are
skipped but covered).
The site's identity (site uid, school, server URL, last sync) is key/value in ``sync_local``.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kape_itops.domain.enums import LOCAL_ENTITIES
from kape_itops.domain.sync import PULL_SOURCE, STREAMS
from kape_itops.store import ping_codec, ping_store
from kape_itops.store.models import (
    ChangeRow,
    ConfigBackupRow,
    DeviceRow,
    DiscoveryHostRow,
    DiscoverySweepRow,
    PingResultRow,
    PingRunRow,
    ProbeResultRow,
    ProbeRunRow,
    SchoolRow,
    SyncCursorRow,
    SyncLocalRow,
)
from kape_itops.store.models.base import as_utc

_SCAN = 500
"""Rows read at once while skipping pulled changes or looking through runs."""
_RUNS = 50
"""Runs read at once."""
_PULLED = PULL_SOURCE + "%"

Result = tuple[str | None, str, str, str, str, str | None, Any, int, float, int]
"""One raw result: (tag, target, probe, status, reason, method, metrics, started_us,
duration_ms, attempts)."""


@dataclass(frozen=True, slots=True)
class RunSlice:
    """Finished runs with their results, above an id."""

    runs: list[tuple[dict[str, Any], list[Result]]]
    last: int
    results: int
    blocked: bool
    """Whether the slice stopped at a run still running (nothing after it may be sent)."""


def _pulled(source: str | None) -> bool:
    return bool(source) and str(source).startswith(PULL_SOURCE)


class OutboxRepo:
    """Outbox reads, cursors and identity on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- identity --------------------------------------------------------------------------
    def identity(self) -> dict[str, str]:
        """Everything in ``sync_local`` (site, school, url, ... ); empty when not joined."""
        return dict(self.s.execute(select(SyncLocalRow.key, SyncLocalRow.value)).tuples().all())

    def set_identity(self, values: Mapping[str, str | None]) -> None:
        """Set (or, for None, delete) keys of ``sync_local``."""
        for key, value in values.items():
            row = self.s.get(SyncLocalRow, key)
            if value is None:
                if row is not None:
                    self.s.delete(row)
            elif row is None:
                self.s.add(SyncLocalRow(key=key, value=value))
            else:
                row.value = value
        self.s.flush()

    # -- cursors ---------------------------------------------------------------------------
    def cursors(self) -> dict[str, int]:
        """Acknowledged id per stream (0 for a stream never acknowledged)."""
        found = dict(
            self.s.execute(select(SyncCursorRow.stream, SyncCursorRow.acked)).tuples().all()
        )
        return {stream: int(found.get(stream, 0)) for stream in STREAMS}

    def advance(self, stream: str, acked: int, now: dt.datetime | None = None) -> int:
        """Move the stream's cursor up to ``acked`` (never down); returns the cursor."""
        if stream not in STREAMS:
            raise ValueError(f"unknown sync stream {stream!r}")
        row = self.s.get(SyncCursorRow, stream)
        at = now or dt.datetime.now(dt.UTC)
        if row is None:
            self.s.add(SyncCursorRow(stream=stream, acked=max(0, acked), updated_at=at))
        elif acked > row.acked:
            row.acked, row.updated_at = acked, at
        self.s.flush()
        return max(acked, row.acked if row is not None else 0)

    def reset_cursors(self) -> None:
        """Forget every cursor (a site joining another server sends everything again)."""
        self.s.execute(delete(SyncCursorRow))

    # -- reads above a cursor --------------------------------------------------------------
    def changes(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` change-log entries above ``after`` not pulled; (items, last id)."""
        c = ChangeRow
        cols = (c.id, c.at, c.actor, c.entity, c.key, c.action, c.field, c.old, c.new)
        items: list[dict[str, Any]] = []
        last = after
        while len(items) < limit:
            q = select(*cols, c.source, c.source_sha256).where(c.id > last).order_by(c.id)
            rows = self.s.execute(q.limit(_SCAN)).mappings().all()
            for row in rows:
                if len(items) >= limit:
                    break
                last = int(row["id"])
                if not _pulled(row["source"]) and row["entity"] not in LOCAL_ENTITIES:
                    items.append(dict(row))
            if len(rows) < _SCAN:
                break
        return items, last

    def runs(self, after: int, max_results: int) -> RunSlice:
        """Finished runs above ``after`` in id order, whole, up to ``max_results`` results in
        all (a bigger run comes alone); stops at the first run still running.

        Runs are looked at :data:`_RUNS` at a time: their result counts in two grouped queries,
        the results of those taken in two more."""
        r = ProbeRunRow
        cols = (r.id, r.started_at, r.finished_at, r.status, r.actor, r.selection, r.counts, r.note)
        out: list[tuple[dict[str, Any], list[Result]]] = []
        total, cursor = 0, after
        while True:
            q = select(*cols).where(r.id > cursor).order_by(r.id).limit(_RUNS)
            rows = [dict(m) for m in self.s.execute(q).mappings()]
            finished = []
            for row in rows:
                if row["finished_at"] is None:
                    break
                finished.append(row)
            counts = self._counts([int(row["id"]) for row in finished])
            take: list[dict[str, Any]] = []
            full = False
            for row in finished:
                n = counts.get(int(row["id"]), 0)
                if (out or take) and total + n > max_results:
                    full = True
                    break
                take.append(row)
                total += n
                if total >= max_results:
                    full = True
                    break
            found = self._results([int(row["id"]) for row in take])
            out.extend((row, found.get(int(row["id"]), [])) for row in take)
            last = int(out[-1][0]["id"]) if out else after
            blocked = len(finished) < len(rows) and not full
            if full or blocked or len(rows) < _RUNS:
                return RunSlice(out, last, total, blocked=blocked)
            cursor = int(rows[-1]["id"])

    def _spans(self, run_ids: list[int]) -> tuple[int, int] | None:
        """The time span (Unix µs) of the compact ping results of these runs, or None."""
        if not run_ids:
            return None
        lo, hi = self.s.execute(
            select(func.min(PingRunRow.first_us), func.max(PingRunRow.last_us)).where(
                PingRunRow.run_id.in_(run_ids)
            )
        ).one()
        return (int(lo), int(hi)) if lo is not None else None

    def _counts(self, run_ids: list[int]) -> dict[int, int]:
        """Results per run (both result tables)."""
        if not run_ids:
            return {}
        p = ProbeResultRow
        q = select(p.run_id, func.count()).where(p.run_id.in_(run_ids)).group_by(p.run_id)
        out: dict[int, int] = {int(k): int(n) for k, n in self.s.execute(q).tuples()}
        span = self._spans(run_ids)
        if span is not None:
            g = PingResultRow
            pq = (
                select(g.run_id, func.count())
                .where(
                    ping_store.every_device(),
                    g.started_us >= span[0],
                    g.started_us <= span[1],
                    g.run_id.in_(run_ids),
                )
                .group_by(g.run_id)
            )
            for k, n in self.s.execute(pq).tuples():
                out[int(k)] = out.get(int(k), 0) + int(n)
        return out

    def _results(self, run_ids: list[int]) -> dict[int, list[Result]]:
        """The results of these runs, each run's in time order, ping results unpacked."""
        if not run_ids:
            return {}
        p = ProbeResultRow
        q = (
            select(
                p.run_id,
                DeviceRow.asset_tag,
                p.target,
                p.probe,
                p.status,
                p.reason,
                p.method,
                p.metrics,
                p.started_at,
                p.duration_ms,
                p.attempts,
            )
            .outerjoin(DeviceRow, p.device_id == DeviceRow.id)
            .where(p.run_id.in_(run_ids))
            .order_by(p.run_id, p.id)
        )
        plain: dict[int, list[Result]] = {}
        for run, t, tg, pr, st, rs, m, mx, at, d, a in self.s.execute(q).tuples():
            us = ping_codec.to_us(as_utc(at))
            plain.setdefault(int(run), []).append(
                (t, tg, pr, st, rs, m, mx, us, float(d), int(a or 1))
            )
        span = self._spans(run_ids)
        if span is None:
            return plain
        g = PingResultRow
        pq = (
            select(*ping_store.COLUMNS, DeviceRow.asset_tag)
            .join(DeviceRow, g.device_id == DeviceRow.id)
            .where(
                ping_store.every_device(),
                g.started_us >= span[0],
                g.started_us <= span[1],
                g.run_id.in_(run_ids),
            )
            .order_by(g.started_us, g.device_id)
        )
        pings: dict[int, list[Result]] = {}
        for m in self.s.execute(pq).mappings():
            v = ping_codec.decode(m, m["asset_tag"])
            pings.setdefault(int(m["run_id"]), []).append(
                (
                    m["asset_tag"],
                    v["target"],
                    "ping",
                    v["status"],
                    v["reason"],
                    v["method"],
                    v["metrics"],
                    int(m["started_us"]),
                    float(v["duration_ms"]),
                    int(v["attempts"]),
                )
            )
        out: dict[int, list[Result]] = {}
        for run in run_ids:
            a, b = plain.get(run, []), pings.get(run, [])
            out[run] = list(heapq.merge(a, b, key=lambda x: x[7])) if a and b else a or b
        return out

    def sweeps(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` discovery sweeps above ``after`` with their hosts and school code."""
        w, h = DiscoverySweepRow, DiscoveryHostRow
        q = (
            select(
                w.id,
                w.started_at,
                w.duration_s,
                w.method,
                w.interface,
                w.subnets,
                w.actor,
                w.counts,
                SchoolRow.code.label("school"),
            )
            .join(SchoolRow, w.school_id == SchoolRow.id)
            .where(w.id > after)
            .order_by(w.id)
            .limit(limit)
        )
        items = [dict(m) for m in self.s.execute(q).mappings()]
        if not items:
            return [], after
        hosts: dict[int, list[dict[str, Any]]] = {int(i["id"]): [] for i in items}
        hq = (
            select(h.sweep_id, h.ip, h.mac, h.vendor, h.asset_tag, h.state, h.detail)
            .where(h.sweep_id.in_(list(hosts)))
            .order_by(h.id)
        )
        for m in self.s.execute(hq).mappings():
            host = dict(m)
            hosts[int(host.pop("sweep_id"))].append(host)
        for item in items:
            item["hosts"] = hosts[int(item["id"])]
        return items, int(items[-1]["id"])

    def backups(self, after: int, limit: int, max_bytes: int) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` backups above ``after`` (and about ``max_bytes`` of content; one
        bigger comes alone) with the device's asset tag."""
        b = ConfigBackupRow
        q = (
            select(
                b.id,
                DeviceRow.asset_tag.label("tag"),
                b.taken_at,
                b.sha256,
                b.changed,
                func.length(b.content).label("size"),
                b.run_id.label("run"),
            )
            .join(DeviceRow, b.device_id == DeviceRow.id)
            .where(b.id > after)
            .order_by(b.id)
            .limit(limit)
        )
        items: list[dict[str, Any]] = []
        size = 0
        for m in self.s.execute(q).mappings():
            n = int(m["size"] or 0)
            if items and size + n > max_bytes:
                break
            item = dict(m)
            del item["size"]
            item["changed"] = bool(item["changed"])
            item["content"] = self.s.scalar(select(b.content).where(b.id == item["id"]))
            items.append(item)
            size += n
        return items, int(items[-1]["id"]) if items else after

    # -- what is left ----------------------------------------------------------------------
    def backlog(self, cursors: Mapping[str, int] | None = None) -> dict[str, int]:
        """Records above the cursors, per stream (pulled changes and running runs left out)."""
        cur = dict(cursors) if cursors is not None else self.cursors()
        c, r = ChangeRow, ProbeRunRow
        counts = {
            "changes": self.s.scalar(
                select(func.count()).where(
                    c.id > cur["changes"],
                    ~c.source.like(_PULLED),
                    c.entity.not_in(LOCAL_ENTITIES),
                )
            ),
            "runs": self.s.scalar(
                select(func.count()).where(r.id > cur["runs"], r.finished_at.is_not(None))
            ),
            "sweeps": self.s.scalar(
                select(func.count()).where(DiscoverySweepRow.id > cur["sweeps"])
            ),
            "backups": self.s.scalar(
                select(func.count()).where(ConfigBackupRow.id > cur["backups"])
            ),
        }
        return {k: int(v or 0) for k, v in counts.items()}

    def unacked_since(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """On a joined site: the start of the oldest run and of the oldest sweep retention
        must keep, (None, None) when not joined: those the server has not acknowledged, and the
        last one it did (SQLite gives a deleted highest id again: a new record must never get
        an id at or below the cursor)."""
        if self.s.get(SyncLocalRow, "site") is None:
            return None, None
        cur = self.cursors()
        run = self.s.scalar(
            select(func.min(ProbeRunRow.started_at)).where(ProbeRunRow.id >= cur["runs"])
        )
        sweep = self.s.scalar(
            select(func.min(DiscoverySweepRow.started_at)).where(
                DiscoverySweepRow.id >= cur["sweeps"]
            )
        )
        return (as_utc(run) if run else None), (as_utc(sweep) if sweep else None)

    def newest_ids(self) -> dict[str, int]:
        """The highest local id per stream (0 when empty)."""
        tables = {
            "changes": ChangeRow.id,
            "runs": ProbeRunRow.id,
            "sweeps": DiscoverySweepRow.id,
            "backups": ConfigBackupRow.id,
        }
        return {k: int(self.s.scalar(select(func.max(c))) or 0) for k, c in tables.items()}

    def pending_fields(self, after: int) -> dict[tuple[str, str], set[str | None]]:
        """Inventory fields with a local change above ``after`` (not yet acknowledged):
        (entity, key) -> fields (None: the whole record, e.g. created or renamed here)."""
        c = ChangeRow
        out: dict[tuple[str, str], set[str | None]] = {}
        q = (
            select(c.entity, c.key, c.action, c.field, c.old)
            .where(c.id > after, ~c.source.like(_PULLED))
            .order_by(c.id)
        )
        for entity, key, action, fld, old in self.s.execute(q).tuples():
            if action == "rename" and old:
                out.setdefault((entity, str(old)), set()).add(None)
                out.setdefault((entity, key), set()).add(None)
            elif fld is None:
                out.setdefault((entity, key), set()).add(None)
            else:
                out.setdefault((entity, key), set()).add(fld)
        return out
