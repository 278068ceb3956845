"""``itops report``, ``itops db`` and ``itops schedule`` end to end on both backends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind
from kape_itops.reports import sample
from kape_itops.store.db import Store, safe_url
from tests.support.report_data import ping, seed, write_run

M5 = dt.timedelta(minutes=5)


@pytest.fixture
def filled(store: Store) -> Store:
    sample.seed_inventory(store, schools=2, devices_per_school=20)
    end = dt.datetime.now(dt.UTC)
    sample.generate_history(store, end - dt.timedelta(hours=6), end)
    return store


def run(runner: CliRunner, store: Store, *args: str) -> tuple[int, str, str]:
    res = runner.invoke(cli, ["--db", store.url, *args])
    return res.exit_code, res.stdout, res.stderr


def test_health_outputs(runner: CliRunner, filled: Store, tmp_path: Path) -> None:
    code, out, _ = run(
        runner,
        filled,
        "report",
        "health",
        "--since",
        "6h",
        "--html",
        str(tmp_path / "r.html"),
        "--title",
        "Weekly",
    )
    assert code == 0 and "wrote" in out
    assert "<title>Weekly" in (tmp_path / "r.html").read_text(encoding="utf-8")
    code, out, _ = run(
        runner, filled, "report", "health", "--since", "6h", "--md", str(tmp_path / "r.md")
    )
    assert code == 0 and (tmp_path / "r.md").read_text(encoding="utf-8").startswith(
        "# Health report"
    )
    code, out, _ = run(
        runner, filled, "report", "health", "--since", "6h", "--csv", str(tmp_path / "csv")
    )
    assert code == 0 and "wrote 7 CSV files" in out
    code, out, _ = run(
        runner, filled, "report", "health", "--since", "6h", "--json", "--school", "kpt-psp"
    )
    assert code == 0
    doc = json.loads(out)
    assert [s["code"] for s in doc["schools"]] == ["KPT-PSP"]
    assert 0 < doc["availability"]["up_pct"] <= 100
    assert doc["problems"][0]["severity"] == "crit"
    code, out, _ = run(runner, filled, "report", "health", "--since", "6h")
    assert code == 0 and "KPT-PSH" in out and "problem(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "is not a duration"),
        (["--from", "29/11/2026"], "is not a date (YYYY-MM-DD)"),
        (["--from", "2026-11-10", "--to", "2026-11-01"], "is before --from"),
        (["--since", "2d", "--from", "2026-11-01"], "either --since or --from/--to"),
        (["--school", "NOPE"], "school 'NOPE' does not exist"),
        (["--json", "--md", "x.md"], "choose one of --html, --md, --pdf, --json, --csv"),
        (["--interval", "0s"], "--interval must be positive"),
    ],
)
def test_health_bad_input(runner: CliRunner, store: Store, args: list[str], message: str) -> None:
    code, out, err = run(runner, store, "report", "health", *args)
    assert code == 2 or (code == 1 and "does not exist" in message), (code, out, err)
    assert message in err


def test_problems_hook_new_since_last(runner: CliRunner, store: Store) -> None:
    ids = seed(store, {"KAPE-9": DeviceKind.HOTSPOT})
    t = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    write_run(store, t, [(ids["KAPE-9"], "ping", "crit", ping(None))])
    code, out, _ = run(
        runner, store, "report", "problems", "--new-since-last", "--consecutive", "2"
    )
    assert code == 0 and out == ""  # one run only: not yet held for 2
    write_run(store, t + M5, [(ids["KAPE-9"], "ping", "crit", ping(None))])
    code, out, _ = run(
        runner, store, "report", "problems", "--new-since-last", "--consecutive", "2"
    )
    assert code == 0
    assert out.startswith("CRIT down KPT-PSP KAPE-9: not answering: ping crit (since ")
    code, out, _ = run(runner, store, "report", "problems", "--new-since-last", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(runner, store, "report", "problems", "--json", "--since", "2h")
    assert [p["kind"] for p in json.loads(out)] == ["down"]
    code, _, err = run(
        runner, store, "report", "problems", "--new-since-last", "--consecutive", "0"
    )
    assert code == 2 and "--consecutive must be at least 1" in err


def test_db_prune_and_stats(runner: CliRunner, filled: Store) -> None:
    code, out, _ = run(runner, filled, "db", "stats", "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["probe_results"] > 0 and stats["size_bytes"] > 0
    assert stats["database"] == safe_url(filled.url)
    code, out, _ = run(runner, filled, "db", "prune", "--keep", "30d")
    assert code == 0 and "deleted 0 raw result(s)" in out and "rolled up" in out
    code, out, _ = run(runner, filled, "db", "prune", "--keep", "1d", "--vacuum")
    assert code == 0 and "rolled up" in out
    code, _, err = run(runner, filled, "db", "prune", "--keep", "0d")
    assert code == 2 and "at least 1 day" in err
    code, _, err = run(runner, filled, "db", "prune", "--keep", "forever")
    assert code == 2 and "is not a duration" in err
    code, out, _ = run(runner, filled, "db", "stats")
    assert code == 0 and "rollups_hour" in out


def test_schedule_install(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    code, out, _ = run(runner, store, "schedule", "install", "--dir", str(tmp_path / "units"))
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "units").iterdir())
    assert names == [
        "itops-probe.service",
        "itops-probe.timer",
        "itops-report.service",
        "itops-report.timer",
    ]
    assert "systemctl daemon-reload" in out
    svc = (tmp_path / "units" / "itops-probe.service").read_text()
    assert f'Environment="ITOPS_DB={store.url}"' in svc
    code, out, err = run(runner, store, "schedule", "install", "--report", "none")
    assert code == 0 and "# ---- itops-probe.timer" in out and "itops-report" not in out
    assert "to install" in err
    code, out, _ = run(runner, store, "schedule", "install", "--cron", "--every", "15m")
    assert code == 0 and out.splitlines()[1].startswith("*/15 * * * * ")
    code, _, err = run(runner, store, "schedule", "install", "--cron", "--every", "7m")
    assert code == 2 and "divisor of 60" in err
    code, _, err = run(runner, store, "schedule", "install", "--every", "often")
    assert code == 2 and "is not a duration" in err


def test_schedule_never_writes_a_database_password(runner: CliRunner, tmp_path: Path) -> None:
    url = "postgresql://itops:s3cret-pw@127.0.0.1:1/itops"
    res = runner.invoke(cli, ["--db", url, "schedule", "install", "--dir", str(tmp_path)])
    assert res.exit_code == 0
    svc = (tmp_path / "itops-probe.service").read_text()
    assert "EnvironmentFile=/etc/kape-itops/itops.env\n" in svc and "ITOPS_DB" not in svc
    assert "s3cret" not in res.output + res.stderr + svc
    assert "holds a password" in res.stderr
    res = runner.invoke(cli, ["--db", url, "schedule", "install", "--cron"])
    assert res.exit_code == 0 and "s3cret" not in res.output
    assert "set -a && . /etc/kape-itops/itops.env && set +a" in res.stdout
