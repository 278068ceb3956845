"""Control and bidi characters in probe results and quotations never reach a report raw.

Health reports (terminal, JSON, HTML, Markdown, CSV, the one-line problems for alert hooks) on
both backends, and quotation scoring (terminal, JSON, HTML, Markdown, XLSX, stored results)
from a CSV and an XLSX quotation whose cells carry terminal escapes and bidi overrides. The
text stays as evidence, written as visible escapes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind
from kape_itops.store.db import Store
from tests.functional.quote_helpers import SPECS, copy_rfq
from tests.hostile.text import HOSTILE, STORABLE, assert_clean
from tests.support.report_data import seed, write_run

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _results(store: Store, ids: dict[str, int], at: dt.datetime) -> None:
    """One run: a router down with a hostile reason, a printer with a hostile supply name and
    a switch with a hostile interface name, a camera with a hostile finding."""
    rows: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("R-1", "ping", "crit", "timeout " + STORABLE["clear_screen"], {"sent": 3, "received": 0}),
        (
            "P-1",
            "snmp",
            "crit",
            "toner " + STORABLE["osc_title"],
            {"supplies": [{"name": "Black " + STORABLE["rlo"], "pct": 2}]},
        ),
        (
            "S-1",
            "snmp",
            "warn",
            "port " + STORABLE["c1_csi"],
            {"if_down": ["Gi0/1" + STORABLE["blink"]]},
        ),
        ("C-1", "onvif", "warn", "odd " + STORABLE["bidi_embed_isolate"] + STORABLE["del"], {}),
    ]
    write_run(
        store,
        at,
        [(ids[tag], probe, status, metrics) for tag, probe, status, _, metrics in rows],
        [reason for _, _, _, reason, _ in rows],
    )


@pytest.fixture
def db(store: Store) -> str:
    kinds = {
        "R-1": DeviceKind.ROUTER,
        "P-1": DeviceKind.PRINTER,
        "S-1": DeviceKind.SWITCH,
        "C-1": DeviceKind.CAMERA,
    }
    extra = {"P-1": {"model": "LaserJet " + STORABLE["separators"], "room": "Office\u202e1"}}
    ids = seed(store, kinds, school="KPT-EVL", extra=extra)
    for hours in (3, 2, 1):
        _results(store, ids, NOW - dt.timedelta(hours=hours))
    return store.url


def run(runner: CliRunner, db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", db, "--actor", "tester", *args])
    return result.exit_code, result.stdout, result.stderr


def test_health_report_terminal_and_json(runner: CliRunner, db: str) -> None:
    code, out, err = run(runner, db, "report", "health", "--since", "1d")
    assert code == 0, err
    assert_clean(out + err, "report health")
    assert "\\x1b[2J" in out and "\\u202e" in out
    code, out, err = run(runner, db, "report", "health", "--since", "1d", "--json")
    assert code == 0, err
    assert_clean(out, "report health --json")
    assert "Black " + STORABLE["rlo"] in json.dumps(json.loads(out), ensure_ascii=False)


def test_health_report_files(runner: CliRunner, db: str, tmp_path: Path) -> None:
    html, md, folder = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "csv"
    for option, target in (("--html", html), ("--md", md), ("--csv", folder)):
        code, out, err = run(runner, db, "report", "health", "--since", "1d", option, str(target))
        assert code == 0, err
        assert_clean(out + err)
    assert_clean(html.read_text("utf-8"), "html")
    assert "Black invoice\\u202efdp.exe" in html.read_text("utf-8")
    assert_clean(md.read_text("utf-8"), "markdown")
    assert "\\\\x1b" in md.read_text("utf-8")  # the escape's backslash, escaped for Markdown
    texts = {f.name: f.read_text("utf-8") for f in folder.glob("*.csv")}
    for name, text in texts.items():
        assert_clean(text, name)
    assert any("Gi0/1\\x1b[5mBLINK" in t for t in texts.values())


def test_problem_lines_for_alert_hooks(runner: CliRunner, db: str) -> None:
    for args in (["--since", "1d"], ["--since", "1d", "--json"], ["--new-since-last"]):
        code, out, err = run(runner, db, "report", "problems", *args)
        assert code == 0, err
        assert_clean(out + err, " ".join(args))
    assert "Gi0/1\\x1b[5mBLINK" in out


QUOTE_VENDOR = (
    "Angkor " + HOSTILE["clear_screen"] + HOSTILE["osc_title"] + " Digital" + HOSTILE["rlo"]
)


def _hostile_csv(folder: Path) -> None:
    path = folder / "a-angkor-digital.csv"
    rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    for row in rows:
        if row and row[0] == "Vendor":
            row[1] = QUOTE_VENDOR
        if row and row[0] == "LT-1":
            row[1] = "Latitude " + HOSTILE["c1_csi"] + HOSTILE["del"]  # NUL: refused as binary
            row[2] = "Dell " + HOSTILE["bidi_marks"] + HOSTILE["blink"]
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def _hostile_xlsx(src: Path, dest: Path) -> None:
    """A workbook whose vendor cell holds escapes as XML character references, and raw C1 and
    bidi characters (legal in XML), as any zip tool can write."""
    wb = load_workbook(src)
    wb["Quotation"]["B1"] = "VENDOR-PLACEHOLDER"
    wb.save(dest)
    hostile = "Mekong &#27;[2J&#27;]0;owned&#7; &#x202e;IT\u009b5m\u2066"
    with zipfile.ZipFile(dest) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = next(n for n, data in parts.items() if b"VENDOR-PLACEHOLDER" in data)
    parts[name] = parts[name].replace(b"VENDOR-PLACEHOLDER", hostile.encode())
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_quotation_scoring_reveals_vendor_text(
    runner: CliRunner, sqlite_url: str, tmp_path: Path, form: str
) -> None:
    assert runner.invoke(cli, ["--db", sqlite_url, "init"]).exit_code == 0
    folder = copy_rfq("laptop", tmp_path, csv=form == "csv")
    if form == "csv":
        _hostile_csv(folder)
    else:
        original = folder / "b-mekong-it.xlsx"
        shutil.move(original, tmp_path / "orig.xlsx")
        _hostile_xlsx(tmp_path / "orig.xlsx", original)
    reports = [tmp_path / f"r.{ext}" for ext in ("html", "md", "json", "xlsx")]
    score = ["quote", "score", str(folder), "--spec", str(SPECS / "laptop.yaml")]
    code, out, err = run(
        runner, sqlite_url, *score, *(a for r in reports for a in ("--report", str(r)))
    )
    assert code == 0, out + err
    assert_clean(out + err, "quote score")
    for r in reports[:3]:
        assert_clean(r.read_text("utf-8"), r.name)
    wb = load_workbook(reports[3])
    cells = [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c]
    assert_clean("\n".join(cells), "xlsx report")
    vendor = "Angkor \\x1b[2J" if form == "csv" else "owned \\u202eIT\\x9b5m\\u2066"
    assert vendor in reports[0].read_text("utf-8")
    assert any(vendor in c for c in cells)
    code, out, err = run(runner, sqlite_url, *score, "--json", "--no-store")
    assert code == 0, err
    assert_clean(out, "quote score --json")
    vendors = [v["vendor"] for v in json.loads(out)["vendors"]]
    assert any(vendor in v for v in vendors)  # the evidence, visibly
    for args in (["quote", "history"], ["quote", "show", "1"], ["quote", "show", "1", "--json"]):
        code, out, err = run(runner, sqlite_url, *args)
        assert code == 0, err
        assert_clean(out + err, " ".join(args))


def test_quotation_file_name_that_is_not_utf8(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    """A file name with bytes that are not UTF-8 (Python sees lone surrogates) is scored, shown
    and stored with the bytes as escapes, instead of a traceback when the JSON is hashed."""
    assert runner.invoke(cli, ["--db", sqlite_url, "init"]).exit_code == 0
    folder = copy_rfq("laptop", tmp_path)
    odd = os.fsdecode(b"c-sokha-\xff\xfe.xlsx")
    (folder / "c-sokha-computer.xlsx").rename(folder / odd)
    html = tmp_path / "r.html"
    score = ["quote", "score", str(folder), "--spec", str(SPECS / "laptop.yaml")]
    code, out, err = run(runner, sqlite_url, *score, "--report", str(html))
    assert code == 0, out + err
    assert_clean(out + err + html.read_text("utf-8"))
    assert "c-sokha-\\udcff\\udcfe.xlsx" in html.read_text("utf-8")
    code, out, err = run(runner, sqlite_url, "quote", "show", "1", "--json")
    assert code == 0, err
    assert_clean(out)
    assert any(i["name"] == odd for i in json.loads(out)["audit"]["inputs"])
