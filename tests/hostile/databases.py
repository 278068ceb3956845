"""Files handed to ``--db`` that are not the database they claim to be.

Each maker writes one hostile SQLite file at ``path`` and returns it. ``valid`` must be a
path to a database kape-itops created and filled (the damaged ones start from a copy of it).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path


def _checkpointed_copy(valid: Path, path: Path) -> Path:
    with closing(sqlite3.connect(valid)) as conn:  # everything in the main file, nothing in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(valid, path)
    return path


def text_file(path: Path, _valid: Path) -> Path:
    """A text file (a typo'd --db pointing at notes, a CSV, a README)."""
    path.write_text("school,name\nKPT-PSP,Preah Sisowath\n", encoding="utf-8")
    return path


def random_bytes(path: Path, _valid: Path) -> Path:
    """64 KiB of noise."""
    path.write_bytes(random.Random(16).randbytes(65536))
    return path


def truncated(path: Path, valid: Path) -> Path:
    """The first 5 pages of a real database, the rest lost (a copy cut short)."""
    _checkpointed_copy(valid, path)
    with closing(sqlite3.connect(path)) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as fh:
        fh.truncate(5 * page)
    return path


def damaged_table(path: Path, valid: Path, table: str = "devices") -> Path:
    """A real database whose ``table`` b-tree root page has a garbage header: the schema reads,
    any query of that table fails with "database disk image is malformed"."""
    _checkpointed_copy(valid, path)
    with closing(sqlite3.connect(path)) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    with path.open("r+b") as fh:
        fh.seek((root - 1) * page)
        fh.write(b"\x00" * 12)  # page type 0 does not exist
    return path


def hostile_text(path: Path, valid: Path) -> Path:
    """A real database whose device notes are not UTF-8 and carry a terminal escape."""
    _checkpointed_copy(valid, path)
    bad = b"\xff\xfe\x1b[31mred" + b"\x80" * 500
    with closing(sqlite3.connect(path)) as conn, conn:  # closed: nothing left in a WAL
        conn.execute("UPDATE devices SET notes = CAST(? AS TEXT)", (bad,))
    return path


def folder(path: Path, _valid: Path) -> Path:
    """A folder, not a file."""
    path.mkdir()
    return path


def newer_schema(path: Path, valid: Path) -> Path:
    """A real database migrated by a later kape-itops (an unknown revision)."""
    _checkpointed_copy(valid, path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    return path


MAKERS: dict[str, Callable[[Path, Path], Path]] = {
    "text file": text_file,
    "random bytes": random_bytes,
    "truncated": truncated,
    "damaged table": damaged_table,
    "not UTF-8 text": hostile_text,
    "folder": folder,
    "newer schema": newer_schema,
}
