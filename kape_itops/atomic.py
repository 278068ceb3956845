"""Every file kape-itops writes goes through here, so a failed write never costs the old file.

The content goes to a temporary file beside the target, which is flushed, synced and renamed
over the target (then the folder is synced). On any failure the temporary file is removed,
the target is left exactly as it was, and the error is one :class:`OutputError` line naming
the file. A path whose folder is missing is refused naming the folder; only folders the tool
owns (``make_parents=True``) are created. The output folder of a command that writes a folder
(``export --format csv``, ``report --csv DIR``) is itself created by :func:`output_folder`, but
never the folders leading to it.

A target that is a symbolic link is replaced by a file, never written through.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from kape_itops.errors import OutputError

_REASONS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would be too large",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "input/output error",
}
# Raised while the caller writes into the temporary file: only these are about the output.
_WRITING = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _error(path: Path, exc: OSError, existed: bool) -> OutputError:
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    kept = "the old file is unchanged" if existed else "nothing was written"
    return OutputError(f"cannot write {path}: {reason}; {kept}")


def _check_folder(folder: Path, target: Path, make_parents: bool) -> None:
    if make_parents:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            pass  # a file where a folder should be: said below
        except OSError as exc:
            raise _error(target, exc, target.exists()) from exc
    if not folder.exists():
        raise OutputError(f"cannot write {target}: folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: {folder} is not a folder")


def require_folder(path: Path) -> None:
    """Refuse, before any work, an output file whose folder is missing (the error writing gives)."""
    _check_folder(path.parent, path, make_parents=False)


def output_folder(folder: Path, *, perms: int = 0o777) -> Path:
    """Make sure the output folder ``folder`` exists, creating it (not its parents).

    ``perms``: the mode of a folder created here (less the umask).
    """
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder")
    parent = folder.parent
    if not parent.is_dir():
        why = "does not exist" if not parent.exists() else "is not a folder"
        raise OutputError(f"cannot create folder {folder}: folder {parent} {why}")
    try:
        folder.mkdir(mode=perms, exist_ok=True)
    except OSError as exc:
        reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
        raise OutputError(f"cannot create folder {folder}: {reason}") from exc
    return folder


def _umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path, perms: int | None) -> int:
    if perms is not None:
        return perms
    with contextlib.suppress(OSError):
        return stat.S_IMODE(path.stat().st_mode)
    return 0o666 & ~_umask()


def _owner_like(path: Path, tmp: Path) -> None:
    """As root, hand the new file to the old file's owner (a root run must not steal it)."""
    if os.geteuid() != 0:
        return
    with contextlib.suppress(OSError):
        st = path.stat()
        os.chown(tmp, st.st_uid, st.st_gid)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def _atomic(
    path: Path,
    binary: bool,
    encoding: str | None,
    newline: str | None,
    perms: int | None,
    make_parents: bool,
) -> Iterator[IO[Any]]:
    path = Path(path)
    folder = path.parent
    _check_folder(folder, path, make_parents)
    if path.is_dir() and not path.is_symlink():
        raise OutputError(f"cannot write {path}: it is a folder")
    existed = path.exists()
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _error(path, exc, existed) from exc
    tmp = Path(name)
    try:
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
        with fh:
            try:
                yield fh
            except OSError as exc:
                if exc.errno in _WRITING:
                    raise _error(path, exc, existed) from exc
                raise
            try:
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:
                raise _error(path, exc, existed) from exc
        try:
            tmp.chmod(_mode_for(path, perms))
            _owner_like(path, tmp)
            tmp.replace(path)
        except OSError as exc:
            raise _error(path, exc, existed) from exc
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in _WRITING:  # e.g. on close
            raise _error(path, exc, existed) from exc
        raise
    _sync_folder(folder)


@overload
def atomic_write(
    path: Path,
    mode: Literal["w"] = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
    perms: int | None = None,
    make_parents: bool = False,
) -> AbstractContextManager[TextIO]: ...


@overload
def atomic_write(
    path: Path,
    mode: Literal["wb"],
    *,
    encoding: None = None,
    newline: None = None,
    perms: int | None = None,
    make_parents: bool = False,
) -> AbstractContextManager[BinaryIO]: ...


def atomic_write(
    path: Path,
    mode: Literal["w", "wb"] = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    perms: int | None = None,
    make_parents: bool = False,
) -> AbstractContextManager[IO[Any]]:
    """Write ``path`` all at once or not at all: yields the open temporary file.

    ``perms``: the new file's mode (e.g. 0o600); by default an existing file keeps its mode and
    a new one gets 0666 less the umask. ``make_parents``: create missing folders (only for
    folders the tool owns). Raises :class:`OutputError` with the file's name on failure.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    return _atomic(path, mode == "wb", encoding, newline, perms, make_parents)


def write_text(
    path: Path,
    text: str,
    *,
    encoding: str = "utf-8",
    perms: int | None = None,
    make_parents: bool = False,
) -> None:
    """Atomically replace ``path`` with ``text``."""
    with atomic_write(path, encoding=encoding, perms=perms, make_parents=make_parents) as fh:
        fh.write(text)


def write_bytes(
    path: Path, data: bytes | memoryview, *, perms: int | None = None, make_parents: bool = False
) -> None:
    """Atomically replace ``path`` with ``data``."""
    with atomic_write(path, "wb", perms=perms, make_parents=make_parents) as fh:
        fh.write(data)


def save_workbook(workbook: Any, path: Path) -> None:
    """Save an openpyxl workbook atomically.

    It is zipped in memory first: openpyxl's zip file, failing half-way on a full disk, would
    leave "Exception ignored" noise on stderr when it is collected.
    """
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_bytes(path, buffer.getbuffer())


def copy_file(source: Path, dest: Path, *, make_parents: bool = False) -> None:
    """Atomically replace ``dest`` with a copy of ``source``."""
    with source.open("rb") as src, atomic_write(dest, "wb", make_parents=make_parents) as fh:
        shutil.copyfileobj(src, fh)


__all__ = [
    "atomic_write",
    "copy_file",
    "output_folder",
    "require_folder",
    "save_workbook",
    "write_bytes",
    "write_text",
]
