"""The site side of sync (a school's collector or an IT officer's laptop): :class:`SyncSite`.

- ``join``: exchange a one-time token for this site's credential; the credential and a new
  Ed25519 signing key go to the secrets file (``[server.sync]``, 0600), the identity (site uid,
  school, URL) to the database (``sync_local``).
- ``push``: hello (the server's marks move the cursors up), then per stream in
  :data:`~kape_itops.domain.sync.STREAMS` order, batch after batch read from the database in
  id order; each cursor moves only after the server's ack, in its own small transaction with
  the conflicts the ack reports. A lost link stops the push (reported, not raised); the worst
  case of any failure is a resend, which the server counts as duplicates.
- ``pull``: apply the server's inventory of the school (:mod:`.inventory_pull`).
- ``export``: a signed bundle of everything above the cursors (cursors unchanged).
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops import __version__
from kape_itops.domain.sync import FORMAT, STREAMS, Ack, Conflict, JoinGrant, PushReport
from kape_itops.errors import LinkError, SecretsError, SyncError, UsageError
from kape_itops.secrets import Secret, SyncSecrets, read_sync_section, write_sync_section
from kape_itops.store.conflict_repo import ConflictRepo
from kape_itops.store.db import Store
from kape_itops.store.outbox_repo import OutboxRepo
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.sync import bundle, keys, wire
from kape_itops.sync.inventory_pull import PullStats, apply_pull
from kape_itops.sync.outbox import BATCH_RESULTS, Outbox, encode, iso
from kape_itops.sync.transport import Transport

__all__ = ["ExportReport", "LocalStatus", "PullStats", "SyncReport", "SyncSite"]

MAX_BATCHES = 1_000_000
"""Upper bound of batches per stream in one push (each one moves the cursor up)."""


@dataclass(slots=True)
class SyncReport:
    """What one ``itops sync`` did: the push, then the pull (None when it did not run)."""

    push: PushReport
    pull: PullStats | None = None
    clock_offset_s: float | None = None
    error: str | None = None
    """Why the sync stopped early (the push's error, or the pull's), or None."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """A written bundle."""

    path: Path
    batches: int
    records: dict[str, int]
    bytes: int


@dataclass(frozen=True, slots=True)
class LocalStatus:
    """``itops sync status``: who this site is, what it still has to send."""

    joined: bool
    site: str | None = None
    school: str | None = None
    url: str | None = None
    joined_at: dt.datetime | None = None
    cursors: dict[str, int] = field(default_factory=dict)
    backlog: dict[str, int] = field(default_factory=dict)
    last_sync_at: dt.datetime | None = None
    last_error: str | None = None
    clock_offset_s: float | None = None
    conflicts: int = 0


def _time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _int(doc: Mapping[str, Any], key: str) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise LinkError(f"the server's answer has no whole number '{key}': not a sync server?")
    return value


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def conflict_from(doc: Mapping[str, Any]) -> Conflict:
    """A conflict of an ack (ISO times) as the domain record; LinkError when malformed."""
    try:
        return wire.conflict_from_json(dict(doc))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError(f"the server's ack holds a malformed conflict: {exc}") from exc


def ack_from(doc: Any, stream: str) -> Ack:
    """The server's answer to a batch as an :class:`Ack`; LinkError when it is not one."""
    if not isinstance(doc, dict) or doc.get("stream") != stream:
        raise LinkError(f"the server's answer to a {stream} batch is not its ack")
    received = _time(doc.get("received_at")) or dt.datetime.now(dt.UTC)
    raw = doc.get("conflicts") or []
    if not isinstance(raw, list):
        raise LinkError("the server's ack has a malformed conflict list")
    return Ack(
        stream=stream,
        mark=_int(doc, "mark"),
        committed=_int(doc, "committed"),
        duplicates=_int(doc, "duplicates"),
        received_at=received,
        clock_offset_s=_float(doc.get("clock_offset_s")),
        conflicts=tuple(conflict_from(c) for c in raw if isinstance(c, dict)),
    )


class SyncSite:
    """Sync of this site's store with the server; ``actor`` names who runs it."""

    def __init__(
        self, store: Store, actor: str, secrets_path: Path | None = None, version: str = __version__
    ) -> None:
        self.store = store
        self.actor = actor
        self.secrets_path = secrets_path
        self.version = version

    # -- identity --------------------------------------------------------------------------
    def identity(self) -> dict[str, str]:
        """``sync_local``: site, school, url, joined_at, last_sync_at, ... (empty: not joined)."""
        with self.store.session() as s:
            return OutboxRepo(s).identity()

    def _joined(self) -> dict[str, str]:
        ident = self.identity()
        if not ident.get("site") or not ident.get("school"):
            raise UsageError("this site has not joined a server: itops sync join URL TOKEN")
        return ident

    def join(
        self,
        url: str,
        token: str,
        transport: Transport,
        cafile: str | None = None,
        name: str | None = None,
        force: bool = False,
    ) -> JoinGrant:
        """Exchange ``token`` for this site's credential; store it and a new signing key."""
        if self.secrets_path is None:
            raise UsageError(
                "joining needs a secrets file for the site's credential: --secrets or ITOPS_SECRETS"
            )
        ident = self.identity()
        held = read_sync_section(self.secrets_path) if self.secrets_path.exists() else None
        if (ident.get("site") or held is not None) and not force:
            where = ident.get("url") or (held.url if held else "?")
            uid = ident.get("site") or (held.site if held else "?")
            raise UsageError(
                f"this site already joined {where} as site {uid}; "
                "to join again (a new identity) use --force"
            )
        private, public = keys.new_key_pair()
        answer = transport.join(token, public, (name or socket.gethostname())[:100], self.version)
        site, school, credential = (answer.get(k) for k in ("site", "school", "credential"))
        if not all(isinstance(v, str) and v for v in (site, school, credential)):
            raise LinkError("the server's answer to join is not a grant: not a sync server?")
        assert isinstance(site, str) and isinstance(school, str) and isinstance(credential, str)
        grant = JoinGrant(
            site_uid=site,
            school=school,
            credential=credential,
            server_time=_time(answer.get("server_time")) or dt.datetime.now(dt.UTC),
        )
        section = SyncSecrets(url, site, school, Secret(credential), private, cafile)
        write_sync_section(self.secrets_path, section)
        with self.store.write() as s:
            repo = OutboxRepo(s)
            if ident.get("url") not in (None, url):
                repo.reset_cursors()  # another server has none of this site's records
            repo.set_identity(
                {
                    "site": site,
                    "school": school,
                    "url": url,
                    "joined_at": iso(dt.datetime.now(dt.UTC)),
                    "last_error": None,
                }
            )
        return grant

    # -- push ------------------------------------------------------------------------------
    def _hello(self, transport: Transport, ident: Mapping[str, str], backlog: int) -> float | None:
        answer = transport.hello(
            {
                "format": FORMAT,
                "site": ident["site"],
                "school": ident["school"],
                "sent_at": iso(dt.datetime.now(dt.UTC)),
                "version": self.version,
                "backlog": backlog,
            }
        )
        marks = answer.get("marks") if isinstance(answer, dict) else None
        if not isinstance(marks, dict):
            raise LinkError("the server's answer to hello has no marks: not a sync server?")
        if str(answer.get("school", ident["school"])) != ident["school"]:
            raise SyncError(
                f"the server holds this site as school {str(answer.get('school'))[:32]!r}, "
                f"this database as {ident['school']}; join again"
            )
        with self.store.write() as s:
            repo = OutboxRepo(s)
            newest = repo.newest_ids()
            for stream in STREAMS:
                mark = marks.get(stream)
                if not isinstance(mark, int) or isinstance(mark, bool) or mark <= 0:
                    continue
                if mark > newest[stream]:  # records made from now on would pass as resends
                    raise SyncError(
                        f"the server holds {stream} up to id {mark} from site {ident['site']}, "
                        f"but this database's newest is {newest[stream]}: it was restored or "
                        "replaced; join again with a new token: itops sync join URL TOKEN --force"
                    )
                repo.advance(stream, mark)  # committed there, the ack was lost
        return _float(answer.get("clock_offset_s"))

    def _close_orphans(self) -> None:
        with self.store.write() as s:
            ProbeRepo(s).close_orphans()

    def _backlog(self) -> dict[str, int]:
        with self.store.session() as s:
            return OutboxRepo(s).backlog()

    def push(self, transport: Transport, batch_results: int = BATCH_RESULTS) -> PushReport:
        """Send everything not yet acknowledged; a lost link stops it (``report.error``).

        AuthError, ForbiddenError and PayloadError (the server refused) are raised.
        """
        return self._push(transport, batch_results)[0]

    def _push(self, transport: Transport, batch_results: int) -> tuple[PushReport, float | None]:
        ident = self._joined()
        self._close_orphans()
        report = PushReport()
        left = sum(self._backlog().values())
        offset: float | None = None
        try:
            offset = self._hello(transport, ident, left)
            outbox = Outbox(self.store, ident["site"], ident["school"], batch_results, self.version)
            for stream in STREAMS:
                left = self._push_stream(transport, outbox, stream, report, left)
        except LinkError as exc:
            report.error = str(exc)
        except SyncError as exc:  # refused: raised, and remembered for 'sync status'
            self._note(str(exc), offset)
            raise
        report.backlog = sum(self._backlog().values())
        self._note(report.error, offset)
        return report, offset

    def _push_stream(
        self, transport: Transport, outbox: Outbox, stream: str, report: PushReport, left: int
    ) -> int:
        with self.store.session() as s:
            cursor = OutboxRepo(s).cursors()[stream]
        for _ in range(MAX_BATCHES):
            doc, done = outbox.batch(stream, cursor, left)
            last = int(doc["last"])
            if last <= cursor:
                return left
            items = len(doc["items"])
            conflicts: tuple[Conflict, ...] = ()
            if items:
                ack = ack_from(transport.push(encode(doc)), stream)
                report.batches += 1
                for counter, n in (
                    (report.sent, items),
                    (report.committed, ack.committed),
                    (report.duplicates, ack.duplicates),
                ):
                    counter[stream] = counter.get(stream, 0) + n
                conflicts = ack.conflicts
                report.conflicts.extend(conflicts)
                mark = ack.mark
            else:
                mark = last  # only pulled changes: nothing the server needs to acknowledge
            with self.store.write() as s:
                moved = OutboxRepo(s).advance(stream, mark)
                if conflicts:
                    ConflictRepo(s).add(conflicts, site_uid=outbox.site)
            left = max(0, left - items)
            if moved <= cursor:
                raise LinkError(
                    f"the server acknowledged {stream} up to {mark}, below this batch ({last})"
                )
            cursor = moved
            if done:
                return left
        return left

    def _note(self, error: str | None, offset: float | None) -> None:
        values: dict[str, str | None] = {"last_error": error}
        if error is None:
            values["last_sync_at"] = iso(dt.datetime.now(dt.UTC))
        if offset is not None:
            values["clock_offset_s"] = f"{offset:.3f}"
        with self.store.write() as s:
            OutboxRepo(s).set_identity(values)

    # -- pull, sync ------------------------------------------------------------------------
    def pull(self, transport: Transport) -> PullStats:
        """Apply the server's inventory of this site's school (local unacked edits kept)."""
        ident = self._joined()
        return apply_pull(self.store, transport.pull(), ident["school"], ident["url"])

    def sync(self, transport: Transport, batch_results: int = BATCH_RESULTS) -> SyncReport:
        """Push, then (if the push got through) pull."""
        push, offset = self._push(transport, batch_results)
        report = SyncReport(push=push, clock_offset_s=offset, error=push.error)
        if push.error is None:
            try:
                report.pull = self.pull(transport)
            except LinkError as exc:
                report.error = str(exc)
                self._note(report.error, None)
        return report

    # -- offline ---------------------------------------------------------------------------
    def _signing(self) -> SyncSecrets:
        if self.secrets_path is None:
            raise UsageError("exporting needs the secrets file with [server.sync] (--secrets)")
        section = read_sync_section(self.secrets_path)
        if section is None:
            raise SecretsError(f"{self.secrets_path} has no [server.sync]: itops sync join first")
        return section

    def export(self, out: Path, batch_results: int = BATCH_RESULTS) -> ExportReport:
        """Write a signed bundle of everything not yet acknowledged (the cursors stay)."""
        ident = self._joined()
        section = self._signing()
        if section.site != ident["site"]:
            raise SecretsError(
                f"{self.secrets_path} holds site {section.site}, this database {ident['site']}"
            )
        self._close_orphans()
        with self.store.session() as s:
            cursors = OutboxRepo(s).cursors()
        outbox = Outbox(self.store, ident["site"], ident["school"], batch_results, self.version)
        info = bundle.write_bundle(
            out,
            outbox.everything(cursors),
            site=ident["site"],
            school=ident["school"],
            signing_key=section.signing_key,
        )
        return ExportReport(info.path, info.batches, info.records, info.bytes)

    # -- status, conflicts -----------------------------------------------------------------
    def status(self) -> LocalStatus:
        """Identity, cursors, backlog per stream, last sync (no secrets read)."""
        with self.store.session() as s:
            repo = OutboxRepo(s)
            ident = repo.identity()
            cursors = repo.cursors()
            backlog = repo.backlog(cursors)
            conflicts = ConflictRepo(s).count()
        offset = ident.get("clock_offset_s")
        return LocalStatus(
            joined=bool(ident.get("site")),
            site=ident.get("site"),
            school=ident.get("school"),
            url=ident.get("url"),
            joined_at=_time(ident.get("joined_at")),
            cursors=cursors,
            backlog=backlog,
            last_sync_at=_time(ident.get("last_sync_at")),
            last_error=ident.get("last_error"),
            clock_offset_s=float(offset) if offset else None,
            conflicts=conflicts,
        )

    def conflicts(self, include_resolved: bool = False) -> list[Conflict]:
        """Conflicts the server reported for this site's edits, oldest first."""
        with self.store.session() as s:
            return ConflictRepo(s).list(include_resolved=include_resolved)

    def resolve(self, conflict_id: int) -> Conflict:
        """Mark a conflict resolved by this site's actor."""
        with self.store.write() as s:
            return ConflictRepo(s).resolve(conflict_id, self.actor)
