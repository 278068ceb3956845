"""The health report as PDF through headless Chromium: A4, the Khmer subset embedded, a clear
error without Chromium, and a print that hangs killed (with its children) at the timeout."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.errors import ConfigError
from kape_itops.fonts import POSTSCRIPT_NAME
from kape_itops.reports import pdf
from kape_itops.store.db import Store
from tests.functional.test_report_khmer import fill


def pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def test_pdf_is_a4_with_the_khmer_font(store: Store, tmp_path: Path) -> None:
    fill(store)
    out = tmp_path / "health.pdf"
    res = CliRunner().invoke(
        cli,
        [
            "--db",
            store.url,
            "report",
            "health",
            "--month",
            "2026-11",
            "--lang",
            "km",
            "--interval",
            "3h",
            "--format",
            "pdf",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes and all(round(float(w)) == 595 and round(float(h)) == 842 for w, h in boxes)
    assert pages(data) >= 2  # the summary, then each school on its own page
    assert b"/FontFile2" in data
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+" + POSTSCRIPT_NAME.encode(), data)
    # English: the same A4, no Khmer subset needed but for the school's Khmer name
    res = CliRunner().invoke(
        cli,
        [
            "--db",
            store.url,
            "report",
            "health",
            "--month",
            "2026-11",
            "--interval",
            "3h",
            "--pdf",
            str(tmp_path / "en.pdf"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "en.pdf").read_bytes().startswith(b"%PDF-")


def test_no_chromium_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITOPS_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="PDF needs Chromium, which is not installed"):
        pdf.html_to_pdf("<p>x</p>")
    monkeypatch.setenv("ITOPS_CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"ITOPS_CHROMIUM .*nowhere is not an executable"):
        pdf.chromium()


def test_hanging_print_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pids = tmp_path / "pids"
    fake = tmp_path / "chromium"
    fake.write_text(f"#!/bin/sh\necho $$ >> {pids}\nsleep 300 &\necho $! >> {pids}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ITOPS_CHROMIUM", str(fake))
    started = time.monotonic()
    with pytest.raises(pdf.PdfError, match=r"did not print the report within 1 s"):
        pdf.html_to_pdf("<p>x</p>", timeout=1)
    assert time.monotonic() - started < 30
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"process {pid} outlived the timeout")
