"""Uploaded import files kept on the server between the dry-run preview and the confirm.

The confirm imports the very bytes the preview checked: the file stays in a private folder
under a random id, tied to the user who uploaded it, capped in size (``ITOPS_MAX_FILE_MB``)
and removed on confirm or after :data:`TTL_S`. The browser holds only the id, never a verdict.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kape_itops.errors import ConfigError, DataError, NotFoundError, UsageError
from kape_itops.limits import Limits, too_big

DIR_ENV = "ITOPS_UPLOAD_DIR"
TTL_S = 3600.0
"""An upload not confirmed within an hour is removed."""
MAX_KEPT = 200
"""Most uploads kept at once (the oldest go first)."""
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json")
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()-]")
_META = "upload.json"


class UploadTooLarge(DataError):
    """An upload over the size limit (nothing of it is kept)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """One kept upload: who sent it, under which name, its bytes' SHA-256 and size."""

    id: str
    owner: str
    name: str
    path: Path
    sha256: str
    size: int
    at: float


def file_name(name: str) -> str:
    """A safe local name for an uploaded file's name (its suffix decides how it is read)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix not in SUFFIXES:
        raise UsageError("unsupported file type: upload a .csv, .xlsx or .json file")
    stem = _UNSAFE.sub("_", stem).strip(" .")[:80] or "upload"
    return stem + suffix


def _private_dir(path: Path) -> Path:
    """``path`` as a folder only this user can enter (made if missing; refused otherwise)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise ConfigError(f"upload folder {path} is not a folder of this user")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(0o700)
    return path


class UploadStore:
    """Uploads kept in ``root`` (default: ``ITOPS_UPLOAD_DIR``, else a private temp folder)."""

    def __init__(
        self, root: Path | None = None, max_bytes: int | None = None, ttl_s: float = TTL_S
    ) -> None:
        default = os.environ.get(DIR_ENV) or Path(tempfile.gettempdir()) / (
            f"kape-itops-uploads-{os.geteuid()}"
        )
        self.root = _private_dir(Path(root or default))
        self.max_bytes = max_bytes if max_bytes is not None else Limits.from_env().max_file_bytes
        self.ttl_s = ttl_s

    def save(self, owner: str, name: str, chunks: Iterable[bytes]) -> Upload:
        """Keep an upload; UploadTooLarge (nothing kept) past the size limit."""
        safe = file_name(name)
        self.prune()
        upload_id = secrets.token_urlsafe(24)
        folder = self.root / upload_id
        folder.mkdir(mode=0o700)
        path = folder / safe
        digest, size = hashlib.sha256(), 0
        try:
            with path.open("xb") as fh:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadTooLarge(
                            too_big(f"the file {safe}", size, self.max_bytes, "max_file_mb", " B")
                        )
                    digest.update(chunk)
                    fh.write(chunk)
            upload = Upload(upload_id, owner, safe, path, digest.hexdigest(), size, time.time())
            meta = {"owner": owner, "name": safe, "sha256": upload.sha256, "size": size}
            (folder / _META).write_text(json.dumps({**meta, "at": upload.at}), "utf-8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return upload

    def get(self, upload_id: str, owner: str) -> Upload:
        """The upload ``upload_id`` of ``owner``; NotFoundError when it is unknown, expired,
        someone else's, or its bytes changed."""
        gone = NotFoundError("this upload is no longer here (expired or done): upload it again")
        if not _ID.fullmatch(upload_id):
            raise gone
        folder = self.root / upload_id
        try:
            meta = json.loads((folder / _META).read_text("utf-8"))
            path = folder / str(meta["name"])
            upload = Upload(
                upload_id,
                str(meta["owner"]),
                path.name,
                path,
                str(meta["sha256"]),
                int(meta["size"]),
                float(meta["at"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise gone from None
        if upload.owner != owner or time.time() - upload.at > self.ttl_s:
            raise gone
        if path.parent != folder or _sha256(path) != upload.sha256:
            raise gone
        return upload

    def discard(self, upload_id: str) -> None:
        """Remove an upload (nothing when it is gone already)."""
        if _ID.fullmatch(upload_id):
            shutil.rmtree(self.root / upload_id, ignore_errors=True)

    def prune(self) -> int:
        """Remove expired uploads, and the oldest past :data:`MAX_KEPT`; how many."""
        now, kept, removed = time.time(), [], 0
        for folder in self.root.iterdir():
            try:
                at = folder.stat().st_mtime
            except OSError:
                continue
            if now - at > self.ttl_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            else:
                kept.append((at, folder))
        for _, folder in sorted(kept)[: max(0, len(kept) - MAX_KEPT + 1)]:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        return removed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
