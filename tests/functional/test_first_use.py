"""First use of a database: SQLite is created or upgraded on the spot, PostgreSQL needs init."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.errors import StoreError
from kape_itops.store.db import MIGRATIONS, Store
from kape_itops.store.migrations import SCHEMA_HEAD

REPO = Path(__file__).resolve().parents[2]

LATER = "9001"
REVISION_LATER = f'''"""a later schema (test only)"""

import sqlalchemy as sa
from alembic import op

revision = "{LATER}"
down_revision = "{SCHEMA_HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("later", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("later")
'''


def test_reviewer_first_command_in_an_empty_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"ITOPS_DB": None, "ITOPS_DATA": None}
    laptop = str(REPO / "quotes" / "laptop")
    result = runner.invoke(cli, ["quote", "score", laptop, "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"created database ./itops.db (schema {SCHEMA_HEAD})",
        "stored as evaluation 1",
    ]
    assert json.loads(result.stdout)["rfq"]
    result = runner.invoke(cli, ["inventory", "list", "--json"], env=env)
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert json.loads(result.stdout) == []
    result = runner.invoke(cli, ["init"], env=env)
    assert f"database sqlite:///itops.db is up to date (revision {SCHEMA_HEAD})" in result.stdout


def test_first_command_on_an_empty_database(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(cli, ["--db", db_url, "inventory", "list", "--json"])
    store = Store(db_url)
    if store.dialect == "sqlite":
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("created database /")
        assert f"(schema {SCHEMA_HEAD})" in result.stderr
        assert store.current_revision() == SCHEMA_HEAD
    else:  # a shared server is changed only by an explicit 'itops init'
        assert result.exit_code == 1 and result.stdout == ""
        assert "has no schema; run 'itops init' to create or upgrade it" in result.stderr
        assert store.current_revision() is None
        assert runner.invoke(cli, ["--db", db_url, "init"]).exit_code == 0
        result = runner.invoke(cli, ["--db", db_url, "inventory", "list", "--json"])
        assert result.exit_code == 0 and json.loads(result.stdout) == []
    store.dispose()


def test_out_of_date_sqlite_is_upgraded_and_newer_one_refused(tmp_path: Path) -> None:
    later = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "versions" / f"{LATER}_later.py").write_text(REVISION_LATER)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).upgrade()
    newer = Store(url, migrations=later)
    old = tmp_path / "old.db"
    assert newer.prepare() == f"upgraded database {old} from schema {SCHEMA_HEAD} to {LATER}"
    assert newer.current_revision() == LATER and newer.prepare() is None
    newer.dispose()
    with pytest.raises(StoreError, match=f"is at schema {LATER}, newer than this kape-itops knows"):
        Store(url).prepare()


def test_commands_started_together_create_the_schema_once(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "kape_itops", "inventory", "list", "--json"]
    env = {**os.environ, "ITOPS_DB": str(tmp_path / "itops.db")}
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, results
    notes = [err for _, err in results if err]
    assert notes == [f"created database {tmp_path / 'itops.db'} (schema {SCHEMA_HEAD})\n"], results
