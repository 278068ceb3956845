"""Bad --db files, newer schemas, absurd durations and dates: one clear line, never a traceback."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from kape_itops.cli import cli
from kape_itops.datafiles import shipped_root
from kape_itops.store.db import Store
from tests.hostile.databases import MAKERS

SHOWN_MAX = 400  # characters of an error line: a damaged file's bytes are not dumped


@pytest.fixture(scope="module")
def valid_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SQLite database holding the shipped sample inventory."""
    path = tmp_path_factory.mktemp("hostile-cli") / "valid.db"
    got = CliRunner().invoke(
        cli, ["--db", str(path), "inventory", "import", str(shipped_root() / "inventory")]
    )
    assert got.exit_code == 0, got.output
    yield path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def error_line(got: Result) -> str:
    """The one error line of a failed command (anything else fails the test)."""
    assert isinstance(got.exception, SystemExit), got.exception
    lines = [x for x in got.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, got.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert len(lines[0]) < SHOWN_MAX and "\x1b" not in lines[0], lines[0]
    return lines[0]


# What each command must say for each hostile file; None: the command may succeed (it does
# not touch the damaged part) but must not crash.
EXPECTED: dict[str, str] = {
    "text file": "file is not a database",
    "random bytes": "file is not a database",
    "truncated": "database disk image is malformed",
    "damaged table": "database disk image is malformed",
    "not UTF-8 text": "Could not decode to UTF-8",
    "folder": "unable to open database file",
    "newer schema": "is at schema 9999_from_the_future, newer than this kape-itops knows",
}
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("init",),
    "list": ("inventory", "list"),
    "export": ("inventory", "export", "{tmp}/out.json"),
    "report": ("report", "health", "--json"),
}
# (file, command) pairs that succeed: the command never reads the damaged part
MAY_SUCCEED = {
    ("damaged table", "init"),
    ("not UTF-8 text", "init"),
    ("not UTF-8 text", "report"),
    ("truncated", "init"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("hostile", list(MAKERS))
def test_hostile_database_file(hostile: str, command: str, valid_db: Path, tmp_path: Path) -> None:
    path = MAKERS[hostile](tmp_path / "hostile.db", valid_db)
    before = path.read_bytes() if path.is_file() else None
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    got = invoke("--db", str(path), *args)
    if got.exit_code == 0 and (hostile, command) in MAY_SUCCEED:
        return
    assert got.exit_code == 1, (got.output, got.exception)
    line = error_line(got)
    assert EXPECTED[hostile] in line
    if hostile == "newer schema":
        assert path.read_bytes() == before  # not even a WAL checkpoint of a foreign schema


def test_every_expected_failure_happens(valid_db: Path, tmp_path: Path) -> None:
    """MAY_SUCCEED is not a blanket: a broken file is never used as if it were fine."""
    for hostile in ("text file", "random bytes", "folder", "newer schema"):
        for command in COMMANDS:
            path = tmp_path / f"{hostile}-{command}.db"
            MAKERS[hostile](path, valid_db)
            args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
            got = invoke("--db", str(path), *args)
            assert got.exit_code == 1, (hostile, command, got.output)


def test_init_refuses_a_newer_schema_on_both_backends(db_url: str) -> None:
    store = Store(db_url)
    store.upgrade()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        tables = set(store.engine.dialect.get_table_names(conn))
    got = invoke("--db", db_url, "init")
    assert got.exit_code == 1
    assert "newer than this kape-itops knows" in error_line(got)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "9999_from_the_future"
        )
        assert set(store.engine.dialect.get_table_names(conn)) == tables
    store.dispose()


def test_corrupted_database_is_not_a_traceback_for_a_write(valid_db: Path, tmp_path: Path) -> None:
    path = MAKERS["damaged table"](tmp_path / "d.db", valid_db)
    got = invoke("--db", str(path), "inventory", "set", "KPT-PSP-002", "room=Library")
    assert got.exit_code == 1
    assert "database disk image is malformed" in error_line(got)


def test_an_empty_file_becomes_a_database(tmp_path: Path) -> None:
    """Zero bytes is what SQLite itself creates: it is taken as a new database, not refused."""
    path = tmp_path / "empty.db"
    path.touch()
    got = invoke("--db", str(path), "inventory", "list", "--json")
    assert got.exit_code == 0, got.output
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


# --- durations and dates at the edges ------------------------------------------------------

HUGE = "99999999999d"
DURATION_OPTIONS = [
    ("report", "health", "--since", HUGE),
    ("report", "health", "--interval", HUGE),
    ("report", "problems", "--since", HUGE),
    ("db", "prune", "--keep", "99999999999"),
    ("inventory", "history", "--since", HUGE),
    ("inventory", "warranty", "--within", "99999999999"),
    ("schedule", "install", "--every", HUGE),
    ("probe", "run", "--every", HUGE),
    ("probe", "run", "--every", "5m", "--grace", "9" * 400 + "s"),
]


@pytest.mark.parametrize("args", DURATION_OPTIONS, ids=lambda a: " ".join(a[:3]))
def test_absurd_durations_are_usage_errors(args: tuple[str, ...], sqlite_url: str) -> None:
    got = invoke("--db", sqlite_url, *args)
    usage = 3 if args[0] == "probe" else 2  # probe commands: Nagios UNKNOWN
    assert got.exit_code == usage, (got.output, got.exception)
    assert isinstance(got.exception, SystemExit)
    errors = [x for x in got.stderr.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1, got.stderr
    assert "is too long a duration; at most 36500d (100 years)" in errors[0]
    assert len(errors[0]) < 200


def test_the_longest_duration_still_works(sqlite_url: str) -> None:
    got = invoke("--db", sqlite_url, "report", "health", "--since", "36500d", "--json")
    assert got.exit_code == 0, got.output


@pytest.mark.parametrize(
    "args",
    [
        ("report", "health", "--from", "2020-01-01", "--to", "9999-12-31", "--json"),
        ("inventory", "history", "--since", "0001-01-01"),
        ("inventory", "history", "--since", "0001-01-01", "--json"),
    ],
    ids=["report to 9999-12-31", "history since 0001-01-01", "history json"],
)
def test_dates_at_the_edges_of_the_calendar(args: tuple[str, ...], sqlite_url: str) -> None:
    got = invoke("--db", sqlite_url, *args)
    assert got.exit_code == 0, (got.output, got.exception)
