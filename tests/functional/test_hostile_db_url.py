"""A database password never shows: real PostgreSQL with password authentication.

Every form a password takes in ``--db`` (user part, ``?password=``, ``?sslpassword=``, a libpq
connection string, percent-encoded, an unencoded ``@``) is tried with the wrong password and
against a closed port; no output of ``itops`` may hold the password in any spelling.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from tests.hostile.names import PASSWORDS, leaks
from tests.support.postgres import PostgresServer, free_port

pytestmark = pytest.mark.postgres

RIGHT = "Right-Pw-4711"


@pytest.fixture(scope="module")
def scram_pg() -> Iterator[PostgresServer]:
    """A private server where TCP logins need the password (SCRAM), not trust."""
    import psycopg

    server = PostgresServer(Path(tempfile.mkdtemp(prefix="itops-pgpw-")))
    server.start()
    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={server.port} user=itops dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"ALTER ROLE itops PASSWORD '{RIGHT}'")
        (server.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n", encoding="utf-8"
        )
        server._run(str(server.bin / "pg_ctl"), "-D", str(server.data), "reload")
        yield server
    finally:
        server.stop()


def _forms(port: int, password: str) -> dict[str, tuple[str, list[str]]]:
    """``--db`` values holding ``password`` → (value, every secret in it)."""
    enc = quote(password, safe="")
    ssl = f"Ssl-{password}"
    conninfo = password.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "userinfo": (f"postgresql://itops:{enc}@127.0.0.1:{port}/postgres", [password]),
        "query": (f"postgresql://itops@127.0.0.1:{port}/postgres?password={enc}", [password]),
        "sslpassword": (
            f"postgresql+psycopg://itops:{enc}@127.0.0.1:{port}/postgres"
            f"?sslmode=disable&sslpassword={quote(ssl, safe='')}",
            [password, ssl],
        ),
        "conninfo": (
            f"host=127.0.0.1 port={port} user=itops dbname=postgres password='{conninfo}'",
            [password],
        ),
        "postgres_scheme": (f"postgres://itops:{enc}@127.0.0.1:{port}/postgres", [password]),
    }


def _run(runner: CliRunner, url: str, *args: str) -> tuple[int, str]:
    res = runner.invoke(cli, ["--db", url, *args])
    return res.exit_code, res.stdout + res.stderr


@pytest.mark.parametrize("password", PASSWORDS.values(), ids=PASSWORDS.keys())
@pytest.mark.parametrize(
    "form", ["userinfo", "query", "sslpassword", "conninfo", "postgres_scheme"]
)
def test_a_wrong_password_in_any_form_is_never_shown(
    scram_pg: PostgresServer,
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    form: str,
    password: str,
) -> None:
    url, secrets = _forms(scram_pg.port, password)[form]
    monkeypatch.chdir(tmp_path)
    for args in (["init"], ["db", "stats"], ["inventory", "list"]):
        code, out = _run(runner, url, *args)
        assert code == 1, out
        (line,) = out.splitlines()
        assert line.startswith("error: ") and "password authentication failed" in line
        for secret in secrets:
            assert not leaks(out, secret), (args, out)
    assert list(tmp_path.iterdir()) == []  # a connection string never became a SQLite file


@pytest.mark.parametrize("form", ["userinfo", "query", "sslpassword", "conninfo"])
def test_an_unreachable_server_is_named_without_the_password(runner: CliRunner, form: str) -> None:
    password = PASSWORDS["quotes_and_shell"]
    url, secrets = _forms(free_port(), password)[form]
    code, out = _run(runner, url, "init")
    assert code == 1
    (line,) = out.splitlines()
    assert "127.0.0.1" in line and "refused" in line
    for secret in secrets:
        assert not leaks(out, secret), out


def test_an_unencoded_at_sign_in_the_password_leaks_no_part_of_it(
    scram_pg: PostgresServer, runner: CliRunner
) -> None:
    url = f"postgresql://itops:pa@ss-W0rd-xyz@127.0.0.1:{scram_pg.port}/postgres"
    code, out = _run(runner, url, "init")
    assert code == 1
    assert "ss-W0rd-xyz" not in out and "W0rd" not in out, out


def test_the_right_password_works_and_init_and_stats_mask_it(
    scram_pg: PostgresServer, runner: CliRunner
) -> None:
    url = f"postgresql://itops:{RIGHT}@127.0.0.1:{scram_pg.port}/postgres?sslmode=disable"
    code, out = _run(runner, url, "init")
    assert code == 0, out
    assert "itops:***@127.0.0.1" in out and not leaks(out, RIGHT)
    code, out = _run(runner, url, "db", "stats", "--json")
    assert code == 0, out
    assert json.loads(out)["database"].startswith("postgresql+psycopg://itops:***@127.0.0.1")
    conninfo = f"host=127.0.0.1 port={scram_pg.port} user=itops dbname=postgres password={RIGHT}"
    code, out = _run(runner, conninfo, "db", "stats", "--json")
    assert code == 0, out
    assert "password=***" in json.loads(out)["database"] and not leaks(out, RIGHT)
