"""An RFQ from form values: the rfq.yaml rules, problems named by form field; upload names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.rfq_form import RfqProblems, form_rfq, rfq_yaml
from kape_itops.quotes.uploads import safe_filename, vendor_key
from tests.support.procurement import form_of

SAMPLE = Path(__file__).resolve().parents[2] / "quotes" / "printer" / "rfq.yaml"


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    rfq, data = form_rfq(*form_of(SAMPLE))
    path = tmp_path / "rfq.yaml"
    path.write_text(rfq_yaml(data), "utf-8")
    again = load_rfq(path)
    assert again.lots == rfq.lots == load_rfq(SAMPLE).lots
    assert again.rate == rfq.rate and again.award == "line"
    assert yaml.safe_load(path.read_text("utf-8"))["submission_deadline"] == "2026-11-02"


def test_lines_grouped_by_lot_and_blank_rows_skipped() -> None:
    values, _ = form_of(SAMPLE, award="lot")
    lines = [
        {"lot": "A", "lot_name": "Printers", "item": "P", "quantity": "2", "technical": "on"},
        {},
        {"lot": "B", "item": "T", "quantity": "1.5", "unit": "box"},
        {"lot": "A", "item": "Q", "quantity": "3", "technical": "on"},
    ]
    rfq, _ = form_rfq(values, lines)
    assert [(lot.id, lot.name, [ln.item for ln in lot.lines]) for lot in rfq.lots] == [
        ("A", "Printers", ["P", "Q"]),
        ("B", "", ["T"]),
    ]
    assert [ln.technical for ln in rfq.lots[1].lines] == [False]


def test_every_problem_at_its_field() -> None:
    values, lines = form_of(
        SAMPLE,
        rfq="",
        method="cheapest",
        vat_rate="ten",
        abnormally_low="2",
        evaluation_date="5/11",
    )
    lines[1]["quantity"] = ""
    lines[0]["quantity"] = "1e999"
    with pytest.raises(RfqProblems) as caught:
        form_rfq(values, lines)
    fields = caught.value.fields
    assert fields["rfq"] == ["required"]
    assert set(fields) == {
        "rfq",
        "method",
        "vat_rate",
        "abnormally_low",
        "evaluation_date",
        "line-0-quantity",
        "line-1-quantity",
    }
    assert fields["line-1-quantity"] == ["required"]


def test_no_lines() -> None:
    values, _ = form_of(SAMPLE)
    with pytest.raises(RfqProblems) as caught:
        form_rfq(values, [{"unit": "pcs", "lot": "1"}])
    assert list(caught.value.fields) == ["lines"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("C:\\Users\\x\\quote.xlsx", "quote.xlsx"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("evil\u202egpj.xlsx", "evil_gpj.xlsx"),
        ("a\x1b[31mb.csv", "a_[31mb.csv"),
        (".hidden.xlsx", "hidden.xlsx"),
        ("x" * 300 + ".xlsx", "x" * 115 + ".xlsx"),
    ],
)
def test_safe_filename(given: str, kept: str) -> None:
    assert safe_filename(given) == kept


def test_vendor_key() -> None:
    assert vendor_key("  Lucky   Star TRADING ") == vendor_key("lucky star trading")
