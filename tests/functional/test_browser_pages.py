"""Every main page in a real browser: each role's pages load without a console error or a
request off the server, read-only roles see no write form, every page fits a 390 px phone
(tables as cards, nothing cut off), and every page reads in Khmer with the Khmer font."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import (
    Site,
    browser,
    first_tag,
    khmer_font_ready,
    khmer_share,
    no_horizontal_scroll,
    open_page,
    site,
    ui_text,
)

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]
SCHOOL = "KPT-PSP"
PHONE = {"width": 390, "height": 844}
WRITE_FORMS = "main form[method=post], main form[method=POST]"


def pages(site: Site) -> list[str]:
    """The main pages (an admin sees them all)."""
    router = first_tag(site, SCHOOL, kind="router")
    laptop = site.rfqs["laptop"]
    return [
        "/",
        "/problems",
        f"/schools/{SCHOOL}",
        f"/devices/{router}",
        "/inventory",
        f"/inventory/{router}/edit",
        "/inventory/import",
        "/quotes",
        "/quotes/new",
        f"/quotes/{laptop}",
        f"/quotes/{laptop}/evaluation",
        "/reports",
        "/admin/users",
    ]


READS = {
    "viewer": ("/inventory/", "/quotes/new", "/admin/"),
    "reviewer": ("/inventory/", "/admin/"),
    "it_staff": ("/quotes/new", "/admin/"),
    "admin": (),
}
"""Per role, the pages (prefixes; ``/inventory/`` is the edit and import pages) it may not open."""


@pytest.mark.parametrize("role", sorted(READS))
def test_each_role_browses_its_pages_cleanly(browser: Any, site: Site, role: str) -> None:
    page, seen = open_page(browser, site, role)
    for path in pages(site):
        answer = page.goto(site.url + path)
        assert answer is not None
        barred = any(path.startswith(p) for p in READS[role])
        assert answer.status == (403 if barred else 200), (role, path, answer.status)
        if role == "viewer":  # read-only: no write form (nor its button) anywhere
            assert page.locator(WRITE_FORMS).count() == 0, path
        if role == "reviewer" and path.startswith(("/schools/", "/devices/")):
            assert page.locator(WRITE_FORMS).count() == 0, path
    nav = page.locator("header nav a").evaluate_all("links => links.map(a => a.pathname)")
    assert ("/admin/users" in nav) == (role == "admin")
    seen.expected_status(403)
    seen.assert_clean()
    page.context.close()


_CARDS = """() => {
  const out = [];
  for (const t of document.querySelectorAll('main table.rtable')) {
    if (getComputedStyle(t.querySelector('thead') || t).display !== 'none' && t.tHead)
      out.push('a table head is shown');
    for (const tr of t.querySelectorAll('tbody tr'))
      if (getComputedStyle(tr).display !== 'block') { out.push('a row is not a card'); break; }
    const bare = [...t.querySelectorAll('tbody td')].filter(td => !td.dataset.label).length;
    if (bare) out.push(bare + ' cells without data-label');
  }
  for (const e of document.querySelectorAll('main *')) {
    const x = getComputedStyle(e).overflowX;
    if (e.scrollWidth > e.clientWidth + 1 && (x === 'auto' || x === 'scroll'))
      out.push('sideways scrolling in ' + e.tagName.toLowerCase() + '.' + e.className +
               ' (' + e.scrollWidth + ' px in ' + e.clientWidth + ')');
  }
  return out;
}"""


@pytest.mark.slow
def test_every_page_fits_a_phone(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "admin", viewport=PHONE, is_mobile=True, has_touch=True)
    problems: dict[str, list[str]] = {}
    for path in pages(site):
        answer = page.goto(site.url + path)
        assert answer is not None and answer.status == 200, path
        try:
            no_horizontal_scroll(page, PHONE["width"])
        except AssertionError as exc:
            problems.setdefault(path, []).append(str(exc))
        if found := page.evaluate(_CARDS):
            problems.setdefault(path, []).extend(found)
    assert not problems, problems
    seen.assert_clean()
    page.context.close()


@pytest.mark.slow
def test_every_page_reads_in_khmer(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "admin", locale="km-KH")
    page.goto(site.url + "/?lang=km")
    untranslated: dict[str, list[str]] = {}
    for path in pages(site):
        answer = page.goto(site.url + path)
        assert answer is not None and answer.status == 200, path
        assert page.get_attribute("html", "lang") == "km", path
        assert khmer_font_ready(page), f"{path}: the Khmer OS font is not loaded"
        nav = page.locator("header nav a").all_inner_texts()
        assert all(khmer_share(t) > 0.9 for t in nav), (path, nav)
        words = ui_text(page)
        if khmer_share(" ".join(words)) < 0.6:
            untranslated[path] = [w for w in words if khmer_share(w) < 0.5][:15]
    assert not untranslated, untranslated
    seen.assert_clean()
    page.context.close()


def test_the_api_reference_loads_nothing_from_elsewhere(browser: Any, site: Site) -> None:
    """/api/docs (for the IT officer's scripts) works on a LAN without internet: no CDN."""
    page, seen = open_page(browser, site, "it_staff")
    answer = page.goto(site.url + "/api/docs")
    assert answer is not None and answer.status == 200
    assert "/api/v1/" in page.locator("body").inner_text()
    seen.assert_clean()
    page.context.close()
