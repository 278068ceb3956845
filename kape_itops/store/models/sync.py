"""Two-tier sync: enrolled sites, one-time enrolment tokens, per-site marks, conflicts, events.

Server side: :class:`SiteRow` (one per enrolled collector or laptop), :class:`EnrolmentRow`
(one-time tokens), :class:`SyncMarkRow` (per site and stream, the highest local id committed),
:class:`SyncEventRow` (audit: joins, refusals, revocations, imports).
Collector side: :class:`SyncLocalRow` (this site's identity, key/value) and
:class:`SyncCursorRow` (per stream, the highest local id the server acknowledged).
Both sides: :class:`ConflictRow` (per-field inventory edits that lost a merge, for a person).

Records that came from a site carry ``origin_site_id``/``origin_id`` (the global id: site +
local id) in ``probe_runs``, ``changes``, ``discovery_sweeps`` and ``config_backups``, each pair
unique; ``probe_runs.received_at`` is the server's receive time beside the collector's
measurement times.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kape_itops.store.models.base import Base


class SiteRow(Base):
    """An enrolled collector or laptop (server side)."""

    __tablename__ = "sync_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    """The site's global id (a UUID the server issues at join)."""
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    name: Mapped[str] = mapped_column(String(100))
    """What the site called itself at join (host name), for people."""
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the site's bearer credential (a 256-bit random token; never stored)."""
    public_key: Mapped[str] = mapped_column(String(64))
    """Hex of the site's Ed25519 public key: verifies its signed bundles."""
    enrolled_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_sync_at: Mapped[dt.datetime | None]
    """Server time of the last batch or hello from this site."""
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    """Site clock minus server clock at the last contact, in seconds."""
    version: Mapped[str | None] = mapped_column(String(32))
    backlog: Mapped[int | None] = mapped_column(Integer)
    """Records the site said it still had to send at its last contact."""


class EnrolmentRow(Base):
    """A one-time enrolment token (server side); only its hash is stored."""

    __tablename__ = "sync_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sync_sites.id"))
    actor: Mapped[str] = mapped_column(String(100))


class SyncMarkRow(Base):
    """Per site and stream, the highest local id the server committed (server side)."""

    __tablename__ = "sync_marks"

    site_id: Mapped[int] = mapped_column(ForeignKey("sync_sites.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    mark: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime]


class SyncEventRow(Base):
    """Audit trail of sync: joins, batches refused (403/4xx), revocations, bundle imports."""

    __tablename__ = "sync_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sync_sites.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


class SyncLocalRow(Base):
    """This site's identity, key/value (collector side): site uid, school, server URL."""

    __tablename__ = "sync_local"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncCursorRow(Base):
    """Per stream, the highest local id the server acknowledged (collector side)."""

    __tablename__ = "sync_cursors"

    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    acked: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime]


class ConflictRow(Base):
    """An inventory field edited in two places: ``kept`` won (later edit), ``other`` lost."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    found_at: Mapped[dt.datetime]
    site_uid: Mapped[str | None] = mapped_column(String(36))
    entity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(64))
    kept: Mapped[str | None] = mapped_column(Text)
    kept_at: Mapped[dt.datetime]
    kept_by: Mapped[str] = mapped_column(String(100))
    other: Mapped[str | None] = mapped_column(Text)
    other_at: Mapped[dt.datetime]
    other_by: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None]
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
