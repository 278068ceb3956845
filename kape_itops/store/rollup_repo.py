"""Rollups: raw results aggregated into hourly, then daily, buckets per device and probe.

Which metrics a bucket keeps (its last result's, for reports) is not the store's to know: the
caller passes the kept metric names (the probe kinds declare them), the rest stays in raw
results only.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kape_itops.domain import sketch
from kape_itops.domain.reports import DAY, HOUR, RollupStats, epoch, from_epoch
from kape_itops.store import ping_codec, ping_store
from kape_itops.store.locks import ROLLUP_LOCK, serialise
from kape_itops.store.models import PingResultRow, ProbeResultRow, ProbeRollupRow, RollupRedoRow
from kape_itops.store.raw_repo import RawRepo

_CHUNK = 5000
REDO = "hour"
"""The ``rollup_redo`` row of the hourly rollup."""
UP = ("ok", "warn")
"""The statuses that count as up (the device answered)."""


@dataclass(slots=True)
class BucketTally:
    """Running aggregate of one bucket of one device and probe."""

    ok: int = 0
    warn: int = 0
    crit: int = 0
    unknown: int = 0
    rtt_count: int = 0
    rtt_sum: float = 0.0
    loss_count: int = 0
    loss_sum: float = 0.0
    sketch: dict[int, int] = field(default_factory=dict)
    last_at: int = -1
    last_status: str = "unknown"
    last_reason: str = ""
    last_metrics: dict[str, Any] = field(default_factory=dict)
    last_up_at: int | None = None
    reboots: int = 0
    config_changes: int = 0
    pc_first: float | None = None
    pc_last: float | None = None
    pages: float = 0.0

    def _counter(self, first: float, last: float, within: float) -> None:
        if self.pc_last is not None and first > self.pc_last:
            self.pages += first - self.pc_last
        self.pages += within
        if self.pc_first is None:
            self.pc_first = first
        self.pc_last = last

    def add_result(
        self,
        status: str,
        reason: str,
        at: int,
        metrics: Mapping[str, Any],
        kept: frozenset[str],
    ) -> None:
        """Count one raw result; its ``kept`` metrics become the bucket's last if it is newest."""
        if status == "ok":
            self.ok += 1
        elif status == "warn":
            self.warn += 1
        elif status == "crit":
            self.crit += 1
        else:
            self.unknown += 1
        rtt = _num(metrics.get("rtt_avg_ms"))
        if rtt is not None:
            self.rtt_count += 1
            self.rtt_sum += rtt
            sketch.add(self.sketch, rtt)
        loss = _num(metrics.get("loss_pct"))
        if loss is not None:
            self.loss_count += 1
            self.loss_sum += loss
        pc = _num(metrics.get("page_count"))
        if pc is not None:
            self._counter(pc, pc, 0.0)
        if metrics.get("rebooted") is True:
            self.reboots += 1
        if metrics.get("config_changed") is True:
            self.config_changes += 1
        if status in UP and (self.last_up_at is None or at > self.last_up_at):
            self.last_up_at = at
        if at >= self.last_at:
            self.last_at, self.last_status, self.last_reason = at, status, reason
            self.last_metrics = {k: v for k, v in metrics.items() if k in kept}

    def add_bucket(self, row: Mapping[Any, Any]) -> None:
        """Merge one stored hourly bucket (for the daily rollup)."""
        for name in ("ok", "warn", "crit", "unknown"):
            setattr(self, name, getattr(self, name) + row[f"n_{name}"])
        self.rtt_count += row["rtt_count"]
        self.rtt_sum += row["rtt_sum"]
        self.loss_count += row["loss_count"]
        self.loss_sum += row["loss_sum"]
        for k, n in row["rtt_sketch"].items():
            self.sketch[int(k)] = self.sketch.get(int(k), 0) + int(n)
        lm = dict(row["last_metrics"])
        self.reboots += int(lm.pop("reboots", 0))
        self.config_changes += int(lm.pop("config_changes", 0))
        first = _num(lm.pop("page_count_first", None))
        pages = _num(lm.pop("pages", None))
        last = _num(lm.get("page_count"))
        if first is not None and last is not None:
            self._counter(first, last, pages or 0.0)
        up = row["last_up_at"]
        if up is not None and (self.last_up_at is None or up > self.last_up_at):
            self.last_up_at = up
        if row["last_at"] >= self.last_at:
            self.last_at, self.last_status = row["last_at"], row["last_status"]
            self.last_reason, self.last_metrics = row["last_reason"], lm

    def row(self, grain: str, device_id: int, probe: str, start: int) -> dict[str, Any]:
        """The ``probe_rollups`` columns of this bucket."""
        metrics = dict(self.last_metrics)
        if self.reboots:
            metrics["reboots"] = self.reboots
        if self.config_changes:
            metrics["config_changes"] = self.config_changes
        if self.pc_first is not None:
            metrics["page_count_first"] = self.pc_first
            metrics["page_count"] = self.pc_last
            metrics["pages"] = self.pages
        return {
            "grain": grain,
            "device_id": device_id,
            "probe": probe,
            "bucket_start": start,
            "n_ok": self.ok,
            "n_warn": self.warn,
            "n_crit": self.crit,
            "n_unknown": self.unknown,
            "rtt_count": self.rtt_count,
            "rtt_sum": self.rtt_sum,
            "loss_count": self.loss_count,
            "loss_sum": self.loss_sum,
            "rtt_sketch": sketch.to_json(self.sketch),
            "last_up_at": self.last_up_at,
            "last_at": self.last_at,
            "last_status": self.last_status,
            "last_reason": "" if self.last_status == "ok" else self.last_reason[:500],
            "last_metrics": metrics,
        }


class RollupRepo:
    """Hourly and daily rollups on one session, keeping the ``kept`` metrics of results."""

    def __init__(self, session: Session, kept: frozenset[str]) -> None:
        self.s = session
        self.kept = frozenset(kept)

    def watermark(self) -> int | None:
        """Start of the newest hourly bucket, or None before the first rollup."""
        q = select(func.max(ProbeRollupRow.bucket_start)).where(ProbeRollupRow.grain == "hour")
        value = self.s.scalar(q)
        return int(value) if value is not None else None

    def rollup(self, redo_hours: int = 1) -> RollupStats:
        """Aggregate raw results into hourly then daily buckets; idempotent.

        Recomputes from ``redo_hours`` before the newest hourly bucket (late results of a run
        that straddled the hour land there), or from the redo mark (:func:`mark_redo`) when
        that is older, or from the oldest raw result the first time; clears the redo mark.
        """
        serialise(self.s, ROLLUP_LOCK)
        mark = self.watermark()
        redo = self.s.get(RollupRedoRow, REDO)
        if redo is not None:  # late results (a site catching up) are older than the watermark
            self.s.delete(redo)
        if mark is None:
            first = RawRepo(self.s).time_range()[0]
            if first is None:
                return RollupStats(0, 0, 0, None)
            start = epoch(first) // HOUR * HOUR
        else:
            start = mark - redo_hours * HOUR
            if redo is not None:
                start = min(start, redo.bucket_start // HOUR * HOUR)
        read, hourly = self._hours(start)
        daily = self._days(start // DAY * DAY)
        return RollupStats(read, hourly, daily, from_epoch(start))

    def _hours(self, start: int) -> tuple[int, int]:
        self.s.execute(
            delete(ProbeRollupRow).where(
                ProbeRollupRow.grain == "hour", ProbeRollupRow.bucket_start >= start
            )
        )
        q = (
            select(
                ProbeResultRow.device_id,
                ProbeResultRow.probe,
                ProbeResultRow.status,
                ProbeResultRow.reason,
                ProbeResultRow.started_at,
                ProbeResultRow.metrics,
            )
            .where(
                ProbeResultRow.started_at >= from_epoch(start),
                ProbeResultRow.device_id.is_not(None),
            )
            .order_by(ProbeResultRow.started_at)
            .execution_options(yield_per=20000)
        )
        p = PingResultRow
        pq = (
            select(*ping_store.COLUMNS)
            .where(ping_store.since(start * 1_000_000))
            .order_by(p.started_us)
            .execution_options(yield_per=20000)
        )
        plain = ((d, pr, st, rs, epoch(at), m) for d, pr, st, rs, at, m in self.s.execute(q))
        pings = (_ping_tuple(m) for m in self.s.execute(pq).mappings())
        kept = self.kept
        open_hour: int | None = None
        tallies: dict[tuple[int, str], BucketTally] = {}
        pending: list[dict[str, Any]] = []
        read = written = 0

        def flush() -> None:
            nonlocal written
            if open_hour is not None:
                pending.extend(t.row("hour", d, p, open_hour) for (d, p), t in tallies.items())
            tallies.clear()
            if len(pending) >= _CHUNK:
                written += self._insert(pending)

        merged = heapq.merge(plain, pings, key=lambda t: t[4])
        for device_id, probe, status, reason, at, metrics in merged:
            hour = at // HOUR * HOUR
            if hour != open_hour:
                flush()
                open_hour = hour
            tally = tallies.get((device_id, probe))
            if tally is None:
                tally = tallies[(device_id, probe)] = BucketTally()
            tally.add_result(status, reason, at, metrics or {}, kept)
            read += 1
        flush()
        written += self._insert(pending)
        return read, written

    def _days(self, start: int) -> int:
        self.s.execute(
            delete(ProbeRollupRow).where(
                ProbeRollupRow.grain == "day", ProbeRollupRow.bucket_start >= start
            )
        )
        cols = [c for c in ProbeRollupRow.__table__.c if c.name not in ("id", "grain")]
        q = (
            select(*cols)
            .where(ProbeRollupRow.grain == "hour", ProbeRollupRow.bucket_start >= start)
            .order_by(ProbeRollupRow.bucket_start)
            .execution_options(yield_per=20000)
        )
        tallies: dict[tuple[int, str, int], BucketTally] = {}
        for row in self.s.execute(q).mappings():
            day = row["bucket_start"] // DAY * DAY
            key = (row["device_id"], row["probe"], day)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = BucketTally()
            tally.add_bucket(row)
        return self._insert([t.row("day", d, p, day) for (d, p, day), t in tallies.items()])

    def _insert(self, rows: list[dict[str, Any]]) -> int:
        n = len(rows)
        for i in range(0, n, _CHUNK):
            self.s.execute(insert(ProbeRollupRow), rows[i : i + _CHUNK])
        rows.clear()
        return n


def mark_redo(s: Session, oldest_s: int) -> bool:
    """Lower the redo mark to the hour of ``oldest_s`` (Unix seconds) when results that old
    were stored after that hour was rolled up; True when it did."""
    hour = oldest_s // HOUR * HOUR
    q = select(func.max(ProbeRollupRow.bucket_start)).where(ProbeRollupRow.grain == "hour")
    mark = s.scalar(q)
    if mark is None or hour >= int(mark):
        return False
    row = s.get(RollupRedoRow, REDO)
    if row is None:
        s.add(RollupRedoRow(name=REDO, bucket_start=hour))
    elif hour < row.bucket_start:
        row.bucket_start = hour
    else:
        return False
    s.flush()
    return True


def _ping_tuple(row: Mapping[Any, Any]) -> tuple[int, str, str, str, int, dict[str, Any]]:
    """(device id, probe, status, reason, Unix seconds, metrics) of a ``ping_results`` row."""
    v = ping_codec.decode(row, None)
    return (
        v["device_id"],
        "ping",
        v["status"],
        v["reason"],
        row["started_us"] // 1_000_000,
        v["metrics"],
    )


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None
