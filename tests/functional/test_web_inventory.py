"""The inventory pages against the real application: search, edit, move/retire/repair, import
with a preview that writes nothing, downloads, labels, discovery's add-to-inventory; roles,
CSRF and the change log's actor on both backends."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import segno

from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord
from kape_itops.domain.enums import DeviceStatus
from kape_itops.inventory.service import Inventory
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import record_sweeps
from tests.functional.test_import import DEVICE_HEADER, run, seed_folder, snapshot
from tests.hostile import xlsx_bombs
from tests.support.web import WebClient, web_client

NEW_CSV = DEVICE_HEADER + "\nD3,KPT-PSH,printer,S3,aa:bb:cc:00:00:03,10.30.2.9,,,,,\n"
BAD_CSV = (
    DEVICE_HEADER + "\n"
    "D4,KPT-PSH,printer,S4,not-a-mac,,,,,,\n"
    "D5,KPT-PSH,toaster,S1,,,,2024-13-01,,,\n"
)


@pytest.fixture(autouse=True)
def _uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test keeps its uploads in its own folder."""
    monkeypatch.setenv("ITOPS_UPLOAD_DIR", str(tmp_path / "uploads"))


def _seed(web: WebClient, tmp_path: Path) -> Store:
    store: Store = web.store
    run(store, seed_folder(tmp_path / "seed"))
    Inventory(store, "seed").set("D2", {"hostname": "gate-cam.psp.lan", "model": "IPC-HFW1230"})
    return store


def _sweep(store: Store) -> None:
    hosts = (
        SweepHost("10.30.1.77", "aa:bb:cc:00:00:77", "Hikvision", None, HostState.UNKNOWN),
        SweepHost("10.30.1.78", None, None, None, HostState.UNKNOWN),
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    rec = SweepRecord("KPT-PSP", at, 2.0, "arp", ("10.30.1.0/24",), "collector", hosts)
    record_sweeps(store, [rec])


def _upload(web: WebClient, name: str, data: bytes, csrf: bool = True) -> Any:
    form = {"csrf": web.csrf} if csrf else {}
    return web.client.post("/inventory/import", data=form, files={"file": (name, data)})


def _actors(store: Store, since: int = 0) -> set[tuple[str, str]]:
    return {(c.actor, c.source) for c in Inventory(store, "x").history()[since:]}


WRITES: list[tuple[str, dict[str, str]]] = [
    ("/inventory/D2/edit", {"ip": "10.30.1.99"}),
    ("/inventory/D2/move", {"school": "KPT-PSH", "room": "Lab", "reason": "x"}),
    ("/inventory/D2/retire", {"reason": "broken"}),
    ("/inventory/D2/repair", {"reason": "broken"}),
    ("/inventory/import/" + "a" * 32 + "/confirm", {"sha256": "0" * 64}),
    ("/schools/KPT-PSP/unknown/aa:bb:cc:00:00:77/add", {"kind": "camera", "tag": "N1"}),
]


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_readers_may_search_but_every_write_is_403(db_url: str, tmp_path: Path, role: str) -> None:
    with web_client(db_url) as web:
        store = _seed(web, tmp_path)
        _sweep(store)
        web.login_as("vanna", role)
        assert web.get("/inventory?q=d1").status_code == 200
        before = snapshot(store)
        for url, form in WRITES:
            assert web.post(url, form).status_code == 403, url
        assert _upload(web, "devices.csv", NEW_CSV.encode()).status_code == 403
        for url in ("/inventory/D2/edit", "/inventory/import"):
            assert web.get(url).status_code == 403, url
        assert snapshot(store) == before
        page = web.get("/inventory").text
        assert "/inventory/D1/edit" not in page and "/inventory/import" not in page


def test_writes_without_the_csrf_token_are_refused(db_url: str, tmp_path: Path) -> None:
    with web_client(db_url) as web:
        store = _seed(web, tmp_path)
        _sweep(store)
        web.login_as("sokha", "it_staff")
        before = snapshot(store)
        for url, form in WRITES:
            assert web.post(url, form, csrf=False).status_code == 403, url
            assert web.post(url, {**form, "csrf": "forged" * 8}).status_code == 403, url
        assert _upload(web, "devices.csv", NEW_CSV.encode(), csrf=False).status_code == 403
        assert snapshot(store) == before


def test_search_by_each_key_ignoring_case(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url) as web:
        _seed(web, tmp_path)
        web.login_as("vanna", "viewer")

        def tags(query: str, url: str = "/inventory") -> list[str]:
            page = web.get(url, params={"q": query})
            assert page.status_code == 200
            return re.findall(r'<a href="/devices/([^"]+)">', page.text)

        assert tags("d1") == ["D1"]
        assert tags("s2") == ["D2"]  # serial
        assert tags("AA-BB-CC-00-00-02") == tags("aabbcc000002") == ["D2"]  # MAC
        assert tags("10.30.1.3") == ["D2"]  # IP
        assert tags("GATE-CAM") == ["D2"]  # host name
        assert tags("") == ["D1", "D2"] and tags("nothing here") == []
        partial = web.get("/inventory/results", params={"q": "D2"})
        assert "<html" not in partial.text and 'href="/devices/D2"' in partial.text
        full = web.get("/inventory", params={"q": "x", "school": "KPT-PSH"}).text
        assert 'hx-get="/inventory/results"' in full and "0 devices" in full
        assert web.get("/inventory", params={"kind": "toaster"}).status_code == 400
        khmer = web.get("/inventory", params={"lang": "km"}).text
        assert "ស្វែងរក" in khmer and "គ្រប់សាលារៀន" in khmer and "all schools" not in khmer


def test_edit_saves_with_the_user_as_actor_or_shows_every_error(
    db_url: str, tmp_path: Path
) -> None:
    with web_client(db_url) as web:
        store = _seed(web, tmp_path)
        web.login_as("sokha", "it_staff")
        form = web.get("/inventory/d2/edit")
        assert form.status_code == 200 and 'name="shown_ip" value="10.30.1.31"' in form.text
        before = snapshot(store)
        bad = web.post(
            "/inventory/D2/edit",
            {"mac": "zz", "purchase_date": "2024-02-30", "serial": "S1", "asset_tag": "D2"},
        )
        assert bad.status_code == 400
        for words in ("not a MAC address", "not a valid date", "device D1 in the database"):
            assert words in bad.text
        assert 'value="zz"' in bad.text  # what the user typed stays in the form
        assert snapshot(store) == before
        n = len(Inventory(store, "x").history())
        good = web.post(
            "/inventory/D2/edit",
            {"ip": "10.30.1.40", "shown_ip": "10.30.1.31", "notes": "", "asset_tag": "CAM/1"},
        )
        assert good.status_code == 303 and good.headers["location"] == "/devices/CAM%2F1"
        device = Inventory(store, "x").device("CAM/1")
        assert (device.ip, device.notes) == ("10.30.1.40", None)
        assert _actors(store, n) == {("sokha", "web: inventory edit")}
        assert web.get("/inventory/CAM%2F1/edit").status_code == 200
        assert web.get("/inventory/nope/edit").status_code == 404


def test_move_retire_repair_need_a_reason(db_url: str, tmp_path: Path) -> None:
    with web_client(db_url) as web:
        store = _seed(web, tmp_path)
        web.login_as("sokha", "it_staff")
        n = len(Inventory(store, "x").history())
        missing = web.post("/inventory/D1/move", {"school": "KPT-PSH", "room": "", "reason": " "})
        assert missing.status_code == 400 and "a reason is required" in missing.text
        moved = web.post(
            "/inventory/d1/move", {"school": "KPT-PSH", "room": "Lab", "reason": "lab"}
        )
        assert moved.status_code == 303 and moved.headers["location"] == "/devices/D1"
        sent = web.post("/inventory/D1/repair", {"reason": "fan noise"})
        assert sent.status_code == 303
        assert Inventory(store, "x").device("D1").status == DeviceStatus.IN_REPAIR
        assert "Back from repair" in web.get("/inventory/D1/edit").text
        assert (
            web.post("/inventory/D1/repair", {"reason": "new fan", "done": "1"}).status_code == 303
        )
        assert web.post("/inventory/D1/retire", {"reason": "old"}).status_code == 303
        device = Inventory(store, "x").device("D1")
        assert (device.school, device.room, device.status) == ("KPT-PSH", "Lab", "retired")
        assert "lab" in (device.notes or "") and "new fan" in (device.notes or "")
        assert {a for a, _ in _actors(store, n)} == {"sokha"}
        sources = {s for _, s in _actors(store, n)}
        assert sources == {"web: inventory move", "web: inventory repair", "web: inventory retire"}
        again = web.post("/inventory/D1/retire", {"reason": "twice"})
        assert again.status_code == 400 and "already retired" in again.text
        assert web.post("/inventory/nope/retire", {"reason": "x"}).status_code == 404


def test_import_preview_writes_nothing_then_confirm_writes_it_all(
    db_url: str, tmp_path: Path
) -> None:
    with web_client(db_url) as web:
        store = _seed(web, tmp_path)
        web.login_as("sokha", "it_staff")
        assert web.get("/inventory/import").status_code == 200
        before = snapshot(store)
        sent = _upload(web, "../../etc/devices.csv", NEW_CSV.encode())
        assert sent.status_code == 303
        preview_url = sent.headers["location"]
        page = web.get(preview_url)
        assert page.status_code == 200 and "devices.csv" in page.text
        assert "The import will record" in page.text
        assert snapshot(store) == before  # the dry run rolled back
        upload_id = preview_url.rsplit("/", 1)[1]
        sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', page.text)
        assert sha is not None
        confirm = f"/inventory/import/{upload_id}/confirm"
        assert web.post(confirm, {"sha256": "0" * 64}).status_code == 400
        assert snapshot(store) == before
        done = web.post(confirm, {"sha256": sha.group(1)})
        assert done.status_code == 303 and done.headers["location"] == "/inventory"
        assert Inventory(store, "x").device("D3").ip == "10.30.2.9"
        entries = Inventory(store, "x").history("D3")
        assert {(c.actor, c.source) for c in entries} == {("sokha", "web import: devices.csv")}
        assert web.post(confirm, {"sha256": sha.group(1)}).status_code == 404  # done: gone


def test_an_upload_belongs_to_its_user(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url) as web:
        store = _seed(web, tmp_path)
        web.login_as("sokha", "it_staff")
        preview_url = _upload(web, "devices.csv", NEW_CSV.encode()).headers["location"]
        web.logout()
        web.login_as("dara", "admin")
        assert web.get(preview_url).status_code == 404
        upload_id = preview_url.rsplit("/", 1)[1]
        confirm = web.post(f"/inventory/import/{upload_id}/confirm", {"sha256": "0" * 64})
        assert confirm.status_code == 404 and Inventory(store, "x").find("D3") == []


def test_a_bad_file_names_file_row_and_field(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url) as web:
        store = _seed(web, tmp_path)
        web.login_as("sokha", "it_staff")
        before = snapshot(store)
        page = web.get(_upload(web, "devices.csv", BAD_CSV.encode()).headers["location"])
        assert page.status_code == 400
        rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
        cells = [re.findall(r'data-label="[^"]+"[^>]*>(.*?)</td>', r, re.S) for r in rows]
        found = {(c[1], c[2], c[3]) for c in cells if len(c) == 6}
        assert {("devices.csv", "2", "mac"), ("devices.csv", "3", "kind")} <= found
        assert {("devices.csv", "3", "serial"), ("devices.csv", "3", "purchase_date")} <= found
        assert "Nothing was written" in page.text and "/confirm" not in page.text
        assert snapshot(store) == before


def test_hostile_uploads_are_refused_cleanly(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with web_client(sqlite_url) as web:
        store = _seed(web, tmp_path)
        web.login_as("sokha", "it_staff")
        before = snapshot(store)
        for bomb in (xlsx_bombs.zip_bomb(tmp_path), xlsx_bombs.billion_laughs(tmp_path)):
            sent = _upload(web, "inventory.xlsx", bomb.read_bytes())
            page = web.get(sent.headers["location"])
            assert page.status_code == 400 and "Nothing was written" in page.text
        wrong = _upload(web, "inventory.exe", b"MZ")
        assert wrong.status_code == 400 and "unsupported file type" in wrong.text
        monkeypatch.setenv("ITOPS_MAX_FILE_MB", "1")
        big = _upload(web, "devices.csv", NEW_CSV.encode() + b"#" * (1 << 20))
        assert big.status_code == 413 and "ITOPS_MAX_FILE_MB" in big.text
        assert snapshot(store) == before
        assert len(list((tmp_path / "uploads").iterdir())) == 2  # the bombs; nothing of the rest


def test_downloads_and_label_sheet(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with web_client(sqlite_url) as web:
        store = _seed(web, tmp_path)
        Inventory(store, "seed").set("D1", {"notes": "=1+2"})
        web.login_as("vanna", "viewer")
        got = web.get("/inventory/export.csv", params={"school": "KPT-PSP"})
        assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
        assert rows[1][rows[0].index("notes")] == "'=1+2"  # formula-safe
        got = web.get("/inventory/export.xlsx")
        book = openpyxl.load_workbook(io.BytesIO(got.content), read_only=True)
        assert book.sheetnames == ["schools", "devices"]
        assert web.get("/inventory/export.json").status_code == 404
        seen: list[str] = []
        make = segno.make
        monkeypatch.setattr(segno, "make", lambda text, **kw: seen.append(text) or make(text, **kw))
        monkeypatch.delenv("ITOPS_SERVER_URL", raising=False)
        sheet = web.get("/inventory/labels", params={"school": "KPT-PSP"})
        assert sheet.status_code == 200 and sheet.text.count("<svg") == 2
        assert seen == ["http://testserver/devices/D1", "http://testserver/devices/D2"]
        seen.clear()
        monkeypatch.setenv("ITOPS_SERVER_URL", "https://itops.example.org")
        web.get("/inventory/labels", params={"school": "KPT-PSP"})
        assert seen[0] == "https://itops.example.org/devices/D1"
        assert web.get("/inventory/labels").status_code == 400
        saved = web.get("/inventory/labels", params={"school": "KPT-PSP", "download": "1"})
        assert saved.headers["content-disposition"] == 'attachment; filename="labels-KPT-PSP.html"'
        assert "/inventory/labels?school=KPT-PSP" in web.get("/inventory?school=KPT-PSP").text


def test_add_an_unknown_device_from_the_school_page(db_url: str, tmp_path: Path) -> None:
    with web_client(db_url) as web:
        store = _seed(web, tmp_path)
        _sweep(store)
        web.login_as("sokha", "it_staff")
        url = "/schools/KPT-PSP/unknown/aa:bb:cc:00:00:77/add"
        hidden = {"mac": "aa:bb:cc:00:00:77", "ip": "6.6.6.6", "vendor": "evil", "kind": "camera"}
        first = web.post(url, hidden)  # the school page's button: the form to fill in
        assert first.status_code == 200 and 'name="tag"' in first.text
        assert "10.30.1.77" in first.text and "6.6.6.6" not in first.text
        bad = web.post(url, {**hidden, "tag": "d1", "name": "no spaces allowed"})
        assert bad.status_code == 400 and "already in use" in bad.text and "host name" in bad.text
        n = len(Inventory(store, "x").history())
        done = web.post(url, {**hidden, "tag": "CAM-77", "name": "gate2", "room": "Gate"})
        assert done.status_code == 303 and done.headers["location"] == "/devices/CAM-77"
        device = Inventory(store, "x").device("CAM-77")
        assert (device.ip, device.manufacturer, device.hostname) == (
            "10.30.1.77",
            "Hikvision",
            "gate2",
        )
        assert {a for a, _ in _actors(store, n)} == {"sokha"}
        assert {s for _, s in _actors(store, n)} == {"web: discovery add"}
        no_mac = web.post("/schools/KPT-PSP/unknown/10.30.1.78/add", {"kind": "other", "tag": "P9"})
        assert no_mac.status_code == 303 and Inventory(store, "x").device("P9").mac is None
        assert web.post("/schools/KPT-PSP/unknown/aa:bb:cc:00:00:99/add", {}).status_code == 404
