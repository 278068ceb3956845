"""Stored evaluations on both backends: score -> store -> history -> show, via API and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.errors import NotFoundError
from kape_itops.quotes.evaluate import Options
from kape_itops.quotes.service import history, resolve_inputs, score, show, store_result
from kape_itops.store.db import Store
from tests.functional.quote_helpers import QUOTES, REPO


def test_store_history_show(store: Store) -> None:
    inputs = resolve_inputs([QUOTES / "printer"], None, None, REPO)
    scored = score(inputs, Options(), "tester")
    first = store_result(store, scored, "tester")
    second = store_result(store, score(inputs, Options(method="qcbs"), "tester"), "tester")
    items = history(store)
    assert [e.id for e in items] == [second, first]
    got = show(store, first)
    assert got.result_json == scored.json
    assert got.result_sha256 == scored.sha256
    assert got.rfq == "KAPE-RFQ-2026-014" and got.spec_id == "printer" and got.method == "lowest"
    assert got.evaluator == "tester" and got.created_at.tzinfo is not None
    names = {i["name"] for i in got.inputs["inputs"]}  # type: ignore[index, union-attr]
    assert {"rfq.yaml", "printer.yaml", "cpus.csv", "a-khmer-office.xlsx"} <= names
    assert show(store, second).method == "qcbs"
    with pytest.raises(NotFoundError):
        show(store, 9999)


def test_cli_store_and_read_back(runner: CliRunner, db_url: str, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["--db", db_url, "init"]).exit_code == 0
    result = runner.invoke(
        cli,
        [
            "--db",
            db_url,
            "quote",
            "score",
            str(QUOTES / "camera"),
            "--json",
            "--evaluator",
            "Sokha (procurement)",
        ],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["--db", db_url, "quote", "history", "--json"])
    rows = json.loads(listed.output)
    assert len(rows) == 1 and rows[0]["evaluator"] == "Sokha (procurement)"
    shown = runner.invoke(cli, ["--db", db_url, "quote", "show", str(rows[0]["id"]), "--json"])
    assert shown.exit_code == 0
    assert shown.output == result.stdout
    text = runner.invoke(cli, ["--db", db_url, "quote", "show", str(rows[0]["id"])])
    assert "Angkor Security Systems" in text.output and "sha" in text.output.lower()
    table = runner.invoke(cli, ["--db", db_url, "quote", "history"], env={"COLUMNS": "200"})
    assert "KAPE-RFQ-2026-017" in table.output
    missing = runner.invoke(cli, ["--db", db_url, "quote", "show", "424242"])
    assert missing.exit_code == 1 and "no stored evaluation" in missing.output


def test_store_creates_a_new_sqlite_database(runner: CliRunner, sqlite_url: str) -> None:
    result = runner.invoke(cli, ["--db", sqlite_url, "quote", "score", str(QUOTES / "camera")])
    assert result.exit_code == 0, result.output
    assert "created database" in result.stderr and "stored as evaluation 1" in result.output
    ok = runner.invoke(
        cli, ["--db", sqlite_url, "quote", "score", str(QUOTES / "camera"), "--no-store", "--json"]
    )
    assert ok.exit_code == 0
