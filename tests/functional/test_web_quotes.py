"""The quotation pages in the real application on both backends: RFQ from a form, blank form,
uploads (good, bad, hostile), the evaluation with the effect of other weights, recorded
evaluations and decisions; viewers and it_staff read only, every write needs the CSRF token."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.functional.quote_helpers import QUOTES
from tests.support.procurement import form_of
from tests.support.web import WebClient, web_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _form(category: str = "printer", **changes: str) -> dict[str, str]:
    values, lines = form_of(QUOTES / category / "rfq.yaml", **changes)
    data = dict(values)
    for i, line in enumerate(lines):
        for k, v in line.items():
            if v:
                data[f"line-{i}-{k}"] = v
    data["rows"] = str(len(lines))
    return data


def _files(category: str = "printer") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (p.name, p.read_bytes(), "application/octet-stream"))
        for p in sorted((QUOTES / category).glob("*.xlsx"))
    ]


def _upload(
    web: WebClient, rfq: int, files: list[tuple[str, tuple[str, bytes, str]]], csrf: bool = True
):  # type: ignore[no-untyped-def]
    data = {"csrf": web.csrf} if csrf else {}
    return web.client.post(f"/quotes/{rfq}/upload", data=data, files=files)


def _create(web: WebClient, category: str = "printer") -> int:
    got = web.post("/quotes/new", _form(category))
    assert got.status_code == 303, got.text[-3000:]
    m = re.fullmatch(r"/quotes/(\d+)", got.headers["location"])
    assert m
    return int(m.group(1))


def _count(web: WebClient, table: str) -> int:
    with web.store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_reviewer_flow(db_url: str) -> None:
    with web_client(db_url) as web:
        web.login_as("sokha", "reviewer")
        assert "KAPE-RFQ" not in web.get("/quotes").text
        new = web.get("/quotes/new?spec=printer")
        assert new.status_code == 200 and 'name="line-7-quantity"' in new.text
        rfq = _create(web)
        page = web.get(f"/quotes/{rfq}")
        assert page.status_code == 200 and "KAPE-RFQ-2026-014" in page.text
        assert "PRN-1" in page.text and "RFQ created" in page.text
        form = web.get(f"/quotes/{rfq}/form.xlsx?labels=km")
        assert form.status_code == 200 and form.content[:2] == b"PK"
        assert "attachment" in form.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(form.content))["Quotation"]
        assert "អ្នកផ្គត់ផ្គង់" in str(sheet["A1"].value)
        up = _upload(web, rfq, _files())
        assert up.status_code == 303, up.text[-3000:]
        page = web.get(f"/quotes/{rfq}")
        assert "Sunrise Tech Trading" in page.text and "Stored d-sunrise-tech.xlsx" in page.text
        ev = web.get(f"/quotes/{rfq}/evaluation")
        assert ev.status_code == 200, ev.text[-2000:]
        for heading in (
            "Comparison matrix",
            "Deviations per vendor",
            "Arithmetic check",
            "Price build-up",
        ):
            assert heading in ev.text
        assert "Sunrise Tech Trading" in ev.text
        effect = web.get(f"/quotes/{rfq}/evaluation?method=qcbs&weights=50:50")
        assert effect.status_code == 200 and "Effect of the change" in effect.text
        assert _count(web, "evaluations") == 0  # seeing the effect records nothing
        rec = web.post(f"/quotes/{rfq}/evaluations", {"method": "qcbs", "weights": "50:50"})
        assert rec.status_code == 303
        rec = web.post(f"/quotes/{rfq}/evaluations", {})
        assert _count(web, "evaluations") == 2
        with web.store.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, evaluator, method FROM evaluations ORDER BY id")
            ).all()
        assert [(r[1], r[2]) for r in rows] == [("sokha", "qcbs"), ("sokha", "lowest")]
        lowest = rows[1][0]
        stored = web.get(f"/quotes/{rfq}/evaluations/{lowest}.json")
        assert stored.status_code == 200 and '"method":"lowest"' in stored.text
        # a decision that is not the evaluation's award needs a comment
        bad = web.post(
            f"/quotes/{rfq}/decision", {"evaluation_id": str(lowest), "lot": "PRN-1", "quote": ""}
        )
        assert bad.status_code == 303 and _count(web, "rfq_decisions") == 0
        good = web.post(
            f"/quotes/{rfq}/decision",
            {
                "evaluation_id": str(lowest),
                "lot": "PRN-1",
                "quote": "d-sunrise-tech.xlsx",
                "comment": "as evaluated",
            },
        )
        assert good.status_code == 303 and _count(web, "rfq_decisions") == 1
        page = web.get(f"/quotes/{rfq}")
        assert "Decision recorded." in page.text and "as evaluated" in page.text
        # replacing a vendor's form keeps the old one in the audit trail
        again = _upload(web, rfq, _files()[:1])
        assert again.status_code == 303
        page = web.get(f"/quotes/{rfq}")
        assert (
            "replaced by a-khmer-office-2.xlsx" in page.text
            or "replaced by a-khmer-office.xlsx" in page.text
        )
        assert _count(web, "rfq_files") == 5
        with web.store.engine.connect() as conn:
            log = conn.execute(
                text(
                    "SELECT DISTINCT actor, substr(source, 1, 4) FROM changes WHERE entity = 'rfq'"
                )
            ).all()
        assert log == [("sokha", "web:")]
        listed = web.get("/quotes")
        assert "KAPE-RFQ-2026-014" in listed.text and "decided" in listed.text
        assert web.get("/quotes/999").status_code == 404
        assert web.get(f"/quotes/{rfq}/files/999").status_code == 404
        assert web.get(f"/quotes/{rfq}/evaluation?weights=abc").status_code == 400
        more = web.post("/quotes/new", {**_form(), "more": "1"})
        assert more.status_code == 200 and 'name="line-9-item"' in more.text
        km = web.get(f"/quotes/{rfq}/evaluation?lang=km").text
        assert "តារាងប្រៀបធៀប" in km and "កំណត់ត្រាសវនកម្ម" in web.get(f"/quotes/{rfq}").text


def test_form_errors_named_by_field_and_nothing_stored(db_url: str) -> None:
    with web_client(db_url) as web:
        web.login_as("sokha", "reviewer")
        data = _form(weights="90:20", submission_deadline="2026-13-40", title="")
        data["line-0-quantity"] = "-3"
        got = web.post("/quotes/new", data)
        assert got.status_code == 400
        page = got.text
        assert (
            "Line 1" in page
            and "Title" in page
            and "QCBS weights" in page
            and "Submission deadline" in page
        )
        assert page.count('aria-invalid="true"') >= 4
        assert _count(web, "rfqs") == 0
        assert (
            _create(web) and web.post("/quotes/new", _form()).status_code == 400
        )  # taken reference
        assert _count(web, "rfqs") == 1


def test_bad_and_hostile_uploads_refused(db_url: str, tmp_path: Path) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * (300 * 1024 * 1024) + "</a>")
    dtd = io.BytesIO()
    with zipfile.ZipFile(dtd, "w") as z:
        z.writestr("[Content_Types].xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><Types>&a;</Types>')
    bad_csv = (QUOTES / "printer" / "csv" / "a-khmer-office.csv").read_text("utf-8")
    bad_csv = bad_csv.replace(bad_csv.splitlines()[-1].split(",")[5], "cheap", 1)
    with web_client(db_url) as web:
        web.login_as("sokha", "reviewer")
        rfq = _create(web)
        cases = [
            ("bomb.xlsx", bomb.getvalue(), "zip bomb"),
            ("dtd.xlsx", dtd.getvalue(), "DTD"),
            ("notes.txt", b"hello", "not a quotation form"),
            ("../../etc/passwd.csv", b"", "empty"),
            ("a-khmer-office.csv", bad_csv.encode(), "a-khmer-office.csv, row"),
        ]
        for name, content, words in cases:
            got = _upload(
                web, rfq, [("files", (name, content, "application/octet-stream")), *_files()[:1]]
            )
            assert got.status_code == 400, (name, got.text[-1500:])
            assert "Nothing was stored" in got.text and words.lower() in got.text.lower(), (
                name,
                got.text[-3000:],
            )
        assert _count(web, "rfq_files") == 0


def test_roles_and_csrf(db_url: str) -> None:
    with web_client(db_url) as web:
        web.login_as("sokha", "reviewer")
        rfq = _create(web)
        assert _upload(web, rfq, _files()).status_code == 303
        assert web.post(f"/quotes/{rfq}/evaluations", {}).status_code == 303
        writes = [
            ("/quotes/new", _form(rfq="KAPE-OTHER")),
            (f"/quotes/{rfq}/evaluations", {}),
            (
                f"/quotes/{rfq}/decision",
                {"evaluation_id": "1", "lot": "PRN-1", "quote": "", "comment": "x"},
            ),
        ]
        for url, data in writes:  # no CSRF token
            assert web.post(url, data, csrf=False).status_code == 403, url
        assert _upload(web, rfq, _files(), csrf=False).status_code == 403
        web.logout()
        for role in ("viewer", "it_staff"):
            web.login_as(f"u-{role}", role)
            assert web.get(f"/quotes/{rfq}").status_code == 200
            assert web.get(f"/quotes/{rfq}/evaluation").status_code == 200
            assert web.get("/quotes/new").status_code == 403
            for url, data in writes:
                assert web.post(url, data).status_code == 403, (role, url)
            assert _upload(web, rfq, _files()).status_code == 403
            web.logout()
        assert _count(web, "rfqs") == 1 and _count(web, "rfq_decisions") == 0
        assert _count(web, "rfq_files") == 4 and _count(web, "evaluations") == 1
