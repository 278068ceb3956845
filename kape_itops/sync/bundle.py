"""Sync bundles: a site's unacknowledged batches in one signed file, for a USB stick or e-mail.

File layout::

    {"format": "kape-itops-bundle/1", "site": UID, "school": CODE, "created_at": ISO,
     "batches": N, "records": {stream: n}, "body_sha256": HEX, "signature": HEX}\\n
    <gzip stream of JSON lines: one batch (the wire format of kape_itops.domain.sync) a line>

The first line is the *header* (plain JSON, at most :data:`HEADER_MAX` bytes). ``signature``
is the site's Ed25519 signature (hex) over the canonical JSON
(:func:`kape_itops.sync.keys.canonical_json`) of the header without ``signature``;
``body_sha256`` is the SHA-256 of every byte after the header line, so the signature covers the
body too. Writing and reading both stream: neither side holds more than one batch in memory.

Reader API (what ``SyncServer.import_bundle`` calls; every failure is a
:class:`~kape_itops.errors.BundleError` naming the file and what is wrong):

- :func:`read_header` (path) -> :class:`BundleHeader`: parse and check the header only.
- :func:`verify` (path, public_key) -> :class:`BundleHeader`: header, signature with the
  site's public key (hex), then the body's SHA-256 in one streaming pass. Call it before
  applying anything; the site itself (known, not revoked) is the caller's check.
- :func:`iter_batches` (path) -> iterator of batch dicts, one decoded line at a time, in file
  order; checks the count of batches against the header at the end.
- :func:`private_copy` (path): a context manager yielding a copy of the file in a private
  temporary folder, so the file that is applied is the file that was verified (a bundle on a
  USB stick or a shared folder can change between two reads); errors name the original file.

Writer: :func:`write_bundle` (out, batches, site=, school=, signing_key=) -> :class:`BundleInfo`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kape_itops.atomic import atomic_write, require_folder
from kape_itops.domain.sync import BUNDLE_FORMAT
from kape_itops.errors import BundleError
from kape_itops.limits import Limits
from kape_itops.secrets import Secret
from kape_itops.sync import keys

__all__ = ["BundleHeader", "BundleInfo", "iter_batches", "read_header", "verify", "write_bundle"]

HEADER_MAX = 64 * 1024
"""Longest header line read (bytes)."""
_COPY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleHeader:
    """The parsed first line of a bundle."""

    site: str
    school: str
    created_at: dt.datetime
    batches: int
    body_sha256: str
    signature: str
    records: dict[str, int] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    """The header as read, ``signature`` included (what the signature covers, less it)."""


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What :func:`write_bundle` wrote."""

    path: Path
    batches: int
    records: dict[str, int]
    bytes: int
    header: BundleHeader


def _items(batch: Mapping[str, Any]) -> int:
    items = batch.get("items")
    return len(items) if isinstance(items, list) else 0


def write_bundle(
    out: Path,
    batches: Iterable[Mapping[str, Any]],
    *,
    site: str,
    school: str,
    signing_key: Secret,
    created_at: dt.datetime | None = None,
) -> BundleInfo:
    """Write ``batches`` (consumed one at a time) as a signed bundle at ``out``, atomically.

    The body goes to a temporary file first (its hash and batch count belong in the header),
    then header and body are copied into ``out`` through :func:`kape_itops.atomic.atomic_write`
    (mode 0600: a bundle holds a school's data). OutputError when ``out`` cannot be written.
    """
    out = Path(out)
    require_folder(out)  # before the work, not after it
    created = (created_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    count = 0
    records: dict[str, int] = {}
    digest = hashlib.sha256()
    with tempfile.TemporaryFile(dir=out.parent) as body:
        hashing = _HashingWriter(body, digest)
        with gzip.GzipFile(fileobj=hashing, mode="wb", mtime=0) as gz:
            for batch in batches:
                gz.write(json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode())
                gz.write(b"\n")
                count += 1
                stream = str(batch.get("stream", ""))
                records[stream] = records.get(stream, 0) + _items(batch)
        doc: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "site": site,
            "school": school,
            "created_at": created.isoformat(),
            "batches": count,
            "records": records,
            "body_sha256": digest.hexdigest(),
        }
        doc["signature"] = keys.sign_json(signing_key, doc)
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        body.seek(0)
        with atomic_write(out, "wb", perms=0o600) as fh:
            fh.write(line)
            shutil.copyfileobj(body, fh, _COPY)
            size = fh.tell()
    return BundleInfo(out, count, records, size, _header(doc, out))


class _HashingWriter:
    """A write-only file object that hashes what passes through it."""

    def __init__(self, target: IO[bytes], digest: Any) -> None:
        self._target = target
        self._digest = digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._target.write(data)

    def flush(self) -> None:
        self._target.flush()


def _header(doc: Mapping[str, Any], path: Path) -> BundleHeader:
    """Check the header's fields and types (not the signature)."""

    def bad(what: str) -> BundleError:
        return BundleError(f"{path}: not a sync bundle: {what}")

    if not isinstance(doc, dict):
        raise bad("the first line is not a JSON object")
    if doc.get("format") != BUNDLE_FORMAT:
        raise bad(f"format is {str(doc.get('format'))[:40]!r}, expected {BUNDLE_FORMAT!r}")
    for name in ("site", "school", "created_at", "body_sha256", "signature"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            raise bad(f"header field '{name}' is missing or not text")
    n = doc.get("batches")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise bad("header field 'batches' is not a count")
    try:
        created = dt.datetime.fromisoformat(doc["created_at"])
    except ValueError as exc:
        raise bad("header field 'created_at' is not an ISO-8601 time") from exc
    if created.tzinfo is None:
        raise bad("header field 'created_at' has no UTC offset")
    raw = doc.get("records") or {}
    if not isinstance(raw, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw.values()
    ):
        raise bad("header field 'records' is not a map of counts")
    return BundleHeader(
        site=doc["site"],
        school=doc["school"],
        created_at=created,
        batches=n,
        body_sha256=doc["body_sha256"],
        signature=doc["signature"],
        records={str(k): int(v) for k, v in raw.items()},
        fields=dict(doc),
    )


def _open(path: Path) -> IO[bytes]:
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise BundleError(f"{path}: cannot read the bundle: {exc.strerror or exc}") from exc


def _read_header(fh: IO[bytes], path: Path) -> BundleHeader:
    try:
        line = fh.readline(HEADER_MAX + 1)
    except OSError as exc:
        raise BundleError(f"{path}: cannot read the bundle: {exc.strerror or exc}") from exc
    if not line:
        raise BundleError(f"{path}: not a sync bundle: the file is empty")
    if len(line) > HEADER_MAX or not line.endswith(b"\n"):
        raise BundleError(f"{path}: not a sync bundle: no header line (of at most 64 KiB)")
    try:
        doc = json.loads(line)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleError(f"{path}: not a sync bundle: the header is not JSON") from exc
    return _header(doc, path)


def read_header(path: Path) -> BundleHeader:
    """The bundle's header, checked for shape only (BundleError otherwise)."""
    with _open(path) as fh:
        return _read_header(fh, path)


def verify(path: Path, public_key: str) -> BundleHeader:
    """Check the header's signature with ``public_key`` (hex) and the body's SHA-256.

    One streaming pass over the file; BundleError naming the file when either fails.
    """
    with _open(path) as fh:
        header = _read_header(fh, path)
        signed = {k: v for k, v in header.fields.items() if k != "signature"}
        if not keys.verify_json(public_key, signed, header.signature):
            raise BundleError(
                f"{path}: the signature does not match site {header.site}'s key: the bundle "
                "was changed or was not made by that site; refused"
            )
        digest = hashlib.sha256()
        try:
            while chunk := fh.read(_COPY):
                digest.update(chunk)
        except OSError as exc:
            raise BundleError(f"{path}: cannot read the bundle: {exc.strerror or exc}") from exc
        if digest.hexdigest() != header.body_sha256:
            raise BundleError(
                f"{path}: the content does not match its signed checksum: the bundle was "
                "changed or truncated after it was written; refused"
            )
    return header


def iter_batches(path: Path, limits: Limits | None = None) -> Iterator[dict[str, Any]]:
    """The bundle's batches in file order, decoded one line at a time.

    A line longer than ``ITOPS_MAX_SYNC_MB``, undecodable gzip or JSON, or a batch count that
    differs from the header's raises BundleError (batches yielded before stay yielded: call
    :func:`verify` first, which detects any change to the file).
    """
    limit = (limits or Limits.from_env()).max_sync_mb * 1024 * 1024
    with _open(path) as fh:
        header = _read_header(fh, path)
        count = 0
        try:
            with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                while True:
                    line = gz.readline(limit + 1)
                    if not line:
                        break
                    if len(line) > limit:
                        raise BundleError(
                            f"{path}: batch {count + 1} is larger than ITOPS_MAX_SYNC_MB"
                        )
                    try:
                        batch = json.loads(line)
                    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                        raise BundleError(f"{path}: batch {count + 1} is not JSON") from exc
                    if not isinstance(batch, dict):
                        raise BundleError(f"{path}: batch {count + 1} is not a JSON object")
                    count += 1
                    yield batch
        except (OSError, EOFError, zlib.error) as exc:
            raise BundleError(f"{path}: the body is damaged after batch {count}: {exc}") from exc
        if count != header.batches:
            raise BundleError(
                f"{path}: holds {count} batches, its header says {header.batches}; refused"
            )


@contextmanager
def private_copy(path: Path) -> Iterator[Path]:
    """A copy of ``path`` in a private (0700) temporary folder, removed afterwards.

    A :class:`BundleError` raised inside names ``path``, not the copy.
    """
    with tempfile.TemporaryDirectory(prefix="itops-bundle-") as tmp:
        copy = Path(tmp) / "bundle"
        try:
            shutil.copyfile(path, copy)
        except OSError as exc:
            raise BundleError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
        try:
            yield copy
        except BundleError as exc:
            raise BundleError(str(exc).replace(str(copy), str(path))) from exc.__cause__
