"""The server side of sync: enrolment, site credentials, batch ingest, pull, bundles, status.

One batch is one transaction: the site's mark for the stream is read and raised in it, items
at or below the mark (or already stored: the origin ids are unique) count as duplicates, so a
resend after any failure stores nothing twice. Everything is validated (:mod:`.wire`) before
the transaction; a batch that touches another school's data is refused (ForbiddenError) with
nothing written but an audit event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from kape_itops.domain.fields import to_text
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.domain.sync import (
    FORMAT,
    Ack,
    Conflict,
    Hello,
    JoinGrant,
    Site,
    SiteStatus,
    SyncEvent,
)
from kape_itops.errors import (
    AuthError,
    BundleError,
    ForbiddenError,
    NotFoundError,
    PayloadError,
)
from kape_itops.limits import Limits
from kape_itops.store.conflict_repo import ConflictRepo
from kape_itops.store.db import Store
from kape_itops.store.ingest_repo import IngestRepo
from kape_itops.store.ingest_rows import PreparedRun, prepare
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.sync_repo import ORIGIN_TABLES, SyncRepo
from kape_itops.sync import bundle, keys, wire
from kape_itops.sync.changes import ChangeApplier
from kape_itops.sync.wire import ack_json, grant_json, hello_json

__all__ = [
    "DEFAULT_TTL",
    "Enrolment",
    "ImportReport",
    "SyncServer",
    "ack_json",
    "grant_json",
    "hello_json",
]

log = logging.getLogger(__name__)

DEFAULT_TTL = dt.timedelta(days=7)
"""How long an enrolment token can be used."""


class Enrolment(NamedTuple):
    """A one-time enrolment token (shown once) and when it expires."""

    token: str
    expires_at: dt.datetime


@dataclass(slots=True)
class ImportReport:
    """What :meth:`SyncServer.import_bundle` applied."""

    path: Path
    site: str
    school: str
    batches: int = 0
    committed: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Ready(NamedTuple):
    """A runs batch prepared before the write lock, with the device ids it was built with."""

    devices: dict[str, int]
    runs: dict[int, PreparedRun]


class SyncServer:
    """Sync service over the central :class:`Store` (PostgreSQL, or SQLite for a small setup)."""

    def __init__(
        self,
        store: Store,
        actor: str = "server",
        limits: Limits | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.store = store
        self.actor = actor
        self.limits = limits or Limits.from_env()
        self.clock = clock

    # -- enrolment ---------------------------------------------------------------------------
    def enroll(
        self, school: str, ttl: dt.timedelta = DEFAULT_TTL, actor: str | None = None
    ) -> Enrolment:
        """A one-time token for ``school`` (only its SHA-256 is stored)."""
        token = keys.new_token()
        now = self.clock()
        with self.store.write() as s:
            repo = SyncRepo(s)
            school_id = repo.school_id(school)
            if school_id is None:
                raise NotFoundError(f"school '{school}' does not exist")
            who = actor or self.actor
            repo.add_enrolment(school_id, keys.sha256_hex(token), now, now + ttl, who)
            repo.event("enrol", f"{who} made a join token for {school}", now, None, school_id)
        return Enrolment(token, now + ttl)

    def join(
        self,
        token: str,
        public_key: str,
        name: str,
        version: str,
        now: dt.datetime | None = None,
    ) -> JoinGrant:
        """Exchange a valid, unused, unexpired token for a new site and its credential."""
        asked = wire.decode_join(
            {"token": token, "public_key": public_key, "name": name, "version": version},
            self.limits,
        )
        now = now or self.clock()
        credential = keys.new_token()
        uid = str(uuid.uuid4())
        with self.store.write() as s:
            repo = SyncRepo(s)
            enrolment = repo.enrolment(keys.sha256_hex(asked.token))
            why = None
            if enrolment is None:
                why = "unknown enrolment token"
            elif enrolment.used_at is not None:
                why = "this enrolment token was already used"
            elif enrolment.expires_at <= now:
                why = "this enrolment token has expired; make a new one with 'itops server enroll'"
            if why is not None or enrolment is None:
                log.warning("join refused: %s", why)
                raise AuthError(str(why))
            site = repo.add_site(
                enrolment,
                uid,
                asked.name,
                keys.sha256_hex(credential),
                asked.public_key,
                now,
                asked.version,
            )
            detail = f"site {uid} ({asked.name}, {asked.version}) joined {site.school}"
            repo.event("join", detail, now, site.id, enrolment.school_id)
        log.info("%s", detail)
        return JoinGrant(site_uid=uid, school=site.school, credential=credential, server_time=now)

    def authenticate(self, credential: str) -> Site:
        """The site of a bearer credential; AuthError when unknown or revoked."""
        if not credential or len(credential) > 200:
            raise AuthError("unknown site credential")
        with self.store.session() as s:
            site = SyncRepo(s).by_token(keys.sha256_hex(credential))
        if site is None:
            raise AuthError("unknown site credential")
        if site.revoked_at is not None:
            raise AuthError(f"site {site.uid} was revoked; enrol it again")
        return site

    def revoke(
        self, school: str, site_uid: str | None = None, actor: str | None = None
    ) -> list[Site]:
        """Revoke the school's sites (or one); returns those revoked now."""
        now = self.clock()
        who = actor or self.actor
        with self.store.write() as s:
            repo = SyncRepo(s)
            school_id = repo.school_id(school)
            if school_id is None:
                raise NotFoundError(f"school '{school}' does not exist")
            uids = repo.revoke(school_id, site_uid, now)
            out = []
            for uid in uids:
                site = repo.by_uid(uid)
                assert site is not None
                out.append(site)
                repo.event(
                    "revoke", f"{who} revoked site {uid} of {school}", now, site.id, school_id
                )
        for site in out:
            log.warning("revoked site %s of %s", site.uid, school)
        return out

    # -- the site's calls --------------------------------------------------------------------
    def _current(self, repo: SyncRepo, site: Site) -> Site:
        """The site as stored now (revoked since it authenticated: AuthError)."""
        cur = repo.site(site.id)
        if cur is None or cur.revoked_at is not None:
            raise AuthError(f"site {site.uid} was revoked; enrol it again")
        return cur

    def hello(self, site: Site, payload: bytes | dict[str, Any]) -> Hello:
        """Record the contact (clock offset, version, backlog); answer with the marks."""
        got = wire.decode_hello(payload, site.uid, site.school, self.limits)
        now = self.clock()
        offset = (got.sent_at - now).total_seconds()
        with self.store.write() as s:
            repo = SyncRepo(s)
            self._current(repo, site)
            repo.touch(site.id, now, got.version, got.backlog, offset)
            marks = repo.marks(site.id)
        return Hello(school=site.school, marks=marks, server_time=now, clock_offset_s=offset)

    def ingest(
        self,
        site: Site,
        batch: bytes | dict[str, Any],
        received_at: dt.datetime | None = None,
    ) -> Ack:
        """Commit one batch in one transaction (idempotent); the ack names the new mark."""
        return self._ingest(site, batch, received_at or self.clock(), live=True)

    def _ingest(
        self, site: Site, data: bytes | dict[str, Any], received: dt.datetime, live: bool
    ) -> Ack:
        try:
            batch = wire.decode_batch(data, site.uid, site.school, self.limits)
        except PayloadError as exc:
            log.warning("batch of site %s (%s) refused: %s", site.uid, site.school, exc)
            raise
        offset = (batch.sent_at - received).total_seconds() if live else None
        ready = self._prepare(site, batch.items) if batch.stream == "runs" else None
        try:
            with self.store.write() as s:
                repo = SyncRepo(s)
                self._current(repo, site)
                mark = repo.mark(site.id, batch.stream)
                fresh = [i for i in batch.items if i["id"] > mark]
                held = repo.existing(batch.stream, site.id, [i["id"] for i in fresh])
                fresh = [i for i in fresh if i["id"] not in held]
                committed, conflicts = self._apply(s, site, batch.stream, fresh, received, ready)
                stored = ConflictRepo(s).add(conflicts, site.uid, received)
                new_mark = max(mark, batch.last)
                repo.set_mark(site.id, batch.stream, new_mark, received)
                repo.touch(site.id, received, batch.version, batch.backlog, offset)
        except ForbiddenError as exc:
            self._refused(site, str(exc))
            raise
        return Ack(
            stream=batch.stream,
            mark=new_mark,
            committed=committed,
            duplicates=len(batch.items) - len(fresh),
            received_at=received,
            clock_offset_s=offset,
            conflicts=tuple(stored),
        )

    def _refused(self, site: Site, why: str) -> None:
        """Log a refused batch (its own transaction: the batch's was rolled back)."""
        log.warning("refused: %s", why)
        with self.store.write() as s:
            repo = SyncRepo(s)
            repo.event("refused", why, self.clock(), site.id, repo.school_id(site.school))

    def _prepare(self, site: Site, items: list[dict[str, Any]]) -> _Ready | None:
        """The rows of a runs batch, built before the write lock (None when a tag is another
        school's: the locked path refuses it, or finds it only among duplicates)."""
        tags = sorted({t for i in items for t in i["results"]["tag"] if t is not None})
        with self.store.session() as s:
            found = IngestRepo(s).devices(tags)
        if any(school != site.school for _, school in found.values()):
            return None
        devices = {t: d for t, (d, _) in found.items()}
        copy = self.store.dialect == "postgresql"
        return _Ready(devices, {i["id"]: prepare(i, devices, copy) for i in items})

    def _apply(
        self,
        s: Any,
        site: Site,
        stream: str,
        items: list[dict[str, Any]],
        now: dt.datetime,
        ready: _Ready | None = None,
    ) -> tuple[int, list[Conflict]]:
        ingest = IngestRepo(s)
        if stream == "changes":
            applier = ChangeApplier(InventoryRepo(s), ingest, site, now)
            applier.apply(items)
            return len(items), applier.conflicts
        if stream == "sweeps":
            for n, item in enumerate(items):
                if item["school"] != site.school:
                    raise ForbiddenError(
                        f"site {site.uid} of school {site.school} sent a discovery sweep of "
                        f"school {item['school']!r} (item {n})"
                    )
            school_id = SyncRepo(s).school_id(site.school)
            assert school_id is not None
            return ingest.add_sweeps(site.id, school_id, items), []
        if stream == "runs":
            tags = {t for i in items for t in i["results"]["tag"] if t is not None}
            devices = self._own(ingest, site, tags, "results of")
            if ready is not None and all(ready.devices.get(t) == devices.get(t) for t in tags):
                runs = [ready.runs[i["id"]] for i in items]  # no device moved meanwhile
            else:
                copy = self.store.dialect == "postgresql"
                runs = [prepare(i, devices, copy) for i in items]
            ingest.add_runs(site.id, runs, [i["id"] for i in items], now)
            return len(items), []
        devices = self._own(ingest, site, {i["tag"] for i in items}, "a backup of")
        known = [i for i in items if i["tag"] in devices]
        if len(known) < len(items):
            log.warning(
                "site %s: %d backups of devices the server does not know were skipped",
                site.uid,
                len(items) - len(known),
            )
        return ingest.add_backups(site.id, known, devices), []

    def _own(self, ingest: IngestRepo, site: Site, tags: set[str], what: str) -> dict[str, int]:
        """Device ids of ``tags`` known here; ForbiddenError if one is another school's."""
        found = ingest.devices(sorted(tags))
        foreign = sorted(t for t, (_, school) in found.items() if school != site.school)
        if foreign:
            schools = sorted({found[t][1] for t in foreign})
            raise ForbiddenError(
                f"site {site.uid} of school {site.school} sent {what} device(s) "
                f"{', '.join(foreign[:5])} of school(s) {', '.join(schools[:5])}"
            )
        return {t: d for t, (d, _) in found.items()}

    def pull(self, site: Site) -> dict[str, Any]:
        """The school, its rooms and its devices (every field; credentials by name only)."""
        now = self.clock()
        with self.store.session() as s:
            repo = SyncRepo(s)
            self._current(repo, site)
            inv = InventoryRepo(s)
            school = inv.school(site.school)
            if school is None:
                raise NotFoundError(f"school '{site.school}' does not exist")
            school_id = repo.school_id(site.school)
            assert school_id is not None
            rooms = repo.rooms(school_id)
            devices = [_fields(d) for d in inv.iter_devices(DeviceFilter(schools=(site.school,)))]
        return {
            "format": FORMAT,
            "school": _fields(school),
            "rooms": rooms,
            "devices": devices,
            "server_time": now.isoformat(),
        }

    # -- bundles -----------------------------------------------------------------------------
    def import_bundle(self, path: Path) -> ImportReport:
        """Apply a signed bundle batch by batch (idempotent); BundleError when it is foreign,
        revoked, tampered with or unreadable (nothing applied). The bundle is verified and
        applied from one private copy."""
        path = Path(path)
        with bundle.private_copy(path) as copy:
            return self._import_bundle(path, copy)

    def _import_bundle(self, path: Path, copy: Path) -> ImportReport:
        header = bundle.read_header(copy)
        with self.store.session() as s:
            site = SyncRepo(s).by_uid(header.site)
        if site is None:
            raise BundleError(f"{path}: foreign bundle: site {header.site} is not enrolled here")
        if site.revoked_at is not None:
            raise BundleError(f"{path}: foreign bundle: site {site.uid} was revoked; refused")
        if header.school != site.school:
            raise BundleError(
                f"{path}: foreign bundle: it names school {header.school}, site {site.uid} "
                f"is enrolled for {site.school}"
            )
        bundle.verify(copy, site.public_key)
        report = ImportReport(path, site.uid, site.school)
        now = self.clock()
        for n, batch in enumerate(bundle.iter_batches(copy, self.limits)):
            try:
                ack = self._ingest(site, batch, now, live=False)
            except (PayloadError, ForbiddenError, AuthError) as exc:
                self._event(site, "import", f"{path.name}: refused at batch {n}: {exc}")
                raise BundleError(f"{path}: batch {n} refused: {exc}") from exc
            report.batches += 1
            _add(report.committed, ack.stream, ack.committed)
            _add(report.duplicates, ack.stream, ack.duplicates)
            report.conflicts.extend(ack.conflicts)
        done = sum(report.committed.values())
        self._event(site, "import", f"{path.name}: {report.batches} batches, {done} records")
        return report

    def _event(self, site: Site, kind: str, detail: str) -> None:
        with self.store.write() as s:
            repo = SyncRepo(s)
            repo.event(kind, detail, self.clock(), site.id, repo.school_id(site.school))

    # -- reads -------------------------------------------------------------------------------
    def status(self) -> list[SiteStatus]:
        """One line per site: last sync, backlog, clock offset, version, records held."""
        now = self.clock()
        with self.store.session() as s:
            repo = SyncRepo(s)
            held = repo.records_by_site()
            none = dict.fromkeys(ORIGIN_TABLES, 0)
            return [
                SiteStatus(
                    site=site,
                    silent_for=now - site.last_sync_at if site.last_sync_at else None,
                    records=held.get(site.id, none),
                )
                for site in repo.sites()
            ]

    def conflicts(
        self, school: str | None = None, include_resolved: bool = False
    ) -> list[Conflict]:
        """Inventory conflicts (of ``school``'s sites), oldest first."""
        with self.store.session() as s:
            uids = None
            if school is not None:
                uids = [site.uid for site in SyncRepo(s).sites(school)]
            return ConflictRepo(s).list(site_uids=uids, include_resolved=include_resolved)

    def resolve(self, conflict_id: int, actor: str | None = None) -> Conflict:
        """Mark a conflict resolved by ``actor``."""
        with self.store.write() as s:
            return ConflictRepo(s).resolve(conflict_id, actor or self.actor, self.clock())

    def events(self, limit: int = 100, kind: str | None = None) -> list[SyncEvent]:
        """The audit trail, newest first."""
        with self.store.session() as s:
            return SyncRepo(s).events(limit, kind)


def _fields(obj: Any) -> dict[str, Any]:
    """A school or device as field texts (None when empty), as the change log writes them."""
    return {f.name: (to_text(getattr(obj, f.name)) or None) for f in dataclasses.fields(obj)}


def _add(counts: dict[str, int], key: str, n: int) -> None:
    counts[key] = counts.get(key, 0) + n
