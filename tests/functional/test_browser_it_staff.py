"""The IT officer in a real browser: scan a label (its URL) while logged out, log in, land
on the device; search the inventory (live, case-insensitive); edit a field and see it in the
device's change history under their own name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import (
    Site,
    browser,
    device_row,
    first_tag,
    logged_in_as,
    login,
    open_page,
    site,
)

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]
SCHOOL = "KPT-PSP"


def test_label_url_edit_and_change_history(browser: Any, site: Site) -> None:
    tag = first_tag(site, SCHOOL, kind="printer", status="deployed")
    row = device_row(site, tag)
    page, seen = open_page(browser, site)

    page.goto(f"{site.url}/devices/{tag}")  # what the QR code on the label holds
    assert "/login?next=" in page.url
    login(page, site, "it_staff")
    assert page.url == f"{site.url}/devices/{tag}"
    assert page.locator("main h1").inner_text().startswith(tag)
    assert logged_in_as(page) == site.users["it_staff"]

    page.goto(site.url + "/inventory")
    serial = str(row["serial"])
    with page.expect_response(lambda r: "/inventory/results" in r.url):
        page.locator("#q").press_sequentially(serial.lower(), delay=20)  # live search (htmx)
    results = page.locator("#results table.rtable tbody tr")
    results.first.wait_for()
    page.wait_for_function(
        "n => document.querySelectorAll('#results table.rtable tbody tr').length === n", arg=1
    )
    assert results.first.locator("td").first.inner_text() == tag
    mac = str(row["mac"]).upper()  # by MAC, upper case, without JavaScript: the plain form
    page.goto(f"{site.url}/inventory?q={mac}")
    assert page.locator("#results table.rtable tbody tr td:first-child").all_inner_texts() == [tag]

    with page.expect_navigation():
        page.locator("#results a", has_text="Edit").first.click()
    note = "Paper jam fixed; roller cleaned"
    page.fill("textarea[name=notes]", note)
    with page.expect_navigation():
        page.click("form.card button[type=submit]:text-is('Save')")
    assert page.url == f"{site.url}/devices/{tag}"
    assert page.locator(".flash").first.inner_text().startswith("Saved.")
    history = page.locator("xpath=//h2[.='Change history']/following-sibling::div[1]//tbody/tr")
    latest = history.first
    cells = {
        c.get_attribute("data-label"): c.inner_text().strip() for c in latest.locator("td").all()
    }
    assert cells["Who"] == site.users["it_staff"]
    assert cells["Field"] == "notes" and cells["New"] == note
    assert cells["Source"].startswith("web")
    assert note in page.locator("main").inner_text()  # the Fields table shows it too
    seen.assert_clean()
    page.context.close()


def test_a_viewer_cannot_write(browser: Any, site: Site) -> None:
    """A viewer sees no edit link, and an edit posted with a valid CSRF token is refused."""
    tag = first_tag(site, SCHOOL, kind="switch")
    page, seen = open_page(browser, site, "viewer")
    page.goto(f"{site.url}/devices/{tag}")
    assert page.locator("main a[href$='/edit']").count() == 0
    page.goto(f"{site.url}/inventory?q={tag}")
    assert page.locator("#results a", has_text="Edit").count() == 0
    assert page.locator("a[href='/inventory/import']").count() == 0
    before = device_row(site, tag)
    token = page.get_attribute("meta[name=csrf-token]", "content")
    answer = page.request.post(
        f"{site.url}/inventory/{tag}/edit",
        form={"csrf": str(token), "notes": "viewer was here", "shown_notes": ""},
        max_redirects=0,
    )
    assert answer.status == 403 and "Your role does not allow this." in answer.text()
    refused = page.request.post(  # and the token matters: without it, refused as well
        f"{site.url}/inventory/{tag}/edit", form={"notes": "x"}, max_redirects=0
    )
    assert refused.status == 403 and "came from another site" in refused.text()
    assert device_row(site, tag) == before
    seen.assert_clean()
    page.context.close()
