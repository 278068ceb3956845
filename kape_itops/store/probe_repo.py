"""Probe runs and results: open a run, add results as they complete, close it, read back."""

from __future__ import annotations

import datetime as dt
import heapq
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.results import ProbeResult, ProbeRun
from kape_itops.store import bulk, ingest_rows, ping_codec, ping_store, state_repo
from kape_itops.store.ingest_rows import PreparedRun
from kape_itops.store.models import DeviceRow, PingResultRow, ProbeResultRow, ProbeRunRow

_CHUNK = 500
_RESULTS = cast(Table, ProbeResultRow.__table__)
_SEEKS = 200
"""Primary-key look-ups OR-ed in one query (SQLite bounds the expression depth)."""


def _run(row: ProbeRunRow) -> ProbeRun:
    return ProbeRun(
        id=row.id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=RunStatus(row.status),
        actor=row.actor,
        selection=row.selection,
        counts=row.counts,
        note=row.note,
    )


def to_result(row: ProbeResultRow, tag: str | None) -> ProbeResult:
    """One stored result as the domain's ProbeResult (``tag``: its device's asset tag)."""
    return ProbeResult(
        probe=row.probe,
        target=row.target,
        status=ProbeStatus(row.status),
        reason=row.reason,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        metrics=row.metrics,
        method=row.method,
        asset_tag=tag,
        attempts=row.attempts,
    )


def _ping_result(row: Mapping[Any, Any], tag: str | None) -> ProbeResult:
    v = ping_codec.decode(row, tag)
    return ProbeResult(
        probe="ping",
        target=v["target"],
        status=ProbeStatus(v["status"]),
        reason=v["reason"],
        started_at=v["started_at"],
        duration_ms=v["duration_ms"],
        metrics=v["metrics"],
        method=v["method"],
        asset_tag=tag,
        attempts=v["attempts"],
    )


def this_process() -> dict[str, Any]:
    """Host name and process id, as recorded on each run."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _note_prepared(s: Session, rows: Sequence[PreparedRun]) -> None:
    """Move ``device_state`` forward to the newest of prepared runs' results."""
    plain = ingest_rows.PLAIN_COLUMNS[1:]
    d, p, st, why, m, at = (plain.index(c) for c in _STATE_PLAIN)
    compact = ingest_rows.COMPACT_COLUMNS[1:]
    cd, cat, cst = (compact.index(c) for c in ("device_id", "started_us", "status"))
    codes = ping_codec.STATUSES
    state_repo.note(
        s,
        [
            (t[d], t[p], ping_codec.to_us(t[at]), t[st], t[why], t[m])
            for r in rows
            for t in r.plain
            if t[d] is not None
        ]
        + [(t[cd], "ping", t[cat], codes[t[cst]], None, None) for r in rows for t in r.compact],
    )


_STATE_PLAIN = ("device_id", "probe", "status", "reason", "metrics", "started_at")


class ProbeRepo:
    """Probe run and result access on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- writes ----------------------------------------------------------------------------
    def start_run(
        self, actor: str, selection: Mapping[str, Any], started_at: dt.datetime | None = None
    ) -> int:
        """Open a run in state ``running``; returns its id.

        The selection also records this process (``process: {host, pid}``) so that a run left
        ``running`` by a killed process can be closed later (:meth:`close_orphans`).
        """
        row = ProbeRunRow(
            started_at=started_at or dt.datetime.now(dt.UTC),
            finished_at=None,
            status=RunStatus.RUNNING.value,
            actor=actor,
            selection={**selection, "process": this_process()},
            counts=None,
            note=None,
        )
        self.s.add(row)
        self.s.flush()
        return row.id

    def add_results(self, run_id: int, results: Iterable[tuple[ProbeResult, int | None]]) -> int:
        """Append results (each with its device id, if any); returns how many.

        Ping results of devices go to the compact ``ping_results`` table when they fit losslessly.
        """
        results = list(results)
        rows = [
            {
                "run_id": run_id,
                "device_id": device_id,
                "target": _clip(r.target, 255),
                "probe": r.probe,
                "status": r.status.value,
                "reason": r.reason,
                "method": _clip(r.method, 64) if r.method else None,
                "metrics": dict(r.metrics),
                "started_at": r.started_at,
                "duration_ms": float(r.duration_ms),
                "attempts": r.attempts,
            }
            for r, device_id in results
        ]
        return self._insert(rows, [r.asset_tag for r, _ in results])

    def add_synced_runs(self, runs: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert runs that came from a site, in bulk: ``probe_runs`` column dicts with their
        ``origin_site_id``, ``origin_id`` and ``received_at``; returns their ids in order."""
        if not runs:
            return []
        q = (
            insert(ProbeRunRow)
            .execution_options(render_nulls=True)
            .returning(ProbeRunRow.id, sort_by_parameter_order=True)
        )
        return [int(i) for i in self.s.scalars(q, [dict(r) for r in runs])]

    def add_prepared(self, runs: Sequence[Mapping[str, Any]], rows: Sequence[PreparedRun]) -> int:
        """Insert synced runs (``probe_runs`` column dicts, as :meth:`add_synced_runs`) and
        their results built beforehand (:func:`ingest_rows.prepare`); returns how many results.
        On PostgreSQL one COPY per table carries every run's rows (prepared as COPY text)."""
        ids = self.add_synced_runs(runs)
        if self.s.get_bind().dialect.name == "postgresql" and all(
            r.plain_text is not None for r in rows
        ):
            text = "".join(
                ingest_rows.with_run(r.plain_text or "", i) for i, r in zip(ids, rows, strict=True)
            )
            bulk.copy_text(self.s, _RESULTS, ingest_rows.PLAIN_COLUMNS, text)
        else:
            plain = [
                dict(zip(ingest_rows.PLAIN_COLUMNS, (i, *row), strict=True))
                for i, r in zip(ids, rows, strict=True)
                for row in r.plain
            ]
            bulk.insert_many(self.s, _RESULTS, plain)
        ping_store.insert_prepared(self.s, ids, rows)
        _note_prepared(self.s, rows)
        return sum(len(r.plain) + len(r.compact) for r in rows)

    def _insert(self, rows: list[dict[str, Any]], tags: Sequence[str | None]) -> int:
        plain, compact = ping_codec.split(rows, tags)
        if plain:
            bulk.insert_many(self.s, _RESULTS, plain)  # COPY on PostgreSQL
        if compact:
            ping_store.insert_rows(self.s, compact)
        state_repo.note_plain(self.s, plain)  # the newest per device and probe, same transaction
        state_repo.note_compact(self.s, compact)
        return len(rows)

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counts: Mapping[str, Any] | None = None,
        note: str | None = None,
        finished_at: dt.datetime | None = None,
    ) -> None:
        """Close a run with its final status and counts."""
        self.s.execute(
            update(ProbeRunRow)
            .where(ProbeRunRow.id == run_id)
            .values(
                status=status.value,
                finished_at=finished_at or dt.datetime.now(dt.UTC),
                counts=dict(counts) if counts is not None else None,
                note=note,
            )
        )

    def close_orphans(self, alive: Callable[[int], bool] | None = None) -> list[int]:
        """Mark ``interrupted`` the runs still ``running`` whose process on this host is gone.

        Their counts are taken from the results they stored. Returns the ids closed.
        """
        alive = alive or pid_alive
        me = this_process()
        closed: list[int] = []
        for run in self.runs(limit=100, status=RunStatus.RUNNING):
            proc = run.selection.get("process")
            if not isinstance(proc, dict) or proc.get("host") != me["host"]:
                continue
            pid = proc.get("pid")
            if not isinstance(pid, int) or pid == me["pid"] or alive(pid):
                continue
            got = Counter(r.status.value for r in self.results(run.id))
            counts: dict[str, Any] = {st.value: got.get(st.value, 0) for st in ProbeStatus}
            counts["results"] = sum(got.values())
            note = f"interrupted: process {pid} ended without closing the run"
            self.finish_run(run.id, RunStatus.INTERRUPTED, counts, note)
            closed.append(run.id)
        return closed

    # -- reads -----------------------------------------------------------------------------
    def device_ids(self, tags: Sequence[str]) -> dict[str, int]:
        """Database ids of the devices among ``tags``."""
        out: dict[str, int] = {}
        for i in range(0, len(tags), _CHUNK):
            q = select(DeviceRow.asset_tag, DeviceRow.id).where(
                DeviceRow.asset_tag.in_(tags[i : i + _CHUNK])
            )
            out.update(self.s.execute(q).tuples().all())
        return out

    def latest_results(
        self, probes: Sequence[str], tags: Sequence[str] | None = None
    ) -> dict[tuple[str, str], ProbeResult]:
        """The newest stored result per (asset tag, probe), of the given devices or all.

        One indexed look-up per (device, probe) pair, so it stays fast on years of results.
        """
        out: dict[tuple[str, str], ProbeResult] = {}
        if tags is None:
            chunks: list[Sequence[str] | None] = [None]
        else:
            chunks = [tags[i : i + _CHUNK] for i in range(0, len(tags), _CHUNK)]
        for probe in probes:
            newest = (
                select(ProbeResultRow.id)
                .where(ProbeResultRow.device_id == DeviceRow.id, ProbeResultRow.probe == probe)
                .order_by(ProbeResultRow.started_at.desc(), ProbeResultRow.id.desc())
                .limit(1)
                .correlate(DeviceRow)
                .scalar_subquery()
            )
            for chunk in chunks:
                ids = select(newest)
                if chunk is not None:
                    ids = ids.where(DeviceRow.asset_tag.in_(chunk))
                q = (
                    select(ProbeResultRow, DeviceRow.asset_tag)
                    .join(DeviceRow, ProbeResultRow.device_id == DeviceRow.id)
                    .where(ProbeResultRow.id.in_(ids.scalar_subquery()))
                )
                for row, tag in self.s.execute(q):
                    out[(tag, row.probe)] = to_result(row, tag)
            if probe == "ping":
                for chunk in chunks:
                    for res in self._latest_pings(chunk):
                        key = (res.asset_tag or "", "ping")
                        have = out.get(key)
                        if have is None or res.started_at > have.started_at:
                            out[key] = res
        return out

    def _latest_pings(self, tags: Sequence[str] | None) -> list[ProbeResult]:
        """Newest compact ping result per device: one primary-key seek per device, twice."""
        p = PingResultRow
        newest = (
            select(func.max(p.started_us))
            .where(p.device_id == DeviceRow.id)
            .correlate(DeviceRow)
            .scalar_subquery()
        )
        q = select(DeviceRow.id, DeviceRow.asset_tag, newest)
        if tags is not None:
            q = q.where(DeviceRow.asset_tag.in_(tags))
        found = [(d, tag, at) for d, tag, at in self.s.execute(q) if at is not None]
        out: list[ProbeResult] = []
        for i in range(0, len(found), _SEEKS):
            part = found[i : i + _SEEKS]
            names = {d: tag for d, tag, _ in part}
            rows = self.s.execute(
                select(*ping_store.COLUMNS)
                .where(or_(*(and_(p.device_id == d, p.started_us == at) for d, _, at in part)))
                .order_by(p.device_id, p.started_us, p.run_id)
            ).mappings()
            latest = {m["device_id"]: m for m in rows}
            out.extend(_ping_result(m, names[d]) for d, m in latest.items())
        return out

    def runs(self, limit: int = 20, status: RunStatus | None = None) -> list[ProbeRun]:
        """The newest runs first."""
        q = select(ProbeRunRow).order_by(ProbeRunRow.id.desc()).limit(limit)
        if status is not None:
            q = q.where(ProbeRunRow.status == status.value)
        return [_run(r) for r in self.s.scalars(q)]

    def run(self, run_id: int) -> ProbeRun | None:
        """One run, or None."""
        row = self.s.get(ProbeRunRow, run_id)
        return _run(row) if row is not None else None

    def results(self, run_id: int) -> list[ProbeResult]:
        """The results of one run, in the order they were written."""
        q = (
            select(ProbeResultRow, DeviceRow.asset_tag)
            .outerjoin(DeviceRow, ProbeResultRow.device_id == DeviceRow.id)
            .where(ProbeResultRow.run_id == run_id)
            .order_by(ProbeResultRow.id)
        )
        plain = [to_result(row, tag) for row, tag in self.s.execute(q)]
        mine = ping_store.of_run(self.s, run_id)
        if mine is None:
            return plain
        p = (
            select(*ping_store.COLUMNS, DeviceRow.asset_tag)
            .outerjoin(DeviceRow, PingResultRow.device_id == DeviceRow.id)
            .where(mine)
            .order_by(PingResultRow.started_us, PingResultRow.device_id)
        )
        pings = [_ping_result(m, m["asset_tag"]) for m in self.s.execute(p).mappings()]
        if not pings:
            return plain
        return list(heapq.merge(plain, pings, key=lambda r: r.started_at))
