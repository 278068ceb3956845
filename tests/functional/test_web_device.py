"""The device page and its configuration diffs against the real application."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator

import pytest

from kape_itops.domain.inventory import ChangeContext, DeviceUpsert
from kape_itops.reports import retention, sample
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.web import WebClient, web_client

HOSTILE = '<script>alert("x")</script>'
END = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
CONFIGS = (
    "hostname r1\nvlan 10\n",
    "hostname r1\nvlan 20\nbanner <b>hi</b>\n",
    "hostname r1\nvlan 20\nbanner <b>hi</b>\n",  # unchanged: a mark, no version
    "hostname r1\nvlan 30\n",
)


def fill(store: Store) -> None:
    """One sample school with six hours of history, hostile text in a device, and three
    configuration versions of its router."""
    sample.seed_inventory(store, 1, 20)
    ctx = ChangeContext("sokha", "web: inventory", dt.datetime.now(dt.UTC))
    with store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert("KAPE-01-100", {"model": HOSTILE, "notes": HOSTILE})], ctx
        )
    sample.generate_history(store, END - dt.timedelta(hours=6), END)
    retention.rollup(store)
    with store.write() as s:
        repo = BackupRepo(s)
        dev = repo.device_id("KAPE-01-101")
        assert dev is not None
        for k, text in enumerate(CONFIGS):
            sha = hashlib.sha256(text.encode()).hexdigest()
            repo.record(dev, END - dt.timedelta(hours=5 - k), sha, text)


@pytest.fixture
def web(sqlite_url: str) -> Iterator[WebClient]:
    with web_client(sqlite_url) as client:
        fill(client.store)
        client.login_as("vanna", "viewer")
        yield client


def test_anonymous_goes_to_login(sqlite_url: str) -> None:
    with web_client(sqlite_url) as web:
        for path in ("/devices/KAPE-01-101", "/devices/KAPE-01-101/backups"):
            answer = web.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/login?next=/devices/")


def test_device_page_shows_everything_escaped(web: WebClient) -> None:
    page = web.get("/devices/KAPE-01-100")
    assert page.status_code == 200
    html = page.text
    assert HOSTILE not in html and html.count("&lt;script&gt;alert(") >= 2
    tds = re.findall(r"<td\b[^>]*>", html)
    assert tds and all("data-label=" in td for td in tds)
    for label in ("Newest result per layer", "Fields", "Warranty", "Results", "Change history"):
        assert label in html
    assert 'data-label="Probe">ping</td>' in html
    assert ">sokha</td>" in html and "web: inventory" in html  # the change log's entry
    assert 'href="/schools/KPT-PSP"' in html


def test_results_are_paged(web: WebClient) -> None:
    first = web.get("/devices/KAPE-01-100").text
    body = first.split('id="results"')[1].split("</table>")[0]
    assert body.count("<tr>") == 50 + 1  # 50 results and the header row
    assert 'href="/devices/KAPE-01-100?page=2#results"' in first
    second = web.get("/devices/KAPE-01-100?page=2").text
    rows = second.split('id="results"')[1].split("</table>")[0].count("<tr>") - 1
    assert 0 < rows <= 50  # 72 five-minute pings in six hours: 22 on page 2
    assert 'href="/devices/KAPE-01-100?page=1#results"' in second
    far = web.get("/devices/KAPE-01-100?page=10000")
    assert far.status_code == 200 and "No results on this page." in far.text
    assert web.get("/devices/KAPE-01-100?page=0").status_code in (400, 422)
    assert web.get("/devices/KAPE-01-100?page=10001").status_code in (400, 422)


def test_a_tag_in_another_case_opens_the_device(web: WebClient) -> None:
    page = web.get("/devices/kape-01-100")
    assert page.status_code == 200 and "<h1>KAPE-01-100 " in page.text


def test_a_tag_with_a_slash(web: WebClient) -> None:
    ctx = ChangeContext("sokha", "web: inventory", dt.datetime.now(dt.UTC))
    with web.store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert("LAB/07", {"school": "KPT-PSP", "kind": "laptop"})], ctx
        )
    for path in ("/devices/LAB/07", "/devices/LAB%2F07", "/devices/lab/07"):
        page = web.get(path)
        assert page.status_code == 200, path
        assert "<h1>LAB/07 " in page.text
    none = web.get("/devices/LAB/07/backups")
    assert none.status_code == 404 and "no configuration backup" in none.text


def test_unknown_device_is_a_404_page(web: WebClient) -> None:
    answer = web.get("/devices/NOPE-1")
    assert answer.status_code == 404
    assert "<!doctype html>" in answer.text and "NOPE-1" in answer.text


def test_backup_versions_and_diffs(web: WebClient) -> None:
    html = web.get("/devices/KAPE-01-101").text
    assert "v3" in html and "v2" in html and "v1" in html
    assert 'href="/devices/KAPE-01-101/backups?a=2&amp;b=3"' in html
    last = web.get("/devices/KAPE-01-101/backups")  # the last two versions
    assert last.status_code == 200
    assert '<span class="d-del">-vlan 20</span>' in last.text
    assert '<span class="d-add">+vlan 30</span>' in last.text
    first = web.get("/devices/KAPE-01-101/backups?a=1&b=2").text
    assert '<span class="d-add">+banner &lt;b&gt;hi&lt;/b&gt;</span>' in first
    assert "<b>hi</b>" not in first
    assert web.get("/devices/KAPE-01-101/backups?a=99").status_code == 400
    none = web.get("/devices/KAPE-01-100/backups")
    assert none.status_code == 404 and "no configuration backup" in none.text
    assert web.get("/devices/NOPE-1/backups").status_code == 404


def test_device_page_in_khmer(web: WebClient) -> None:
    html = web.get("/devices/KAPE-01-101?lang=km").text
    assert "ប្រវត្តិនៃការផ្លាស់ប្តូរ" in html  # "Change history"
    assert "Configuration backups" not in html


def test_edit_link_only_for_roles_that_may_edit(sqlite_url: str) -> None:
    """A scanned label leads an IT officer from the device page to its edit form."""
    with web_client(sqlite_url) as web:
        fill(web.store)
        web.login_as("vanna", "viewer")
        assert "/inventory/KAPE-01-101/edit" not in web.get("/devices/KAPE-01-101").text
        web.logout()
        web.login_as("dara", "it_staff")
        page = web.get("/devices/KAPE-01-101").text
        assert 'href="/inventory/KAPE-01-101/edit"' in page
        assert web.get("/inventory/KAPE-01-101/edit").status_code == 200
