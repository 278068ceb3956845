"""The report pages and the API serve the kept report while its data is unchanged (one kept
copy per month, school, language and format), and a new one after a change-log edit; the PDF
too (a second print by Chromium would differ: it dates the file)."""

from __future__ import annotations

import datetime as dt
import json

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
