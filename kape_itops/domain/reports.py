"""Plain data the store hands to the report computations: rollup buckets, alert state, the
statistics of rollup and retention passes, and Unix-second bucket times (no I/O, no ORM)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOUR = 3600
DAY = 86400


def epoch(t: dt.datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(t.timestamp())


def from_epoch(t: int) -> dt.datetime:
    """An aware UTC datetime from Unix seconds."""
    return dt.datetime.fromtimestamp(t, dt.UTC)


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """How many results of each status."""

    ok: float = 0
    warn: float = 0
    crit: float = 0
    unknown: float = 0

    @property
    def total(self) -> float:
        """All results counted."""
        return self.ok + self.warn + self.crit + self.unknown

    def __add__(self, other: StatusCounts) -> StatusCounts:
        return StatusCounts(
            self.ok + other.ok,
            self.warn + other.warn,
            self.crit + other.crit,
            self.unknown + other.unknown,
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    """One rollup bucket of one device × probe (``start`` in Unix seconds, UTC)."""

    device_id: int
    probe: str
    start: int
    counts: StatusCounts
    rtt_count: int = 0
    rtt_sum: float = 0.0
    loss_count: int = 0
    loss_sum: float = 0.0
    sketch: Mapping[int, int] | Mapping[str, int] = field(default_factory=dict)
    """Latency sketch; keys may be strings as stored in JSON."""
    last_at: int = 0
    last_status: str = "unknown"
    last_reason: str = ""
    last_metrics: Mapping[str, Any] = field(default_factory=dict)
    last_up_at: int | None = None


@dataclass(frozen=True, slots=True)
class AlertState:
    """A problem the alert hook is tracking across probe runs."""

    key: str
    kind: str
    severity: str
    asset_tag: str | None
    probe: str | None
    consecutive: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    notified: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """A device's database id with its tag, school and kind (for joining rollups)."""

    id: int
    asset_tag: str
    school: str
    kind: str


@dataclass(frozen=True, slots=True)
class SchoolSync:
    """What the server knows of one school's enrolled (not revoked) sites: when the newest of
    them last synced, when the first was enrolled, and the newest probe run they sent."""

    school: str
    sites: int
    enrolled_at: dt.datetime
    last_sync_at: dt.datetime | None
    newest_run_at: dt.datetime | None = None
    """End (site clock) of the newest run the school's sites pushed; None when none did."""


@dataclass(frozen=True, slots=True)
class RollupStats:
    """What a rollup pass did."""

    results_read: int
    hourly_written: int
    daily_written: int
    since: dt.datetime | None


@dataclass(frozen=True, slots=True)
class PruneStats:
    """What one retention pass did."""

    rollup: RollupStats
    cutoff: dt.datetime
    results_deleted: int
    runs_deleted: int
    sweeps_deleted: int = 0
    """Discovery sweeps (with their hosts) older than the keep period."""
