"""Engine set-up (SQLite WAL or PostgreSQL), sessions and schema migrations."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from kape_itops.domain.text import reveal
from kape_itops.errors import DataError, StoreError
from kape_itops.store.migrations import SCHEMA_HEAD
from kape_itops.store.urls import safe_url as safe_url  # re-exported: callers import it here
from kape_itops.store.urls import scrub

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
SAID_CHARS = 160  # of a driver's message in an error (a damaged file's may quote its bytes)
LOCK_TIMEOUT_MS = 15000
"""How long a writer waits for another one (SQLite busy timeout, PostgreSQL lock_timeout)."""
WRITE_LOCK = 0x69746F7077
"""PostgreSQL advisory lock every :meth:`Store.write` transaction holds (one writer at once)."""
_WRITE = "itops_write"  # execution option marking the connections of write transactions


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling off: it would begin only at the first INSERT/UPDATE,
    # leaving the reads of a read-modify-write outside the transaction; _sqlite_begin begins
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for write transactions (the write lock before the first read), else BEGIN.

    SQLAlchemy's documented recipe for pysqlite; AUTOCOMMIT connections (VACUUM) begin nothing.
    """
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    conn.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": LOCK_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(scrub(f"cannot use database URL {safe_url(url)}: {exc}", url)) from exc


def said(exc: DBAPIError, limit: int = SAID_CHARS) -> str:
    """The driver's message in one short line, hidden characters shown (it may quote data)."""
    text = reveal(" ".join(str(exc.orig).split()), newlines=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _revision(conn: Connection) -> str | None:
    """The schema revision seen on ``conn`` (None: no schema yet)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


class Store:
    """The database: an engine, a session factory and the migration state."""

    def __init__(self, url: str, migrations: Path = MIGRATIONS) -> None:
        """``migrations``: the Alembic folder (another one only in tests of upgrades)."""
        self.url = url
        self.migrations = migrations
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading, committed on success and rolled back on any exception.

        Whatever writes goes through :meth:`write` instead.
        """
        with self._session(self._sessions) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session for a read-modify-write: it holds the write lock from its first statement.

        One writer at a time, so what it reads stays current until it commits: SQLite begins
        with BEGIN IMMEDIATE (waiting up to the busy timeout), PostgreSQL takes the advisory
        lock :data:`WRITE_LOCK` (waiting up to the same ``lock_timeout``). Every writer uses it.
        """
        with self._session(self._write_sessions) as session:
            if self.dialect == "postgresql":
                timeout = f"{LOCK_TIMEOUT_MS}ms"
                session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": timeout})
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
            else:
                session.connection()  # BEGIN IMMEDIATE now, before the caller's first read
            yield session

    @contextmanager
    def _session(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        session = factory()
        try:
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise DataError(f"the change conflicts with stored data: {exc.orig}") from exc
        except DBAPIError as exc:  # locked, unreachable, or a damaged file ("malformed")
            session.rollback()
            raise StoreError(
                scrub(
                    f"database error on {safe_url(self.url)}: {said(exc)}{self._disk_full()}",
                    self.url,
                )
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _alembic_config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(self.migrations))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self) -> tuple[str | None, str]:
        """Create or upgrade the schema to the newest revision; idempotent.

        Returns the revision before and after.
        """
        from alembic import command

        cfg = self._alembic_config()
        try:
            with self._writer.begin() as conn:  # one migrates; the others wait, then see head
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
                before = _revision(conn)
                if before != self.head:  # explicit 'itops init' never touches a newer schema
                    self._refuse_unknown(before)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except DBAPIError as exc:  # one line: the driver's message, not SQLAlchemy's essay
            raise StoreError(
                scrub(
                    f"cannot migrate {safe_url(self.url)}: {said(exc)}{self._disk_full()}", self.url
                )
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(
                scrub(f"cannot migrate {safe_url(self.url)}: {exc}", self.url)
            ) from exc
        return before, self.head_revision()

    @property
    def head(self) -> str:
        """The newest revision (the shipped constant: no migration scripts are read)."""
        return SCHEMA_HEAD if self.migrations == MIGRATIONS else self.head_revision()

    def head_revision(self) -> str:
        """The newest migration shipped with this version."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        """The revision the database is at, or None when it has no schema yet."""
        deadline = time.monotonic() + LOCK_TIMEOUT_MS / 1000
        while True:  # another process may hold SQLite's lock while it creates the schema
            try:
                with self.engine.connect() as conn:
                    return _revision(conn)
            except DBAPIError as exc:
                if "locked" in str(exc.orig).lower() and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise StoreError(
                    scrub(
                        f"cannot open database {safe_url(self.url)}: {said(exc)}"
                        f"{self._disk_full()}",
                        self.url,
                    )
                ) from exc

    def require_current(self) -> None:
        """Raise a clear error unless the schema is at the newest revision."""
        current = self.current_revision()
        if current != self.head:
            self._refuse_unknown(current)
            state = "has no schema" if current is None else f"is at revision {current}"
            raise StoreError(
                f"database {safe_url(self.url)} {state}; run 'itops init' to create or upgrade it"
            )

    def prepare(self) -> str | None:
        """Make the schema current before use: SQLite is created or upgraded, PostgreSQL checked.

        A shared PostgreSQL server is changed only by an explicit ``itops init``. Returns a
        one-line note when this call created or upgraded the schema, else None.
        """
        current = self.current_revision()
        if current == self.head:
            return None
        if self.dialect != "sqlite":
            self.require_current()
        self._refuse_unknown(current)
        before, after = self.upgrade()
        if before == after:  # another process migrated it meanwhile
            return None
        where = self.location()
        if before is None:
            return f"created database {where} (schema {after})"
        return f"upgraded database {where} from schema {before} to {after}"

    def _disk_full(self) -> str:
        """A note for errors when the SQLite file's disk has no byte left, else empty."""
        name = self.engine.url.database if self.dialect == "sqlite" else None
        if not name or name == ":memory:":
            return ""
        try:
            free = os.statvfs(Path(name).expanduser().absolute().parent).f_bavail
        except OSError:
            return ""
        return "; the disk holding it is full" if free == 0 else ""

    def location(self) -> str:
        """The SQLite file as a path (``./itops.db``), else the URL with its password masked."""
        name = self.engine.url.database if self.dialect == "sqlite" else None
        if not name or name == ":memory:":
            return safe_url(self.url)
        return name if name.startswith((".", "/", "~")) else f"./{name}"

    def _refuse_unknown(self, revision: str | None) -> None:
        """Raise when the database was migrated by a newer kape-itops than this one."""
        from alembic.script import ScriptDirectory

        if revision is None:
            return
        script = ScriptDirectory.from_config(self._alembic_config())
        if revision not in {r.revision for r in script.walk_revisions()}:
            raise StoreError(
                f"database {safe_url(self.url)} is at schema {revision}, newer than this "
                f"kape-itops knows (up to {self.head}); upgrade kape-itops to use it"
            )

    def vacuum(self) -> None:
        """Give the space of deleted rows back (SQLite: VACUUM rewrites the file; PostgreSQL:
        VACUUM)."""
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM"))
        except SQLAlchemyError as exc:
            raise StoreError(f"VACUUM failed: {exc}") from exc

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
