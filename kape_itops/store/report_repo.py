"""Queries behind reports: rollups of raw results, period reads, alert state, retention."""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, and_, cast, delete, func, insert, select, text
from sqlalchemy.orm import Session

from kape_itops.reports import sketch
from kape_itops.reports.data import DAY, HOUR, AlertState, Bucket, StatusCounts
from kape_itops.store import ping_codec, ping_store
from kape_itops.store.models import (
    AlertCursorRow,
    AlertStateRow,
    ConfigBackupRow,
    DeviceRow,
    PingResultRow,
    ProbeResultRow,
    ProbeRollupRow,
    ProbeRunRow,
    SchoolRow,
)

GRAIN_SECONDS = {"hour": HOUR, "day": DAY}
KEPT_METRICS = frozenset(
    {
        "supplies",
        "page_count",
        "disk_used_pct",
        "if_down",
        "clock_drift_s",
        "recording",
        "uptime_s",
        "clients",
        "levels",
    }
)
"""Metrics copied into rollups (the ones reports read); the rest stays in raw results only."""
_CHUNK = 5000
ROLLUP_LOCK = 0x69746F7073
"""Lock key serialising concurrent rollups (report, prune, probe rounds)."""
ALERT_LOCK = 0x69746F7074
"""Lock key serialising concurrent calls of the alert hook."""
_UP = ("ok", "warn")
DEPLOYED = "deployed"
"""The device status of devices in use (the others are probed on request, never alert)."""


def epoch(t: dt.datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(t.timestamp())


def from_epoch(t: int) -> dt.datetime:
    """An aware UTC datetime from Unix seconds."""
    return dt.datetime.fromtimestamp(t, dt.UTC)


@dataclass(slots=True)
class _Acc:
    """Running aggregate of one bucket."""

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

    def add_result(self, status: str, reason: str, at: int, metrics: Mapping[str, Any]) -> None:
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
        if status in _UP and (self.last_up_at is None or at > self.last_up_at):
            self.last_up_at = at
        if at >= self.last_at:
            self.last_at, self.last_status, self.last_reason = at, status, reason
            self.last_metrics = {k: v for k, v in metrics.items() if k in KEPT_METRICS}

    def add_bucket(self, row: Mapping[Any, Any]) -> None:
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


@dataclass(frozen=True, slots=True)
class RollupStats:
    """What a rollup pass did."""

    results_read: int
    hourly_written: int
    daily_written: int
    since: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """A device's database id with its tag, school and kind (for joining rollups)."""

    id: int
    asset_tag: str
    school: str
    kind: str


@dataclass(frozen=True, slots=True)
class RunResult:
    """One raw result of a probe run, with its device."""

    asset_tag: str
    school: str
    probe: str
    status: str
    reason: str
    at: dt.datetime
    metrics: Mapping[str, Any]
    deployed: bool = True
    """False for a device in stock or in repair (probed on request, never alerts)."""


class ReportRepo:
    """Report queries on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._tags: dict[int, str] | None = None

    def serialise(self, key: int) -> None:
        """Hold a lock named ``key`` until this transaction ends (one writer of a kind at once).

        PostgreSQL: an advisory transaction lock. SQLite: the database write lock, taken now by
        an empty delete instead of at the first real write.
        """
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        else:
            self.s.execute(delete(AlertCursorRow).where(AlertCursorRow.name == ""))

    # -- rollups ---------------------------------------------------------------------------
    def rollup_watermark(self) -> int | None:
        """Start of the newest hourly bucket, or None before the first rollup."""
        q = select(func.max(ProbeRollupRow.bucket_start)).where(ProbeRollupRow.grain == "hour")
        value = self.s.scalar(q)
        return int(value) if value is not None else None

    def rollup(self, redo_hours: int = 1) -> RollupStats:
        """Aggregate raw results into hourly then daily buckets; idempotent.

        Recomputes from ``redo_hours`` before the newest hourly bucket (late results of a run
        that straddled the hour land there), or from the oldest raw result the first time.
        """
        self.serialise(ROLLUP_LOCK)
        mark = self.rollup_watermark()
        if mark is None:
            first = self._raw_range()[0]
            if first is None:
                return RollupStats(0, 0, 0, None)
            start = epoch(first) // HOUR * HOUR
        else:
            start = mark - redo_hours * HOUR
        read, hourly = self._rollup_hours(start)
        daily = self._rollup_days(start // DAY * DAY)
        return RollupStats(read, hourly, daily, from_epoch(start))

    def _rollup_hours(self, start: int) -> tuple[int, int]:
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
        open_hour: int | None = None
        accs: dict[tuple[int, str], _Acc] = {}
        pending: list[dict[str, Any]] = []
        read = written = 0

        def flush() -> None:
            nonlocal written
            if open_hour is not None:
                pending.extend(a.row("hour", d, p, open_hour) for (d, p), a in accs.items())
            accs.clear()
            if len(pending) >= _CHUNK:
                written += self._insert(pending)

        merged = heapq.merge(plain, pings, key=lambda t: t[4])
        for device_id, probe, status, reason, at, metrics in merged:
            hour = at // HOUR * HOUR
            if hour != open_hour:
                flush()
                open_hour = hour
            acc = accs.get((device_id, probe))
            if acc is None:
                acc = accs[(device_id, probe)] = _Acc()
            acc.add_result(status, reason, at, metrics or {})
            read += 1
        flush()
        written += self._insert(pending)
        return read, written

    def _rollup_days(self, start: int) -> int:
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
        accs: dict[tuple[int, str, int], _Acc] = {}
        for row in self.s.execute(q).mappings():
            day = row["bucket_start"] // DAY * DAY
            key = (row["device_id"], row["probe"], day)
            acc = accs.get(key)
            if acc is None:
                acc = accs[key] = _Acc()
            acc.add_bucket(row)
        return self._insert([a.row("day", d, p, day) for (d, p, day), a in accs.items()])

    def _insert(self, rows: list[dict[str, Any]]) -> int:
        n = len(rows)
        for i in range(0, n, _CHUNK):
            self.s.execute(insert(ProbeRollupRow), rows[i : i + _CHUNK])
        rows.clear()
        return n

    # -- period reads ----------------------------------------------------------------------
    def device_refs(self) -> list[DeviceRef]:
        """Every device's id, tag, school code and kind."""
        q = select(DeviceRow.id, DeviceRow.asset_tag, SchoolRow.code, DeviceRow.kind).join(
            SchoolRow, DeviceRow.school_id == SchoolRow.id
        )
        return [DeviceRef(*r) for r in self.s.execute(q)]

    def buckets(
        self, grain: str, start: int, end: int, device_ids: Iterable[int] | None = None
    ) -> Iterator[Bucket]:
        """Rollup buckets of ``grain`` starting in ``[start, end)``, oldest first."""
        wanted = set(device_ids) if device_ids is not None else None
        r = ProbeRollupRow
        q = (
            select(
                r.device_id,
                r.probe,
                r.bucket_start,
                r.n_ok,
                r.n_warn,
                r.n_crit,
                r.n_unknown,
                r.rtt_count,
                r.rtt_sum,
                r.loss_count,
                r.loss_sum,
                cast(r.rtt_sketch, Text),
                r.last_at,
                r.last_status,
                r.last_reason,
                cast(r.last_metrics, Text),
                r.last_up_at,
            )
            .where(r.grain == grain, r.bucket_start >= start, r.bucket_start < end)
            .order_by(r.bucket_start)
        )
        # Core rows and JSON decoded here (empty objects skipped): long reports read ~10^5 rows.
        result = self.s.connection().execution_options(stream_results=True).execute(q)
        for row in result.yield_per(20000):
            if wanted is not None and row[0] not in wanted:
                continue
            yield Bucket(
                device_id=row[0],
                probe=row[1],
                start=row[2],
                counts=StatusCounts(row[3], row[4], row[5], row[6]),
                rtt_count=row[7],
                rtt_sum=row[8],
                loss_count=row[9],
                loss_sum=row[10],
                sketch=_json(row[11]),
                last_at=row[12],
                last_status=row[13],
                last_reason=row[14],
                last_metrics=_json(row[15]),
                last_up_at=row[16],
            )

    def first_results(self, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """When each (device id, probe) got its first stored result, in Unix seconds.

        Exact while that result is kept; once pruned, the start of its hour (rollups outlive
        raw results). Pairs never probed are left out. One statement per probe kind, each row
        three index seeks (oldest hourly bucket, oldest raw result, oldest compact ping).
        """
        r, u, p, d = ProbeResultRow, ProbeRollupRow, PingResultRow, DeviceRow
        by_probe: dict[str, list[int]] = {}
        for device_id, probe in wanted:
            by_probe.setdefault(probe, []).append(device_id)
        out: dict[tuple[int, str], int] = {}
        for probe, ids in by_probe.items():
            hour = select(func.min(u.bucket_start)).where(
                u.grain == "hour", u.device_id == d.id, u.probe == probe
            )
            raw = select(func.min(r.started_at)).where(r.device_id == d.id, r.probe == probe)
            ping = select(func.min(p.started_us)).where(p.device_id == d.id)
            cols = [d.id, hour.scalar_subquery(), raw.scalar_subquery()]
            if probe == "ping":
                cols.append(ping.scalar_subquery())
            for i in range(0, len(ids), _CHUNK):
                for row in self.s.execute(select(*cols).where(d.id.in_(ids[i : i + _CHUNK]))):
                    if row[1] is None:
                        continue
                    first = int(row[1])
                    times = [epoch(_aware(row[2]))] if row[2] is not None else []
                    if len(row) > 3 and row[3] is not None:
                        times.append(int(row[3]) // 1_000_000)
                    exact = min(times, default=None)
                    if exact is not None and first <= exact < first + HOUR:
                        first = exact  # else that hour's raw results are pruned: its start
                    out[(int(row[0]), probe)] = first
        return out

    def down_since(self, device_id: int, probe: str, before: dt.datetime) -> dt.datetime | None:
        """When the current run of crit results began (first crit after the last ok/warn)."""
        r, p = ProbeResultRow, PingResultRow
        mine = and_(r.device_id == device_id, r.probe == probe, r.started_at <= before)
        pmine = and_(p.device_id == device_id, p.started_us <= ping_codec.to_us(before))
        up_codes = [ping_codec.STATUSES.index(st) for st in _UP]
        crit_code = ping_codec.STATUSES.index("crit")
        ping = probe == "ping"
        last_up = _latest(
            self.s.scalar(select(func.max(r.started_at)).where(mine, r.status.in_(_UP))),
            self.s.scalar(select(func.max(p.started_us)).where(pmine, p.status.in_(up_codes)))
            if ping
            else None,
        )
        if last_up is None:
            up_epoch = self.s.scalar(
                select(func.max(ProbeRollupRow.last_up_at)).where(
                    ProbeRollupRow.grain == "day",
                    ProbeRollupRow.device_id == device_id,
                    ProbeRollupRow.probe == probe,
                )
            )
            last_up = from_epoch(int(up_epoch)) if up_epoch is not None else None
        q = select(func.min(r.started_at)).where(mine, r.status == "crit")
        pq = select(func.min(p.started_us)).where(pmine, p.status == crit_code)
        if last_up is not None:
            q = q.where(r.started_at > last_up)
            pq = pq.where(p.started_us > ping_codec.to_us(last_up))
        first = self.s.scalar(q)
        pfirst = self.s.scalar(pq) if ping else None
        if pfirst is None:
            return first
        at = ping_codec.from_us(int(pfirst))
        return at if first is None or at < first else first

    def config_changes(
        self, start: dt.datetime, end: dt.datetime
    ) -> dict[int, tuple[int, dt.datetime]]:
        """Per device id: how many changed configuration backups in the period, and the last."""
        b = ConfigBackupRow
        q = (
            select(b.device_id, func.count(b.id), func.max(b.taken_at))
            .where(b.changed.is_(True), b.taken_at >= start, b.taken_at < end)
            .group_by(b.device_id)
        )
        out: dict[int, tuple[int, dt.datetime]] = {}
        for device_id, n, last in self.s.execute(q):
            out[int(device_id)] = (int(n), _aware(last))
        return out

    # -- runs, for the alert hook ------------------------------------------------------------
    def last_run_ids(self, n: int) -> list[int]:
        """The newest ``n`` finished probe runs, oldest first."""
        q = (
            select(ProbeRunRow.id)
            .where(ProbeRunRow.finished_at.is_not(None))
            .order_by(ProbeRunRow.id.desc())
            .limit(n)
        )
        return sorted(int(i) for i in self.s.scalars(q))

    def run_ids_after(self, run_id: int, limit: int = 1000) -> list[int]:
        """Finished probe runs newer than ``run_id``, oldest first."""
        q = (
            select(ProbeRunRow.id)
            .where(ProbeRunRow.id > run_id, ProbeRunRow.finished_at.is_not(None))
            .order_by(ProbeRunRow.id)
            .limit(limit)
        )
        return [int(i) for i in self.s.scalars(q)]

    def latest_run_id(self) -> int | None:
        """The newest finished run."""
        q = select(func.max(ProbeRunRow.id)).where(ProbeRunRow.finished_at.is_not(None))
        value = self.s.scalar(q)
        return int(value) if value is not None else None

    def run_results(self, run_id: int) -> list[RunResult]:
        """The results of one run that belong to inventory devices."""
        r = ProbeResultRow
        q = (
            select(
                DeviceRow.asset_tag,
                SchoolRow.code,
                DeviceRow.status,
                r.probe,
                r.status,
                r.reason,
                r,
            )
            .join(DeviceRow, r.device_id == DeviceRow.id)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(r.run_id == run_id)
            .order_by(r.id)
        )
        plain = [
            RunResult(
                tag,
                school,
                probe,
                status,
                reason,
                row.started_at,
                row.metrics or {},
                deployed == DEPLOYED,
            )
            for tag, school, deployed, probe, status, reason, row in self.s.execute(q)
        ]
        mine = ping_store.of_run(self.s, run_id)
        if mine is None:
            return plain
        p = PingResultRow
        pq = (
            select(
                DeviceRow.asset_tag,
                SchoolRow.code.label("school_code"),
                DeviceRow.status.label("device_status"),
                *ping_store.COLUMNS,
            )
            .join(DeviceRow, p.device_id == DeviceRow.id)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(mine)
            .order_by(p.started_us, p.device_id)
        )
        pings = []
        for m in self.s.execute(pq).mappings():
            v = ping_codec.decode(m, m["asset_tag"])
            pings.append(
                RunResult(
                    m["asset_tag"],
                    m["school_code"],
                    "ping",
                    v["status"],
                    v["reason"],
                    v["started_at"],
                    v["metrics"],
                    m["device_status"] == DEPLOYED,
                )
            )
        if not pings:
            return plain
        return list(heapq.merge(plain, pings, key=lambda x: _aware(x.at)))

    def alert_cursor(self) -> int | None:
        """The last run evaluated by the alert hook."""
        row = self.s.get(AlertCursorRow, "problems")
        return row.last_run_id if row else None

    def set_alert_cursor(self, run_id: int, at: dt.datetime) -> None:
        """Remember the last run evaluated."""
        row = self.s.get(AlertCursorRow, "problems")
        if row is None:
            self.s.add(AlertCursorRow(name="problems", last_run_id=run_id, updated_at=at))
        else:
            row.last_run_id, row.updated_at = run_id, at

    def alert_states(self) -> dict[str, AlertState]:
        """Every tracked problem by key."""
        return {
            r.key: AlertState(
                r.key,
                r.kind,
                r.severity,
                r.asset_tag,
                r.probe,
                r.consecutive,
                r.first_seen,
                r.last_seen,
                r.notified,
                r.detail,
            )
            for r in self.s.scalars(select(AlertStateRow))
        }

    def save_alert_states(self, states: Mapping[str, AlertState]) -> None:
        """Replace the tracked problems with ``states``."""
        self.s.execute(delete(AlertStateRow))
        for st in states.values():
            self.s.add(
                AlertStateRow(
                    key=st.key,
                    kind=st.kind,
                    severity=st.severity,
                    asset_tag=st.asset_tag,
                    probe=st.probe,
                    consecutive=st.consecutive,
                    first_seen=st.first_seen,
                    last_seen=st.last_seen,
                    notified=st.notified,
                    detail=st.detail,
                )
            )

    # -- bulk writes (sample data, benchmarks) -----------------------------------------------
    def add_run(
        self, started: dt.datetime, finished: dt.datetime, actor: str, note: str | None = None
    ) -> int:
        """Record a completed probe run and return its id."""
        row = ProbeRunRow(
            started_at=started,
            finished_at=finished,
            status="completed",
            actor=actor,
            selection={},
            counts=None,
            note=note,
        )
        self.s.add(row)
        self.s.flush()
        return row.id

    def add_results(self, rows: list[dict[str, Any]]) -> int:
        """Bulk-insert raw results given as column dicts; returns how many.

        Ping results that fit losslessly go to the compact ``ping_results`` table.
        """
        if self._tags is None:
            self._tags = {d.id: d.asset_tag for d in self.device_refs()}
        tags = self._tags
        plain, compact = ping_codec.split(
            rows, [tags.get(r["device_id"]) if r.get("device_id") else None for r in rows]
        )
        for i in range(0, len(plain), _CHUNK):
            self.s.execute(insert(ProbeResultRow), plain[i : i + _CHUNK])
        if compact:
            ping_store.insert_rows(self.s, compact)
        return len(rows)

    def add_config_backup(
        self, device_id: int, taken_at: dt.datetime, sha256: str, changed: bool
    ) -> None:
        """Record a configuration backup (content left out)."""
        self.s.add(
            ConfigBackupRow(device_id=device_id, taken_at=taken_at, sha256=sha256, changed=changed)
        )

    # -- retention and statistics ------------------------------------------------------------
    def prune_raw(self, cutoff: dt.datetime) -> tuple[int, int]:
        """Delete raw results started before ``cutoff`` and runs left empty; (results, runs)."""
        results = _rowcount(
            self.s.execute(delete(ProbeResultRow).where(ProbeResultRow.started_at < cutoff))
        )
        results += ping_store.prune(self.s, ping_codec.to_us(cutoff))
        has_results = select(ProbeResultRow.id).where(ProbeResultRow.run_id == ProbeRunRow.id)
        runs = _rowcount(
            self.s.execute(
                delete(ProbeRunRow).where(
                    ProbeRunRow.started_at < cutoff,
                    ~has_results.exists(),
                    ~ping_store.run_has_pings(),
                )
            )
        )
        return results, runs

    def stats(self) -> dict[str, Any]:
        """Row counts, the raw and rollup time ranges, and the database size in bytes."""
        r, u = ProbeResultRow, ProbeRollupRow
        oldest, newest = self._raw_range()
        pings = ping_store.count(self.s)
        out: dict[str, Any] = {
            "probe_runs": self.s.scalar(select(func.count(ProbeRunRow.id))) or 0,
            "probe_results": (self.s.scalar(select(func.count(r.id))) or 0) + pings,
            "raw_oldest": _aware(oldest) if oldest else None,
            "raw_newest": _aware(newest) if newest else None,
        }
        for grain in ("hour", "day"):
            n, lo, hi = self.s.execute(
                select(func.count(u.id), func.min(u.bucket_start), func.max(u.bucket_start)).where(
                    u.grain == grain
                )
            ).one()
            out[f"rollups_{grain}"] = n or 0
            out[f"rollups_{grain}_oldest"] = from_epoch(int(lo)) if lo is not None else None
            out[f"rollups_{grain}_newest"] = from_epoch(int(hi)) if hi is not None else None
        out["alert_states"] = self.s.scalar(select(func.count(AlertStateRow.key))) or 0
        out["size_bytes"] = self.size_bytes()
        return out

    def _raw_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The oldest and newest raw result times over both result tables."""
        r = ProbeResultRow
        lo, hi = self.s.execute(select(func.min(r.started_at), func.max(r.started_at))).one()
        span = ping_store.time_range(self.s)
        if span is not None:
            pl, ph = ping_codec.from_us(span[0]), ping_codec.from_us(span[1])
            lo = pl if lo is None or pl < _aware(lo) else _aware(lo)
            hi = ph if hi is None or ph > _aware(hi) else _aware(hi)
        return lo, hi

    def size_bytes(self) -> int:
        """The database's size on disk."""
        bind = self.s.get_bind()
        if bind.dialect.name == "sqlite":
            pages = self.s.execute(text("PRAGMA page_count")).scalar() or 0
            size = self.s.execute(text("PRAGMA page_size")).scalar() or 0
            return int(pages) * int(size)
        return int(
            self.s.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
        )


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


def _latest(at: dt.datetime | None, us: int | None) -> dt.datetime | None:
    if us is None:
        return at
    t = ping_codec.from_us(int(us))
    return t if at is None or t > _aware(at) else _aware(at)


def _json(text: str | None) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None
