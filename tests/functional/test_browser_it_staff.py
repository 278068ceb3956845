"""The IT officer in a real browser: scan a label (its URL) while logged out, log in, land
on the device; search the inventory (live, case-insensitive); edit a field and see it in the
device's change history under their own name."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    ROUTER,
    Site,
    browser,
    device_row,
    first_tag,
    logged_in_as,
    login,
    no_horizontal_scroll,
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


def test_add_an_unknown_device_found_by_discovery(browser: Any, site: Site) -> None:
    page, seen = open_page(browser, site, "it_staff")
    page.goto(f"{site.url}/schools/{SCHOOL}")
    unknown = page.locator(
        "xpath=//h2[.='Unknown devices found by discovery']/following-sibling::div[1]//tbody/tr"
    )
    row = unknown.filter(has_text="Ubiquiti")
    assert row.count() == 1
    mac = row.locator("td").first.inner_text().strip()
    row.locator("select[name=kind]").select_option("hotspot")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    page.fill("input[name=tag]", "KPT-PSP-AP9")
    page.fill("input[name=room]", "Library")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url == f"{site.url}/devices/KPT-PSP-AP9"
    assert "Added to the inventory." in page.locator(".flash").first.inner_text()
    stored = device_row(site, "KPT-PSP-AP9")
    assert stored["kind"] == "hotspot" and str(stored["mac"]).lower() == mac.lower()
    history = page.locator("xpath=//h2[.='Change history']/following-sibling::div[1]//tbody")
    assert site.users["it_staff"] in history.inner_text()
    page.goto(f"{site.url}/schools/{SCHOOL}")
    assert unknown.filter(has_text="Ubiquiti").count() == 0  # known now
    seen.assert_clean()
    page.context.close()


def _export(page: Any, site: Site, school: str) -> list[dict[str, str]]:
    page.goto(f"{site.url}/inventory?school={school}")
    with page.expect_download() as got:
        page.click("a[href^='/inventory/export.csv']")
    text = Path(got.value.path()).read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _csv(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _upload(page: Any, site: Site, path: Path) -> None:
    page.goto(site.url + "/inventory/import")
    page.set_input_files("input[type=file][name=file]", str(path))
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_import_previews_every_error_before_writing(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    """Export a school as CSV, break two rows and change one: the preview lists both errors
    and nothing is written; fixed, the preview shows one change and Import writes it."""
    page, seen = open_page(browser, site, "it_staff")
    rows = _export(page, site, "KPT-TCP")
    assert rows and all(r["school"] == "KPT-TCP" for r in rows)
    changed, bad_ip, bad_kind = rows[0]["asset_tag"], rows[1]["asset_tag"], rows[2]["asset_tag"]
    before = {t: device_row(site, t) for t in (changed, bad_ip, bad_kind)}
    rows[0]["notes"] = "Checked on site visit"
    rows[1]["ip"] = "10.30.3.300"
    rows[2]["kind"] = "toaster"
    _upload(page, site, _csv(rows, tmp_path / "broken.csv"))
    problems = page.locator("xpath=//h2[contains(., 'error')]/following-sibling::div[1]//tbody/tr")
    assert problems.filter(has_text="10.30.3.300").count() == 1
    assert problems.filter(has_text="toaster").count() == 1
    assert "Nothing was written" in page.locator("main").inner_text()
    assert page.locator("form[action$='/confirm']").count() == 0
    assert {t: device_row(site, t) for t in before} == before

    rows[1]["ip"], rows[2]["kind"] = before[bad_ip]["ip"] or "", str(before[bad_kind]["kind"])
    _upload(page, site, _csv(rows, tmp_path / "fixed.csv"))
    assert "1 change" in page.locator("form[action$='/confirm']").inner_text()
    assert device_row(site, changed) == before[changed]  # the preview writes nothing
    with page.expect_navigation():
        page.click("form[action$='/confirm'] button[type=submit]")
    assert device_row(site, changed)["notes"] == "Checked on site visit"
    page.goto(f"{site.url}/devices/{changed}")
    latest = page.locator("xpath=//h2[.='Change history']/following-sibling::div[1]//tbody/tr")
    assert site.users["it_staff"] in latest.first.inner_text()
    assert "Checked on site visit" in latest.first.inner_text()
    seen.expected_status(400)
    seen.assert_clean()
    page.context.close()


def test_configuration_backups_and_their_diff(browser: Any, site: Site) -> None:
    tag = ROUTER
    page, seen = open_page(browser, site, "it_staff")
    page.goto(f"{site.url}/devices/{tag}")
    link = page.locator("main a", has_text="diff with the version before").first
    with page.expect_navigation():
        link.click()
    assert "/backups?a=" in page.url
    assert "Configuration diff" in page.locator("main h1").inner_text()
    diff = page.locator("pre.diff")
    kinds = set(diff.locator("span").evaluate_all("es => es.map(e => e.className)"))
    assert {"d-add", "d-del"} <= kinds, kinds  # lines added and removed, marked apart
    colours = diff.locator("span.d-add, span.d-del").evaluate_all(
        "es => new Set(es.map(e => getComputedStyle(e).color + getComputedStyle(e).backgroundColor)).size"
    )
    assert colours == 2  # and shown apart
    seen.assert_clean()
    page.context.close()


def test_repair_and_move_with_a_reason(browser: Any, site: Site) -> None:
    tag = first_tag(site, "KPT-KTH", kind="printer", status="deployed")
    page, seen = open_page(browser, site, "it_staff")
    page.goto(f"{site.url}/inventory/{tag}/edit")
    repair = page.locator(f"form[action$='/{tag}/repair']")
    repair.locator("input[name=reason]").fill("Fuser unit broken, sent to Kampot Digital Shop")
    with page.expect_navigation():
        repair.locator("button[type=submit]").click()
    assert page.url == f"{site.url}/devices/{tag}"
    assert page.locator(".flash").first.inner_text().startswith("Sent to repair.")
    assert device_row(site, tag)["status"] == "in_repair"

    page.goto(f"{site.url}/inventory/{tag}/edit")
    move = page.locator(f"form[action$='/{tag}/move']")
    move.locator("select[name=school]").select_option("KPT-PSP")
    move.locator("input[name=room]").fill("Library")
    move.locator("input[name=reason]").fill("Lent to Prey Speu while theirs is away")
    with page.expect_navigation():
        move.locator("button[type=submit]").click()
    assert page.url == f"{site.url}/devices/{tag}"
    assert f"/schools/{SCHOOL}" in str(page.locator("main p a").first.get_attribute("href"))
    history = page.locator(
        "xpath=//h2[.='Change history']/following-sibling::div[1]//tbody"
    ).inner_text()
    assert "Fuser unit broken" in history and "Lent to Prey Speu" in history
    assert history.count(site.users["it_staff"]) >= 2
    seen.assert_clean()
    page.context.close()


def test_edit_on_a_phone(browser: Any, site: Site) -> None:
    """At the school with a phone: the device's edit form and its change history as cards."""
    tag = first_tag(site, "KPT-PSH", kind="switch", status="deployed")
    page, seen = open_page(
        browser, site, "it_staff", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page.goto(f"{site.url}/inventory/{tag}/edit")
    no_horizontal_scroll(page, 390)
    page.fill("input[name=hostname]", "psh-sw9")
    with page.expect_navigation():
        page.click("form.card button[type=submit]:text-is('Save')")
    assert page.url == f"{site.url}/devices/{tag}"
    no_horizontal_scroll(page, 390)
    card = page.locator("xpath=//h2[.='Change history']/following-sibling::div[1]//tbody/tr").first
    assert card.evaluate("e => getComputedStyle(e).display") == "block"
    who = card.locator("td[data-label=Who]")
    assert who.inner_text().strip() == site.users["it_staff"]
    label = who.evaluate("e => getComputedStyle(e, '::before').content")
    assert label == '"Who"'  # each cell says what it is
    seen.assert_clean()
    page.context.close()
