"""Hostile places to write to: a full disk (a small tmpfs filled up), a read-only one.

Mounting needs root (CI runs as root); :func:`tmpfs` skips elsewhere. Every mount is undone
when the ``with`` block ends, however it ends.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILL_CHUNK = 4096
FILL_MAX_CHUNKS = 1 << 16  # 256 MiB at most, whatever the file system says


@contextmanager
def tmpfs(folder: Path, size: str = "256k", *, read_only: bool = False) -> Iterator[Path]:
    """A private small tmpfs mounted on ``folder`` (created) for the block's duration."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    opts = f"size={size},mode=0755"
    got = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {got.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30, check=False)


def remount_read_only(folder: Path) -> None:
    """Make the tmpfs on ``folder`` read-only (its files stay as they are)."""
    subprocess.run(
        ["mount", "-o", "remount,ro", str(folder)], capture_output=True, timeout=30, check=True
    )


def fill(folder: Path) -> int:
    """Write a filler file into ``folder`` until its file system has no byte left; its size."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written = 0
    try:
        for _ in range(FILL_MAX_CHUNKS):
            try:
                written += os.write(fd, b"\0" * FILL_CHUNK)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        for _ in range(FILL_CHUNK):  # the last partial page, a byte at a time
            try:
                written += os.write(fd, b"\0")
            except OSError:
                break
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0, "the file system still has room"
    return written


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the filler, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "filler"
    }


def leftovers(folder: Path) -> list[str]:
    """Temporary files an interrupted write left behind (none may be)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*.tmp"))
