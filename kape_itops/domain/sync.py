"""Two-tier sync: the wire format's names and the records both sides exchange (no I/O).

A *site* (a school's collector or an IT officer's laptop) pushes *batches*: one stream each,
items in ascending local id, every id above the server's *mark* for that stream. The server
commits a batch in one transaction and answers with an :class:`Ack` naming its new mark; the
site moves its cursor there. A record's global id is (site uid, stream, local id), stored on the
server as ``origin_site_id``/``origin_id`` (unique), so a resend can never store it twice.

Batch (JSON; gzip on the wire)::

    {"format": "kape-itops-sync/1", "site": UID, "school": CODE, "sent_at": ISO-8601 (site clock),
     "version": "0.1.0", "backlog": N, "stream": "changes"|"runs"|"sweeps"|"backups",
     "items": [...], "last": LOCAL-ID}

``last`` is the highest local id the batch covers (at least the last item's id; higher when the
site skipped records in between, such as inventory it pulled from the server). Item shapes are
documented in :mod:`kape_itops.sync.wire`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

FORMAT = "kape-itops-sync/1"
BUNDLE_FORMAT = "kape-itops-bundle/1"
STREAMS = ("changes", "runs", "sweeps", "backups")
"""Push order: inventory first (so devices exist), runs before the backups that name them."""
RESULT_COLUMNS = (
    "tag",
    "target",
    "probe",
    "status",
    "reason",
    "method",
    "metrics",
    "at",
    "duration_ms",
    "attempts",
)
"""The columns of a ``runs`` item's ``results`` (equal-length lists; ``at`` in Unix seconds)."""
PULL_SOURCE = "sync:pull"
"""``source`` prefix of change-log entries a site wrote while applying the server's inventory
(never pushed back)."""
CLOCK_TOLERANCE_S = 60.0
"""A site whose clock differs from the server's by more than this is flagged."""


@dataclass(frozen=True, slots=True)
class Site:
    """An enrolled collector or laptop, as the server knows it."""

    id: int
    uid: str
    school: str
    name: str
    public_key: str
    enrolled_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_sync_at: dt.datetime | None = None
    clock_offset_s: float | None = None
    version: str | None = None
    backlog: int | None = None

    @property
    def clock_off(self) -> bool:
        """Whether the site's clock was off by more than :data:`CLOCK_TOLERANCE_S`."""
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > CLOCK_TOLERANCE_S


@dataclass(frozen=True, slots=True)
class JoinGrant:
    """What a site receives for a valid enrolment token (the credential only this once)."""

    site_uid: str
    school: str
    credential: str
    server_time: dt.datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    """One inventory field edited in two places: ``kept`` (the later edit) won."""

    entity: str
    key: str
    field: str
    kept: str | None
    kept_at: dt.datetime
    kept_by: str
    other: str | None
    other_at: dt.datetime
    other_by: str
    site_uid: str | None = None
    found_at: dt.datetime | None = None
    id: int | None = None
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """The server's answer to one batch: its new mark for the stream, and what it did."""

    stream: str
    mark: int
    committed: int
    duplicates: int
    received_at: dt.datetime
    clock_offset_s: float | None = None
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class Hello:
    """The server's answer to a site's greeting: its marks, and the clock comparison."""

    school: str
    marks: dict[str, int]
    server_time: dt.datetime
    clock_offset_s: float | None


@dataclass(slots=True)
class PushReport:
    """What one ``itops sync`` push sent, per stream."""

    batches: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    committed: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    backlog: int = 0
    """Records still unsent when the push stopped (0 when it finished)."""
    error: str | None = None
    """Why the push stopped early (link down, refused), or None."""


@dataclass(frozen=True, slots=True)
class SiteStatus:
    """One line of ``itops server status``."""

    site: Site
    silent_for: dt.timedelta | None
    records: dict[str, int]
    """Records held from this site, per stream."""


JSONDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """One line of the sync audit trail: a join, a refusal, a revocation, a bundle import."""

    id: int
    at: dt.datetime
    kind: str
    detail: str
    site_uid: str | None = None
    school: str | None = None
