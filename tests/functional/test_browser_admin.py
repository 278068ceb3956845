"""The admin's users page in a real browser: add an account, it logs in, disable it, its
session ends; other roles do not see the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import Site, browser, logged_in_as, login, open_page, site

pytestmark = pytest.mark.postgres
__all__ = ["browser", "site"]


def _row(page: Any, name: str) -> Any:
    return page.locator("table.rtable tbody tr", has=page.locator(f"td:text-is('{name}')"))


def test_admin_adds_a_user_who_logs_in_and_is_disabled(browser: Any, site: Site) -> None:
    admin, seen = open_page(browser, site, "admin")
    admin.goto(site.url + "/admin/users")
    for name in site.users.values():
        assert _row(admin, name).count() == 1, name
    form = admin.locator("form[action='/admin/users']")
    form.locator("input[name=name]").fill("kosal")
    form.locator("select[name=role]").select_option("viewer")
    form.locator("input[name=password]").fill("kosal's long password")
    with admin.expect_navigation():
        form.locator("button[type=submit]").click()
    assert admin.url.endswith("/admin/users")
    assert "Account added." in admin.locator(".flash").inner_text()
    assert _row(admin, "kosal").count() == 1

    other, other_seen = open_page(browser, site)
    other.goto(site.url + "/login")
    login(other, site, "viewer", name="kosal", password="kosal's long password")
    assert logged_in_as(other) == "kosal"

    with admin.expect_navigation():
        _row(admin, "kosal").locator("form[action$='/disable'] button").click()
    assert "Account disabled." in admin.locator(".flash").inner_text()
    other.goto(site.url + "/admin/users")  # any page: the disabled account's session is over
    assert "/login" in other.url
    assert logged_in_as(other) is None
    seen.assert_clean()
    other_seen.assert_clean()
    admin.context.close()
    other.context.close()


@pytest.mark.parametrize("role", ["it_staff", "reviewer", "viewer"])
def test_only_admins_see_the_users_page(browser: Any, site: Site, role: str) -> None:
    page, seen = open_page(browser, site, role)
    answer = page.goto(site.url + "/admin/users")
    assert answer is not None and answer.status == 403
    assert page.locator("header nav a[href='/admin/users']").count() == 0
    assert page.locator("form[action='/admin/users']").count() == 0
    seen.expected_status(403)
    seen.assert_clean()
    page.context.close()
