"""The overview, problems and school pages against the real application and sample data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.reports import retention, sample
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.web import WebClient, web_client

HOSTILE = '<script>alert("x")</script>'
END = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def fill(store: Store) -> None:
    """Two sample schools (one with a Khmer name and hostile text), six hours of history,
    discovery sweeps with unknown devices, rollups."""
    sample.seed_inventory(store, 2, 20)
    ctx = ChangeContext("test", "test", dt.datetime.now(dt.UTC))
    with store.write() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("KPT-PSP", {"name_km": "សាលាបឋមសិក្សាព្រៃស្ពឺ"})], ctx)
        repo.apply_devices(
            [DeviceUpsert("KAPE-01-100", {"model": HOSTILE, "notes": HOSTILE, "room": HOSTILE})],
            ctx,
        )
    sample.generate_history(store, END - dt.timedelta(hours=6), END)
    sample.generate_discovery(store, END - dt.timedelta(hours=6), END)
    retention.rollup(store)


@pytest.fixture
def web(sqlite_url: str) -> Iterator[WebClient]:
    with web_client(sqlite_url) as client:
        fill(client.store)
        yield client


def cells(html: str) -> list[str]:
    """Every <td> of the page's data tables, with its data-label check done."""
    tds = re.findall(r"<td\b[^>]*>", html)
    assert all("data-label=" in td for td in tds), [td for td in tds if "data-label" not in td]
    return tds


@pytest.mark.parametrize("path", ["/", "/problems", "/schools/KPT-PSP", "/schools/NOPE"])
def test_anonymous_goes_to_login(sqlite_url: str, path: str) -> None:
    with web_client(sqlite_url) as web:
        answer = web.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_overview_one_tile_per_school(web: WebClient) -> None:
    web.login_as("vanna", "viewer")
    page = web.get("/")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="card tile"') == 2
    assert 'href="/schools/KPT-PSP"' in html and 'href="/schools/KPT-PSH"' in html
    assert '<span lang="km" class="km">សាលាបឋមសិក្សាព្រៃស្ពឺ</span>' in html
    assert "never (no collector)" in html  # a single machine: no enrolled site
    assert re.search(r'badge crit">down \d+', html)
    assert 'href="/problems?school=KPT-PSP&amp;severity=crit"' in html


def test_overview_in_khmer(web: WebClient) -> None:
    web.login_as("vanna", "viewer")
    html = web.get("/?lang=km").text
    assert '<html lang="km">' in html
    assert "ទិដ្ឋភាពទូទៅ" in html  # "Overview"
    assert "Collector last sync" not in html


def test_problems_filters_and_links(web: WebClient) -> None:
    web.login_as("vanna", "viewer")
    html = web.get("/problems").text
    cells(html)
    tags = re.findall(r'<a href="/devices/([^"]+)">', html)
    assert tags and all(t.startswith("KAPE-") for t in tags)
    crit = web.get("/problems?severity=crit").text
    assert 'badge warn">' not in crit.split("<tbody>")[1]
    assert 'badge crit">' in crit.split("<tbody>")[1]
    school = web.get("/problems?school=KPT-PSH").text.split("<tbody>")[1]
    assert "KPT-PSH" in school and ">KPT-PSP<" not in school
    kind = web.get("/problems?kind=unknown_device").text.split("<tbody>")[1]
    assert "unknown device" in kind and "toner low" not in kind
    assert "<img src=x" not in kind and "&lt;img src=x" in kind  # a camera's name, escaped
    recent = web.get("/problems?since=" + (END - dt.timedelta(days=1)).date().isoformat())
    assert recent.status_code == 200


@pytest.mark.parametrize(
    "query",
    ["kind=bogus", "severity=high", "since=yesterday", "since=2999-01-01", "page=0", "page=10001"],
)
def test_bad_filters_are_a_400_page(web: WebClient, query: str) -> None:
    web.login_as("vanna", "viewer")
    answer = web.get("/problems?" + query)
    assert answer.status_code in (400, 422)
    assert "<!doctype html>" in answer.text


def test_problems_pages_are_bounded(web: WebClient) -> None:
    web.login_as("vanna", "viewer")
    first = web.get("/problems?since=1d").text
    rows = first.split("<tbody>")[1].count("<tr>")
    assert 0 < rows <= 50
    far = web.get("/problems?since=1d&page=9999")
    assert far.status_code == 200  # clamped to the last page, never everything
    assert far.text.split("<tbody>")[1].count("<tr>") <= 50


def test_school_page(web: WebClient) -> None:
    web.login_as("vanna", "viewer")
    page = web.get("/schools/kpt-psp?period=1d")
    assert page.status_code == 200
    html = page.text
    cells(html)
    assert "Devices by room and kind" in html and "<svg" in html
    assert 'href="/devices/KAPE-01-020"' in html  # the printer, in the toner table
    assert "24:a4:3c:5e:01:77" in html  # an unknown device of the newest sweep
    assert "/unknown/" not in html  # a viewer gets no add form
    assert HOSTILE not in html and "&lt;script&gt;" in html
    for period in ("7d", "30d"):
        assert web.get(f"/schools/KPT-PSP?period={period}").status_code == 200
    assert web.get("/schools/KPT-PSP?period=2y").status_code == 400
    assert web.get("/schools/KPT-PSP?kind=spaceship").status_code == 400
    missing = web.get("/schools/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.text


def test_school_page_filters_and_pages(web: WebClient) -> None:
    web.login_as("vanna", "viewer")
    lab = web.get("/schools/KPT-PSP?room=Lab%201").text
    rows: Any = re.findall(r'<td data-label="Room">([^<]*)</td>', lab)
    assert rows and set(rows) == {"Lab 1"}
    cams = web.get("/schools/KPT-PSP?kind=camera").text
    kinds = set(re.findall(r'<td data-label="Kind">(\w+)', cams))
    assert kinds == {"camera"}
    assert web.get("/schools/KPT-PSP?page=9999").status_code == 200


def test_it_staff_gets_an_add_form_per_unknown_device(web: WebClient) -> None:
    web.login_as("dara", "it_staff")
    html = web.get("/schools/KPT-PSP").text
    forms = re.findall(r'<form method="post" action="(/schools/KPT-PSP/unknown/[^"]+/add)"', html)
    assert "/schools/KPT-PSP/unknown/24%3Aa4%3A3c%3A5e%3A01%3A77/add" in forms
    form = html[html.index(forms[0]) :].split("</form>")[0]
    assert 'name="csrf"' in form and 'name="mac"' in form and 'name="ip"' in form
    assert 'name="vendor"' in form and 'name="kind"' in form
    # the form reaches the inventory's add route (its own form: tag, name, room)
    fields = dict(re.findall(r'name="(mac|ip|vendor)" value="([^"]*)"', form))
    answer = web.post(forms[0], {**fields, "kind": "camera"})
    assert answer.status_code == 200 and fields["ip"] in answer.text
    refused = web.post(forms[0], {**fields, "kind": "camera"}, csrf=False)
    assert refused.status_code == 403


def test_every_read_page_on_both_backends(db_url: str) -> None:
    with web_client(db_url) as web:
        fill(web.store)
        web.login_as("vanna", "viewer")
        for path in (
            "/",
            "/problems?severity=crit",
            "/schools/KPT-PSP?period=1d",
            "/schools/KPT-PSH?period=30d&kind=camera",
            "/devices/KAPE-01-020",
        ):
            answer = web.get(path)
            assert answer.status_code == 200, (path, answer.text[-600:])
            assert "app;dur=" in answer.headers.get("server-timing", "")
