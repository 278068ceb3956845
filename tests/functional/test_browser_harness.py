"""The browser harness itself can fail: a page asking another host for something, logging a
console error or throwing is caught (else the flows' "clean" checks would prove nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import Site, browser, fake_site, open_page, site

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]

BAD_PAGE = """<!doctype html><title>bad</title>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<img src="http://cdn.example.com/logo.png" alt="">
<script>console.error("boom"); throw new Error("thrown");</script>"""


def test_off_server_requests_console_errors_and_page_errors_are_caught(
    browser: Any, site: Site
) -> None:
    page, seen = open_page(browser, site)
    fake_site(page.context, f"{site.url}/harness-check", BAD_PAGE)  # as if the server sent it
    page.goto(f"{site.url}/harness-check")
    page.wait_for_load_state("load")
    assert "https://fonts.googleapis.com/css?family=Roboto" in seen.offsite
    assert "http://cdn.example.com/logo.png" in seen.offsite
    assert any(kind == "error" and text == "boom" for kind, text, _ in seen.console)
    assert any("thrown" in e for e in seen.errors)
    with pytest.raises(AssertionError, match="request off the server"):
        seen.assert_clean()
    page.context.close()


def test_a_real_page_is_clean_and_served_by_the_server(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site)
    page.goto(f"{site.url}/login")
    assert any(u.endswith("/static/app.css") for u in seen.requests)
    assert any(u.endswith("/static/htmx.min.js") for u in seen.requests)
    assert page.evaluate("typeof window.htmx") == "object"  # the vendored htmx runs (CSP ok)
    seen.assert_clean()
    page.context.close()
