"""The reports pages on the real application (both database backends): the form, the monthly
report as its self-contained page in English or Khmer, the A4 PDF download, read access for
every role and none without a log-in, clear refusals of bad parameters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.functional.test_report_khmer import KM_NAME, fill
from tests.support.web import web_client


def test_reports_pages(db_url: str) -> None:
    with web_client(db_url) as web:
        fill(web.store)
        anonymous = web.get("/reports/health.html?month=2026-11")
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        web.login_as("vanna", "viewer")
        form = web.get("/reports")
        assert form.status_code == 200
        assert 'action="/reports/health.html"' in form.text
        assert 'formaction="/reports/health.pdf"' in form.text
        assert '<option value="2026-11"' in form.text and "November 2026" in form.text
        assert f"KPT-PSP · Preah Sisowath · {KM_NAME}" in form.text

        page = web.get("/reports/health.html?month=2026-11&school=kpt-psp&lang=km")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (
            '<html lang="km">' in page.text
            and f'<span lang="km" class="km">{KM_NAME}</span>' in page.text
        )
        assert 'id="compare"' in page.text and "វិច្ឆិកា 2026" in page.text
        assert "@font-face" in page.text and "<script" not in page.text

        web.get("/reports?lang=km")  # the page language (cookie) is the report's default
        khmer = web.get("/reports/health.html?month=2026-11")
        assert '<html lang="km">' in khmer.text
        form_km = web.get("/reports")
        assert "ទាញយក PDF (A4)" in form_km.text and "ភាសារបស់របាយការណ៍" in form_km.text
        english = web.get("/reports/health.html?month=2026-11&lang=en")
        assert (
            '<html lang="en">' in english.text
            and "Compared with the previous month" in english.text
        )

        assert web.get("/reports/health.html?month=2026-13").status_code == 400
        assert web.get("/reports/health.html?month=2026-11&lang=fr").status_code == 400
        missing = web.get("/reports/health.html?month=2026-11&school=KPT-NONE")
        assert missing.status_code == 404 and "KPT-NONE" in missing.text


def test_pdf_download(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with web_client(sqlite_url) as web:
        fill(web.store)
        web.login_as("sokha", "reviewer")  # a role without any write on inventory or probes
        got = web.get("/reports/health.pdf?month=2026-11&lang=km")
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert got.headers["content-disposition"] == 'attachment; filename="health-2026-11-km.pdf"'
        assert got.content.startswith(b"%PDF-")
        box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", got.content)
        assert box and (round(float(box[1])), round(float(box[2]))) == (595, 842)
        one = web.get("/reports/health.pdf?month=2026-11&school=KPT-PSP&lang=en")
        assert 'filename="health-2026-11-KPT-PSP-en.pdf"' in one.headers["content-disposition"]

        monkeypatch.delenv("ITOPS_CHROMIUM", raising=False)
        monkeypatch.setenv("PATH", str(tmp_path))
        none = web.get("/reports/health.pdf?month=2026-11")
        assert none.status_code == 503 and "PDF needs Chromium" in none.text
