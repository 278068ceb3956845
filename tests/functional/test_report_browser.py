"""The HTML report in headless Debian chromium: loads cleanly, fetches nothing, fits a phone, prints to A4.

Every request the page causes is recorded over the DevTools protocol (Network domain), and
two control pages prove that the recorder does see a request and a CSP violation.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from kape_itops.reports import sample
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import Period
from kape_itops.reports.render_html import write_html
from kape_itops.store.db import Store
from tests.support.cdp import Chromium

A4_POINTS = (595, 842)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    c = Chromium()
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    store = Store(f"sqlite:///{folder / 'itops.db'}")
    store.upgrade()
    sample.seed_inventory(store, schools=3, devices_per_school=20)
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=2)
    sample.generate_history(store, start, end)
    report = build_report(store, Period(start, end), ReportOptions(title="Browser <check>"))
    store.dispose()
    return write_html(report, folder / "report.html")


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Counter.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def loopback_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_report_loads_without_errors_or_requests(browser: Chromium, report_file: Path) -> None:
    url = report_file.as_uri()
    got = browser.load(url)
    assert got.loaded
    assert got.requests == [url]  # only the file itself
    assert got.errors == []
    assert browser.evaluate("document.title").startswith("Browser <check>")
    assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 5
    assert browser.evaluate("document.querySelectorAll('script').length") == 0
    assert browser.evaluate("document.querySelector('h1').textContent") == "Browser <check>"


def test_report_fits_a_phone_screen(browser: Chromium, report_file: Path) -> None:
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=2,
        mobile=True,
    )
    try:
        got = browser.load(report_file.as_uri())
        assert got.loaded and got.errors == []
        # the page itself never scrolls sideways; wide tables scroll inside their own box
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        font = browser.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 12
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")


def test_report_prints_to_a4(browser: Chromium, report_file: Path) -> None:
    browser.load(report_file.as_uri())
    pdf = base64.b64decode(
        browser.call(
            "Page.printToPDF",
            timeout=60,
            paperWidth=8.27,
            paperHeight=11.69,
            preferCSSPageSize=True,
        )["data"]
    )
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page/") + pdf.count(b"/Type /Page ")
    pages = max(pages, pdf.count(b"/Type/Page") - pdf.count(b"/Type/Pages"))
    assert pages >= 4  # summary, trends, one page per school
    boxes = {tuple(round(float(v)) for v in box.split()[2:4]) for box in _media_boxes(pdf)}
    assert boxes == {A4_POINTS}


def _media_boxes(pdf: bytes) -> list[str]:
    return [m.decode() for m in re.findall(rb"/MediaBox\s*\[\s*([0-9.\s]+)\]", pdf)]


def test_control_a_page_that_fetches_is_caught(
    browser: Chromium, loopback_server: int, tmp_path: Path
) -> None:
    _Counter.hits.clear()
    page = tmp_path / "fetches.html"
    page.write_text(f'<!DOCTYPE html><img src="http://127.0.0.1:{loopback_server}/pixel.png">')
    got = browser.load(page.as_uri())
    assert f"http://127.0.0.1:{loopback_server}/pixel.png" in got.requests
    assert _Counter.hits == ["/pixel.png"]


def test_control_the_report_csp_blocks_and_reports_a_fetch(
    browser: Chromium, loopback_server: int, report_file: Path, tmp_path: Path
) -> None:
    _Counter.hits.clear()
    html = report_file.read_text(encoding="utf-8").replace(
        "</footer>", f'<img src="http://127.0.0.1:{loopback_server}/leak.png"></footer>'
    )
    page = tmp_path / "leaky.html"
    page.write_text(html, encoding="utf-8")
    got = browser.load(page.as_uri())
    assert _Counter.hits == []  # blocked by the report's Content-Security-Policy
    assert any("Content Security Policy" in e or "csp" in e for e in got.errors), got.errors
