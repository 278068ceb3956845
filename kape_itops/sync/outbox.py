"""Batches of the wire format, built from the site's store one at a time (bounded memory).

Each call of :meth:`Outbox.batch` opens one short read session and returns one batch of one
stream above a given id (:mod:`kape_itops.domain.sync` documents the format); nothing is ever
read whole. :meth:`Outbox.batches` walks a stream to its end for bundles.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kape_itops import __version__
from kape_itops.domain.sync import FORMAT, RESULT_COLUMNS, STREAMS
from kape_itops.store.db import Store
from kape_itops.store.outbox_repo import OutboxRepo, Result

BATCH_RESULTS = 5000
"""Probe results per batch of runs (whole runs: one bigger run goes alone)."""
BATCH_ITEMS = 1000
"""Change-log entries per batch."""
BATCH_SWEEPS = 50
"""Discovery sweeps per batch (each with its hosts)."""
BATCH_BACKUPS = 50
"""Configuration backups per batch ..."""
BATCH_BACKUP_BYTES = 4 * 1024 * 1024
"""... and about this much configuration text (one bigger backup goes alone)."""


def iso(t: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC with its offset, or None."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).isoformat()


def encode(batch: dict[str, Any]) -> bytes:
    """A batch as the JSON bytes the transport sends."""
    return json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def change_item(row: dict[str, Any]) -> dict[str, Any]:
    """A change-log row as a ``changes`` item."""
    return {
        "id": int(row["id"]),
        "at": iso(row["at"]),
        "actor": row["actor"],
        "entity": row["entity"],
        "key": row["key"],
        "action": row["action"],
        "field": row["field"],
        "old": row["old"],
        "new": row["new"],
        "source": row["source"],
        "source_sha256": row["source_sha256"],
    }


def results_columns(results: Sequence[Result]) -> dict[str, list[Any]]:
    """A run's results as the columns of a ``runs`` item (``at``: Unix seconds, float)."""
    cols: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
    tag, target, probe = cols["tag"], cols["target"], cols["probe"]
    status, reason, method, metrics = (
        cols["status"],
        cols["reason"],
        cols["method"],
        cols["metrics"],
    )
    at, duration, attempts = cols["at"], cols["duration_ms"], cols["attempts"]
    for t, tg, pr, st, rs, m, mx, us, d, a in results:
        tag.append(t)
        target.append(tg)
        probe.append(pr)
        status.append(st)
        reason.append(rs)
        method.append(m)
        metrics.append(mx)
        at.append(us / 1_000_000)
        duration.append(d)
        attempts.append(a)
    return cols


def run_item(run: dict[str, Any], results: Sequence[Result]) -> dict[str, Any]:
    """A finished run and its results as a ``runs`` item."""
    return {
        "id": int(run["id"]),
        "started_at": iso(run["started_at"]),
        "finished_at": iso(run["finished_at"]),
        "status": run["status"],
        "actor": run["actor"],
        "selection": run["selection"],
        "counts": run["counts"],
        "note": run["note"],
        "results": results_columns(results),
    }


def sweep_item(row: dict[str, Any]) -> dict[str, Any]:
    """A discovery sweep with its hosts as a ``sweeps`` item."""
    return {
        "id": int(row["id"]),
        "started_at": iso(row["started_at"]),
        "duration_s": float(row["duration_s"]),
        "method": row["method"],
        "interface": row["interface"],
        "subnets": list(row["subnets"] or []),
        "actor": row["actor"],
        "counts": row["counts"],
        "school": row["school"],
        "hosts": row["hosts"],
    }


def backup_item(row: dict[str, Any]) -> dict[str, Any]:
    """A configuration backup as a ``backups`` item."""
    return {
        "id": int(row["id"]),
        "tag": row["tag"],
        "taken_at": iso(row["taken_at"]),
        "sha256": row["sha256"],
        "changed": bool(row["changed"]),
        "content": row["content"],
        "run": row["run"],
    }


@dataclass
class Outbox:
    """Builds batches of a site's records for ``site``/``school``."""

    store: Store
    site: str
    school: str
    batch_results: int = BATCH_RESULTS
    version: str = __version__

    def batch(self, stream: str, after: int, backlog: int = 0) -> tuple[dict[str, Any], bool]:
        """The next batch of ``stream`` above ``after``, and whether the stream ends there.

        ``backlog`` is what the site has to send before this batch; the batch states what is
        left after it.

        ``items`` may be empty with ``last`` > ``after`` (only pulled changes were skipped);
        ``last`` == ``after`` means nothing is left to send (or, for runs, the next one is still
        running).
        """
        with self.store.session() as s:
            repo = OutboxRepo(s)
            if stream == "changes":
                rows, last = repo.changes(after, BATCH_ITEMS)
                items = [change_item(r) for r in rows]
                done = len(rows) < BATCH_ITEMS
            elif stream == "runs":
                got = repo.runs(after, self.batch_results)
                items = [run_item(run, res) for run, res in got.runs]
                last = got.last
                done = got.blocked or not got.runs
            elif stream == "sweeps":
                rows, last = repo.sweeps(after, BATCH_SWEEPS)
                items = [sweep_item(r) for r in rows]
                done = len(rows) < BATCH_SWEEPS
            elif stream == "backups":
                rows, last = repo.backups(after, BATCH_BACKUPS, BATCH_BACKUP_BYTES)
                items = [backup_item(r) for r in rows]
                done = not rows
            else:
                raise ValueError(f"unknown sync stream {stream!r}")
        doc = {
            "format": FORMAT,
            "site": self.site,
            "school": self.school,
            "sent_at": iso(dt.datetime.now(dt.UTC)),
            "version": self.version,
            "backlog": max(0, backlog - len(items)),  # what is left once this batch is in
            "stream": stream,
            "items": items,
            "last": last,
        }
        return doc, done or last == after

    def batches(self, stream: str, after: int) -> Iterator[dict[str, Any]]:
        """Every batch of ``stream`` above ``after`` with items, in order (for bundles)."""
        while True:
            doc, done = self.batch(stream, after)
            if doc["items"]:
                yield doc
            if doc["last"] <= after or done:
                return
            after = int(doc["last"])

    def everything(self, cursors: dict[str, int]) -> Iterator[dict[str, Any]]:
        """Every stream's batches above ``cursors``, in :data:`STREAMS` order."""
        for stream in STREAMS:
            yield from self.batches(stream, cursors.get(stream, 0))
