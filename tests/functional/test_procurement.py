"""The procurement service on both backends: an RFQ from form values (the rfq.yaml rules), the
blank form, guarded uploads kept with their SHA-256, evaluations as the CLI scores them, the
audit records, append-only decisions, and rfq change-log entries that stay on the site."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from kape_itops.errors import DataError, UsageError
from kape_itops.quotes.audit import sha256_bytes
from kape_itops.quotes.evaluate import Options
from kape_itops.quotes.procurement import Procurement, RfqProblems, UploadRefused
from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.service import resolve_inputs, score
from kape_itops.store.db import Store
from kape_itops.store.outbox_repo import OutboxRepo
from tests.functional.quote_helpers import QUOTES, REPO
from tests.support.procurement import form_of


def _service(store: Store, who: str = "sokha") -> Procurement:
    return Procurement(store, who, source="web", data_dir=REPO)


def _files(category: str = "printer") -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((QUOTES / category).glob("*.xlsx"))]


def _made(store: Store, category: str = "printer") -> tuple[Procurement, int]:
    p = _service(store)
    return p, p.create_rfq(*form_of(QUOTES / category / "rfq.yaml"))


@pytest.mark.parametrize("category", ["printer", "laptop", "hotspot"])
def test_form_gives_the_rfq_of_the_yaml(store: Store, category: str) -> None:
    p, rfq_id = _made(store, category)
    view = p.rfq(rfq_id)
    yaml_rfq = load_rfq(QUOTES / category / "rfq.yaml")
    assert view.rfq.lots == yaml_rfq.lots and view.rfq.rate == yaml_rfq.rate
    assert view.rfq.method == yaml_rfq.method and view.rfq.weights == yaml_rfq.weights
    assert view.record.spec_sha256 == sha256_bytes(
        (REPO / "specs" / f"{category}.yaml").read_bytes()
    )
    # scoring the uploaded forms gives the CLI's result, lot for lot
    p.upload(rfq_id, _files(category))
    web = p.evaluate(rfq_id).evaluation
    cli = score(
        resolve_inputs([QUOTES / category], None, None, REPO), Options(), "sokha"
    ).evaluation
    assert web.lots == cli.lots and web.vendors == cli.vendors


def test_form_problems_all_at_once_by_field(store: Store) -> None:
    values, lines = form_of(
        QUOTES / "laptop" / "rfq.yaml",
        spec="no-such-spec",
        currency="EUR",
        rate_per_usd="lots",
        rate_date="",
        weights="70:20",
        required_quotes="0",
    )
    lines[0]["quantity"] = "0"
    lines[1]["item"] = lines[0]["item"]
    with pytest.raises(RfqProblems) as caught:
        _service(store).create_rfq(values, lines)
    fields = caught.value.fields
    assert {"spec", "currency", "rate_per_usd", "rate_date", "weights", "required_quotes"} <= set(
        fields
    )
    assert "line-0-quantity" in fields
    assert fields["rate_date"] == ["required"]
    with pytest.raises(RfqProblems) as dup:
        _service(store).create_rfq(*form_of(QUOTES / "laptop" / "rfq.yaml", rfq="X-1"))
        _service(store).create_rfq(*form_of(QUOTES / "printer" / "rfq.yaml", rfq="X-1"))
    assert "exists already" in dup.value.fields["rfq"][0]
    values, lines = form_of(QUOTES / "printer" / "rfq.yaml", rfq="X-2")
    lines[1]["item"] = lines[0]["item"]  # a duplicate item: the rule after the schema
    with pytest.raises(RfqProblems) as twice:
        _service(store).create_rfq(values, lines)
    assert twice.value.fields == {"line-1-item": ["duplicate item"]}
    with store.session() as s:
        assert s.execute(text("SELECT rfq FROM rfqs")).scalars().all() == ["X-1"]


def test_blank_form_of_the_rfq(store: Store) -> None:
    p, rfq_id = _made(store)
    name, content = p.blank_form(rfq_id, "en+km")
    assert name == "KAPE-RFQ-2026-014-quotation-form.xlsx"
    sheet = load_workbook(io.BytesIO(content))["Quotation"]
    items = [c.value for c in sheet["A"] if c.value in ("PRN-1", "TON-1")]
    assert items == ["PRN-1", "TON-1"]
    header = {str(r[0].value).split(" / ")[0]: r[1].value for r in sheet.iter_rows(max_row=9)}
    assert header["RFQ"] == "KAPE-RFQ-2026-014" and header["Currency"] == "USD"


def test_uploads_replace_and_keep(store: Store) -> None:
    p, rfq_id = _made(store)
    first = p.upload(rfq_id, _files())
    assert [u.replaced for u in first] == ["", "", "", ""]
    name, content = _files()[0]
    again = p.upload(rfq_id, [("renamed " + name, content)])
    assert again[0].replaced == name and again[0].vendor == first[0].vendor
    view = p.rfq(rfq_id)
    assert len(view.files) == 5 and len(view.current) == 4
    old = next(f for f in view.files if f.id == first[0].id)
    assert old.replaced_by == again[0].id and old.sha256 == sha256_bytes(content)
    assert p.quotation_file(rfq_id, old.id) == (name, content)
    assert [t.kind for t in p.trail(rfq_id)] == ["created"] + ["upload"] * 5
    # another vendor's form under a name taken: stored under a name of its own
    clash = p.upload(rfq_id, [("b-lucky-star.xlsx", _files()[2][1])])
    assert clash[0].filename == "b-lucky-star-2.xlsx" and clash[0].replaced == _files()[2][0]
    # two forms of one vendor in one upload, a hostile name: refused, nothing stored
    with pytest.raises(UploadRefused) as caught:
        p.upload(rfq_id, [("a.xlsx", content), ("b.xlsx", content)])
    assert "same vendor" in str(caught.value.issues[0])
    with pytest.raises(UploadRefused) as hostile:
        p.upload(rfq_id, [("..\\..\\evil\u202egpj.xlsx", b"PK\x03\x04 not a zip")])
    assert str(hostile.value.issues[0]).startswith("evil_gpj.xlsx: ")
    assert len(p.rfq(rfq_id).files) == 6


def test_upload_size_limit(store: Store) -> None:
    from kape_itops.limits import Limits

    p = Procurement(store, "sokha", data_dir=REPO, limits=Limits(max_file_mb=1))
    rfq_id = p.create_rfq(*form_of(QUOTES / "printer" / "rfq.yaml"))
    with pytest.raises(UploadRefused) as caught:
        p.upload(rfq_id, [("big.csv", b"x" * (1024 * 1024 + 1))])
    assert "ITOPS_MAX_FILE_MB" in str(caught.value.issues[0])


def test_record_effect_decide(store: Store) -> None:
    p, rfq_id = _made(store, "hotspot")
    with pytest.raises(DataError, match="no quotation uploaded"):
        p.record(rfq_id)
    p.upload(rfq_id, _files("hotspot"))
    effect = p.effect(rfq_id, p.options("qcbs", "50:50"))
    assert effect.changed is not None and effect.changed.evaluation.weights == (50, 50)
    assert p.effect(rfq_id, p.options("", "")).changed is None
    with pytest.raises(UsageError):
        p.options("cheapest", "")
    with store.session() as s:
        assert s.execute(text("SELECT count(*) FROM evaluations")).scalar_one() == 0
    first = p.record(rfq_id)
    second = p.record(rfq_id, p.options("qcbs", "50:50"))
    stored = p.recorded(rfq_id, second)
    assert stored.evaluator == "sokha" and stored.method == "qcbs"
    names = {i["name"]: i["sha256"] for i in stored.inputs["inputs"]}  # type: ignore[index, union-attr]
    for name, content in _files("hotspot"):
        assert names[name] == sha256_bytes(content)
    result = json.loads(p.recorded(rfq_id, first).result_json)
    lot = result["lots"][0]
    ranked = [o["quote"] for o in lot["offers"] if o["rank"] is not None]
    other = next(q for q in ranked if q != lot["award"])
    with pytest.raises(UsageError, match="needs a comment"):
        p.decide(rfq_id, first, lot["lot"], other, "  ")
    with pytest.raises(UsageError, match="not in evaluation"):
        p.decide(rfq_id, first, "nope", lot["award"], "")
    p.decide(rfq_id, first, lot["lot"], lot["award"], "")
    p.decide(rfq_id, second, lot["lot"], other, "board chose the QCBS result")
    view = p.rfq(rfq_id)
    assert [d.quote for d in view.decisions] == [lot["award"], other]
    assert view.awards[lot["lot"]].comment == "board chose the QCBS result"
    kinds = [t.kind for t in p.trail(rfq_id)]
    assert kinds.count("evaluation") == 2 and kinds.count("decision") == 2
    with store.session() as s:
        log = s.execute(
            text("SELECT actor, field, old, new FROM changes WHERE entity = 'rfq' ORDER BY id")
        ).all()
    assert log[-1][0] == "sokha" and log[-1][2] is not None  # the earlier award as "old"


def test_audit_tables_append_only(store: Store) -> None:
    p, rfq_id = _made(store)
    p.upload(rfq_id, _files())
    evaluation = p.record(rfq_id)
    lot = json.loads(p.recorded(rfq_id, evaluation).result_json)["lots"][0]
    p.decide(rfq_id, evaluation, lot["lot"], lot["award"], "")
    for statement in (
        "UPDATE rfq_files SET sha256 = 'x'",
        "DELETE FROM rfq_files",
        "UPDATE rfq_decisions SET vendor = 'x'",
        "DELETE FROM rfq_decisions",
        "DELETE FROM rfq_evaluations",
    ):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))


def test_rfq_changes_are_not_pushed(store: Store) -> None:
    p, rfq_id = _made(store)
    p.upload(rfq_id, _files())
    with store.session() as s:
        outbox = OutboxRepo(s)
        items, last = outbox.changes(0, 100)
        assert items == [] and last > 0
        assert outbox.backlog({"changes": 0, "runs": 0, "sweeps": 0, "backups": 0})["changes"] == 0


def test_clock_and_list(store: Store) -> None:
    when = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    p = Procurement(store, "dara", data_dir=REPO, clock=lambda: when)
    for i in range(3):
        p.create_rfq(*form_of(QUOTES / "printer" / "rfq.yaml", rfq=f"R-{i}"))
    page, pages = p.rfqs(1, per_page=2)
    assert [r.rfq for r in page] == ["R-2", "R-1"] and pages == 2
    assert page[0].created_at == when and page[0].created_by == "dara"
    assert [r.rfq for r in p.rfqs(2, per_page=2)[0]] == ["R-0"]
