"""The programme manager (role viewer) in a real browser: the overview, a school, the monthly
report as HTML and as a PDF download; no write button anywhere, and a write posted with a
valid CSRF token is refused (403)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import REPO, Site, browser, first_tag, khmer_share, open_page, site

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]
SCHOOL = "KPT-PSP"
PDF_WAIT_MS = 90_000
"""Chromium prints the PDF on the server: allow for a loaded machine."""


def _schools() -> list[str]:
    lines = (REPO / "inventory" / "schools.csv").read_text("utf-8").splitlines()[1:]
    return sorted(line.split(",")[0] for line in lines if line.strip())


def test_manager_reads_overview_school_and_downloads_the_pdf(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "viewer")
    page.goto(site.url + "/")
    tiles = page.locator("section.tile h2 a").all_inner_texts()
    assert sorted(tiles) == _schools()
    with page.expect_navigation():
        page.click(f"section.tile h2 a:text-is('{SCHOOL}')")
    assert page.url == f"{site.url}/schools/{SCHOOL}"
    heading = page.locator("main h1").inner_text()
    assert "Prey Speu Primary School" in heading and "សាលាបឋមសិក្សាព្រៃស្ពឺ" in heading

    with page.expect_navigation():
        page.click("header nav a[href='/reports']")
    page.select_option("select[name=school]", SCHOOL)
    page.select_option("form select[name=lang]", "en")
    with (
        page.expect_response(lambda r: "/reports/health.pdf" in r.url, timeout=PDF_WAIT_MS) as got,
        page.expect_download(timeout=PDF_WAIT_MS) as download,
    ):
        page.click("button[formaction='/reports/health.pdf']")
    answer = got.value
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert "attachment" in answer.headers["content-disposition"]
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 5_000
    assert download.value.suggested_filename.endswith(".pdf")

    with page.expect_navigation(timeout=PDF_WAIT_MS):
        page.click("main form button[type=submit]:not([formaction])")
    assert "/reports/health.html" in page.url and f"school={SCHOOL}" in page.url
    assert "Prey Speu Primary School" in page.locator("body").inner_text()
    seen.assert_clean()  # the report is self-contained: nothing asked of any other host
    page.context.close()


def _writes(site: Site) -> list[tuple[str, dict[str, str]]]:
    tag = first_tag(site, SCHOOL, kind="camera")
    rfq = site.rfqs["laptop"]
    return [
        (f"/inventory/{tag}/edit", {"notes": "viewer was here"}),
        (f"/inventory/{tag}/retire", {"reason": "viewer"}),
        (f"/schools/{SCHOOL}/unknown/10.30.1.201/add", {"ip": "10.30.1.201", "kind": "other"}),
        (f"/quotes/{rfq}/evaluations", {"method": "qcbs"}),
        ("/quotes/new", {"rfq": "X"}),
        ("/admin/users", {"name": "mallory", "role": "admin", "password": "x" * 20}),
    ]


def test_a_viewer_is_refused_every_write(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "viewer")
    page.goto(site.url + "/")
    token = str(page.get_attribute("meta[name=csrf-token]", "content"))
    for url, form in _writes(site):
        answer = page.request.post(site.url + url, form={"csrf": token, **form}, max_redirects=0)
        assert answer.status == 403, (url, answer.status)
        assert "Your role does not allow this." in answer.text(), url
    page.goto(site.url + "/admin/users")
    seen.expected_status(403)
    seen.assert_clean()
    page.context.close()


def test_problems_filtered_and_each_links_to_its_device(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "viewer")
    page.goto(site.url + "/")
    crit = page.locator("section.tile a.badge.crit").filter(has_not_text=re.compile(r"\b0$"))
    assert crit.count() >= 1  # the sample has devices down
    school = crit.first.locator("xpath=ancestor::section[1]//h2/a").inner_text()
    with page.expect_navigation():
        crit.first.click()
    assert f"school={school}" in page.url and "severity=crit" in page.url
    rows = page.locator("main table.rtable tbody tr")
    assert rows.count() >= 1
    for row in rows.all():
        assert row.locator("td[data-label=School]").inner_text() == school
        assert "crit" in str(row.locator("td[data-label=Severity] .badge").get_attribute("class"))
    device = rows.locator("td[data-label=Device] a").first
    tag = device.inner_text()
    with page.expect_navigation():
        device.click()
    assert page.url == f"{site.url}/devices/{tag}"
    assert page.locator("main h2:text-is('Problems now')").count() == 1
    seen.assert_clean()
    page.context.close()


def test_the_report_in_khmer_shows_khmer_glyphs(browser: Any, site: Site) -> None:
    """The Khmer report: its text in Khmer with the embedded Khmer face loaded (no empty
    boxes), and the PDF carries that font."""
    page, seen = open_page(browser, site, "viewer")
    page.goto(f"{site.url}/reports?lang=km")
    page.select_option("select[name=school]", SCHOOL)
    page.select_option("main form select[name=lang]", "km")
    with page.expect_navigation(timeout=PDF_WAIT_MS):
        page.click("main form button[type=submit]:not([formaction])")
    assert page.get_attribute("html", "lang") == "km"
    page.evaluate("document.fonts.ready.then(() => true)")
    faces = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert any("Khmer" in f for f in faces), faces
    assert khmer_share(" ".join(page.locator("h1, h2, th").all_inner_texts())) > 0.5
    assert "សាលាបឋមសិក្សាព្រៃស្ពឺ" in page.locator("body").inner_text()
    seen.assert_clean()

    pdf = page.request.get(
        f"{site.url}/reports/health.pdf?school={SCHOOL}&lang=km", timeout=PDF_WAIT_MS
    )
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    body = pdf.body()
    assert body.startswith(b"%PDF-")
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+#-]+)", body))
    assert any(b"Khmer" in f for f in fonts), fonts
    page.context.close()
