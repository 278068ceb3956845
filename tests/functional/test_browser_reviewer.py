"""The procurement reviewer in a real browser: upload the vendors' filled forms for an RFQ,
read the evaluation and its award (the CLI's for the same forms), see the effect of QCBS,
record the evaluation and the decision; the audit trail names the reviewer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import REPO, Site, browser, open_page, site, vendor_forms
from tests.support.itops_server import itops

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]


def _cli_awards(tmp_path: Path, category: str) -> dict[str, str]:
    """Each lot's award note as ``itops quote score`` gives it for the sample folder."""
    done = itops(
        "quote", "score", str(REPO / "quotes" / category), "--no-store", "--json",
        db=f"sqlite:///{tmp_path / 'cli.db'}",
    )  # fmt: skip
    assert done.returncode in (0, 1, 2), done.stderr
    return {str(lot["lot"]): str(lot["award_note"]) for lot in json.loads(done.stdout)["lots"]}


def test_reviewer_uploads_quotations_and_reads_the_award(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    rfq = site.rfqs["printer"]
    page, seen = open_page(browser, site, "reviewer")
    page.goto(site.url + "/quotes")
    with page.expect_navigation():
        page.click(f"main a[href='/quotes/{rfq}']")
    assert page.locator("text=No quotation uploaded yet.").count() == 1

    with page.expect_download() as blank:
        page.click(f"a[href='/quotes/{rfq}/form.xlsx']")
    content = Path(blank.value.path()).read_bytes()
    assert content[:2] == b"PK" and blank.value.suggested_filename.endswith(".xlsx")

    forms = vendor_forms("printer")
    page.set_input_files("input[type=file][name=files]", [str(p) for p in forms])
    with page.expect_navigation():
        page.click(f"form[action='/quotes/{rfq}/upload'] button[type=submit]")
    rows = page.locator("xpath=//h2[starts-with(., 'Vendors')]/following-sibling::div[1]//tbody/tr")
    assert rows.count() == len(forms)
    assert site.users["reviewer"] in rows.first.inner_text()

    with page.expect_navigation():
        page.click(f"a[href='/quotes/{rfq}/evaluation']")
    awards = page.locator("p.award").all_inner_texts()
    expected = _cli_awards(tmp_path, "printer")
    assert sorted(a.strip() for a in awards) == sorted(expected.values())
    assert any("Sunrise Tech Trading" in a for a in awards)

    page.select_option("select[name=method]", "qcbs")
    page.fill("input[name=weights]", "50:50")
    with page.expect_navigation():
        page.click("button:text-is('See the effect')")
    assert "method=qcbs" in page.url
    assert page.locator("h2:text-is('Effect of the change')").count() == 1
    assert page.locator("table.effect").count() == len(expected)

    with page.expect_navigation():
        page.click("form[action$='/evaluations'] button")
    assert "recorded with its audit record" in page.locator(".flash").first.inner_text()
    decision = page.locator(f"form[action='/quotes/{rfq}/decision']")
    lot = decision.locator("select[name=lot] option").first.get_attribute("value")
    decision.locator("textarea[name=comment]").fill("as evaluated; price explanation received")
    with page.expect_navigation():
        decision.locator("button[type=submit]").click()
    page.goto(f"{site.url}/quotes/{rfq}")
    decided = page.locator("main h2:text-is('Decisions') + div table tbody tr").first
    assert decided.locator("td").first.inner_text() == lot
    assert site.users["reviewer"] in decided.inner_text()
    trail = page.locator("main h2:text-is('Audit trail') + div table").inner_text()
    for what in ("RFQ created", "quotation uploaded", "evaluation recorded", "decision"):
        assert what in trail, what
    seen.assert_clean()
    page.context.close()


def test_the_award_of_uploaded_forms_reads_like_the_report(browser: Any, site: Site) -> None:
    """A viewer (a donor) reads the evaluation of the laptop RFQ: no write form is shown."""
    page, seen = open_page(browser, site, "viewer")
    page.goto(f"{site.url}/quotes/{site.rfqs['laptop']}/evaluation")
    assert page.locator("p.award").count() >= 1
    for heading in ("Comparison matrix", "Arithmetic check"):
        assert page.locator(f"main h2:has-text('{heading}'), main h3:has-text('{heading}')").count()
    assert page.locator("form[method=post]:not([action='/logout'])").count() == 0
    seen.assert_clean()
    page.context.close()


def _fill(page: Any, values: dict[str, str], lines: list[dict[str, str]]) -> None:
    """Type the RFQ's values into the form (text, date and number inputs, selects, boxes)."""
    while page.locator("input[name^='line-'][name$='-item']").count() < len(lines):
        with page.expect_navigation():
            page.click("button[name=more]")
    for name, value in values.items():
        field = page.locator(f"form[action='/quotes/new'] [name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    rows = page.locator("input[name^='line-'][name$='-item']").count()
    for i in range(rows):
        line = lines[i] if i < len(lines) else {}
        for key in ("lot", "lot_name", "item", "description", "quantity", "unit"):
            page.fill(f"input[name='line-{i}-{key}']", line.get(key, ""))
        page.locator(f"input[name='line-{i}-technical']").set_checked(
            bool(line.get("technical")) or i >= len(lines)
        )


def test_reviewer_makes_an_rfq_with_the_form(browser: Any, site: Site) -> None:
    """No YAML: the RFQ is typed into the form; a form with problems names each at its field
    and stores nothing; corrected, the RFQ is made by the reviewer."""
    from tests.support.procurement import form_of

    values, lines = form_of(REPO / "quotes" / "printer" / "rfq.yaml", rfq="KAPE-RFQ-2026-099")
    page, seen = open_page(browser, site, "reviewer")
    page.goto(site.url + "/quotes")
    with page.expect_navigation():
        page.click("main a[href^='/quotes/new']")
    _fill(page, {**values, "title": "", "vat_rate": "ten"}, [{**lines[0], "quantity": "-3"}])
    with page.expect_navigation():
        page.click("form[action='/quotes/new'] button[type=submit]:not([name=more])")
    assert page.url.endswith("/quotes/new")
    invalid = page.locator("[aria-invalid=true]").evaluate_all("es => es.map(e => e.name)")
    assert {"title", "vat_rate", "line-0-quantity"} <= set(invalid), invalid
    page.goto(site.url + "/quotes")
    assert page.locator("main", has_text="KAPE-RFQ-2026-099").count() == 0

    page.goto(site.url + "/quotes/new")
    _fill(page, values, lines)
    with page.expect_navigation():
        page.click("form[action='/quotes/new'] button[type=submit]:not([name=more])")
    assert page.locator("main h1").inner_text().startswith("KAPE-RFQ-2026-099")
    assert page.locator("main table.rtable tbody tr", has_text=lines[0]["item"]).count() >= 1
    assert site.users["reviewer"] in page.locator("dl.facts").inner_text()
    seen.expected_status(400)
    seen.assert_clean()
    page.context.close()
