"""The report pages and the API serve the kept report while its data is unchanged (one kept
copy per month, school, language and format), and a new one after a change-log edit; the PDF
too (a second print by Chromium would differ: it dates the file)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kape_itops.domain.inventory import ChangeContext, DeviceUpsert
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.report_cache_repo import CacheKey, ReportCacheRepo
from tests.functional.test_report_khmer import fill
from tests.support.web import web_client

NOV = dt.date(2026, 11, 1)


def _kept(store: Store, lang: str, fmt: str, school: str = "") -> list[int]:
    with store.session() as s:
        return [k.id for k in ReportCacheRepo(s).kept(CacheKey(NOV, school, lang, fmt))]


def _edit(store: Store, funding: str) -> None:
    with store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert("PSP-SW01", {"funding": funding})],
            ChangeContext("dara", "web", dt.datetime.now(dt.UTC)),
        )


def test_pages_and_api_serve_the_kept_report(db_url: str) -> None:
    with web_client(db_url) as web:
        fill(web.store)
        web.login_as("vanna", "viewer")
        url = "/reports/health.html?month=2026-11&school=kpt-psp&lang=km"
        first = web.get(url)
        assert first.status_code == 200 and '<html lang="km">' in first.text
        kept = _kept(web.store, "km", "html", "KPT-PSP")
        assert len(kept) == 1
        second = web.get(url)
        assert second.content == first.content and _kept(web.store, "km", "html", "KPT-PSP") == kept

        api = "/api/v1/reports/health?month=2026-11"
        one = web.get(api)
        assert one.status_code == 200 and one.headers["content-type"] == "application/json"
        assert json.loads(one.content)["comparison"]["schools"][0]["code"] == "KPT-PSP"
        assert web.get(api).content == one.content and len(_kept(web.store, "", "json")) == 1

        _edit(web.store, "USAID 2026")
        third = web.get(url)
        assert third.status_code == 200 and third.content != first.content
        assert "USAID 2026" in third.text
        assert len(_kept(web.store, "km", "html", "KPT-PSP")) == 2
        assert "USAID 2026" in web.get(api).text


def test_pdf_is_kept(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        fill(web.store)
        web.login_as("sokha", "reviewer")
        url = "/reports/health.pdf?month=2026-11&lang=en"
        first = web.get(url)
        assert first.status_code == 200 and first.content.startswith(b"%PDF-")
        again = web.get(url)
        assert again.content == first.content and len(_kept(web.store, "en", "pdf")) == 1
        assert again.headers["content-disposition"] == first.headers["content-disposition"]
        _edit(web.store, "USAID 2026")
        after = web.get(url)
        assert after.status_code == 200 and after.content != first.content
        assert len(_kept(web.store, "en", "pdf")) == 2


def test_a_pdf_too_long_to_print_is_refused_with_its_reason(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The all-schools PDF of a large fleet (thousands of A4 pages) is refused before Chromium
    starts: 413 with the size, the pages and what to do instead, in the page's language; a
    school's PDF under the limit is still printed."""
    from kape_itops.reports import pdf

    started: list[str] = []
    real = pdf.chromium

    def counted() -> str:
        started.append("chromium")
        return real()

    monkeypatch.setattr(pdf, "chromium", counted)
    with web_client(db_url) as web:
        fill(web.store)
        web.login_as("vanna", "viewer")
        size = len(web.get("/reports/health.html?month=2026-11&lang=en").content)
        monkeypatch.setattr(pdf, "MAX_HTML_BYTES", size // 2)
        got = web.get("/reports/health.pdf?month=2026-11&lang=en")
        assert got.status_code == 413 and not started
        text = " ".join(got.text.split())
        assert "too long for a PDF" in text and "A4 pages" in text
        assert f"the limit is {size // 2 / 1e6:g} MB" in text and "Choose one school" in text
        km = web.get("/reports/health.pdf?month=2026-11&lang=km")
        assert km.status_code == 413 and "វែងពេកសម្រាប់ PDF" in km.text
        assert _kept(web.store, "en", "pdf") == []  # nothing kept: the next try checks again
        monkeypatch.setattr(pdf, "MAX_HTML_BYTES", size * 2)
        ok = web.get("/reports/health.pdf?month=2026-11&lang=en")
        assert ok.status_code == 200 and ok.content.startswith(b"%PDF-") and started


def test_one_build_for_the_html_in_both_languages_the_pdf_and_the_api(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first view of each variant of one month and school renders the one kept build."""
    from kape_itops.reports.service import Reports

    built: list[object] = []
    real = Reports.monthly

    def counted(self: Reports, *a: object, **kw: object) -> object:
        built.append(a)
        return real(self, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Reports, "monthly", counted)
    with web_client(db_url) as web:
        fill(web.store)
        web.login_as("vanna", "viewer")
        q = "month=2026-11&school=KPT-PSP"
        en = web.get(f"/reports/health.html?{q}&lang=en")
        km = web.get(f"/reports/health.html?{q}&lang=km")
        pdf = web.get(f"/reports/health.pdf?{q}&lang=km")
        api = web.get(f"/api/v1/reports/health?{q}")
        assert [r.status_code for r in (en, km, pdf, api)] == [200] * 4
        assert '<html lang="km">' in km.text and pdf.content.startswith(b"%PDF-")
        assert json.loads(api.content)["school_filter"] == "KPT-PSP"
        assert len(built) == 1
