"""Log-in, log-out, CSRF and the language switch in a real browser against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import (
    Site,
    browser,
    csrf_of,
    fake_site,
    khmer_font_ready,
    khmer_share,
    logged_in_as,
    login,
    no_horizontal_scroll,
    open_page,
    site,
    ui_text,
)

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]


def test_log_in_and_out(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site)
    page.goto(site.url + "/")
    assert "/login" in page.url  # anonymous: sent to the log-in form
    assert logged_in_as(page) is None
    login(page, site, "it_staff")
    assert logged_in_as(page) == site.users["it_staff"]
    cookie = next(c for c in page.context.cookies() if c["name"] == "itops_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert "/login" in page.url
    page.goto(site.url + "/")
    assert "/login" in page.url  # the session is gone
    seen.assert_clean()
    page.context.close()


def test_wrong_password_is_refused_without_saying_which(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site)
    page.goto(site.url + "/login")
    page.fill("input[name=name]", site.users["viewer"])
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    assert "/login" in page.url
    assert page.locator("[role=alert]").inner_text().startswith("Wrong name or password")
    assert logged_in_as(page) is None
    seen.expected_status(401)
    seen.assert_clean()
    page.context.close()


def test_a_form_without_the_token_is_refused(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "viewer")
    page.goto(site.url + "/")
    token = csrf_of(page)
    # the page's own form with a wrong token: 403, still logged in
    page.evaluate("document.querySelector(\"form[action='/logout'] input[name=csrf]\").value = 'x'")
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert page.locator("h1").inner_text().startswith("Not allowed")
    page.goto(site.url + "/")
    assert logged_in_as(page) == site.users["viewer"]
    assert csrf_of(page) == token
    seen.expected_status(403)
    seen.assert_clean()
    page.context.close()


@pytest.mark.parametrize("other", ["http://127.0.0.1:9/", "http://evil.test/"])
@pytest.mark.parametrize(("target", "status"), [("/logout", 403), ("/no/such/page", 404)])
def test_another_sites_form_is_refused(
    browser: Any, site: Site, other: str, target: str, status: int
) -> None:
    """A page elsewhere (the same site on another port, or another site) posts a form to the
    server: refused, and the user stays logged in (the answer does not replace the cookie)."""
    page, seen = open_page(browser, site, "it_staff")
    page.goto(site.url + "/")
    form = (
        f'<form method="post" action="{site.url}{target}">'
        '<input type="hidden" name="csrf" value="guessed"><button>win a prize</button></form>'
    )
    fake_site(page.context, other, f"<!doctype html><title>prize</title>{form}")
    page.goto(other)
    with page.expect_navigation():
        page.click("button")
    assert page.url == site.url + target
    assert page.locator("h1").inner_text().startswith("Not allowed" if status == 403 else "Not")
    page.goto(site.url + "/")
    assert logged_in_as(page) == site.users["it_staff"]
    seen.expected_status(status)
    seen.offsite = [u for u in seen.offsite if not u.startswith(other)]
    seen.assert_clean()
    page.context.close()


def test_language_switch_to_khmer_and_back(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "viewer")
    page.goto(site.url + "/login")
    page.goto(site.url + "/")
    assert page.get_attribute("html", "lang") == "en"
    with page.expect_navigation():
        page.click("header .langs a[hreflang=km]")
    assert page.get_attribute("html", "lang") == "km"
    assert khmer_font_ready(page), "the Khmer OS font did not load"
    words = ui_text(page)
    assert khmer_share(" ".join(words)) > 0.6, words
    page.goto(site.url + "/")  # the choice is kept (cookie)
    assert page.get_attribute("html", "lang") == "km"
    with page.expect_navigation():
        page.click("header .langs a[hreflang=en]")
    assert page.get_attribute("html", "lang") == "en"
    assert khmer_share(" ".join(ui_text(page))) == 0.0
    seen.assert_clean()
    page.context.close()


def test_the_log_in_form_on_a_phone_in_khmer(browser: Any, site: Site) -> None:
    page, seen = open_page(
        browser, site, viewport={"width": 390, "height": 844}, is_mobile=True, locale="km-KH"
    )
    page.goto(site.url + "/devices/KPT-PSP-001")  # a scanned label, not logged in
    assert "/login" in page.url
    assert page.get_attribute("html", "lang") == "km"  # the phone asks for Khmer
    assert khmer_font_ready(page)
    words = ui_text(page)
    assert khmer_share(" ".join(words)) > 0.6, words
    no_horizontal_scroll(page, 390)
    seen.assert_clean()
    page.context.close()
