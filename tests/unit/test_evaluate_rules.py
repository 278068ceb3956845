"""Procurement rules: omitted mandatory answers, placeholders, compliant-quotation counts, and the
exchange rate's source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kape_itops.errors import UsageError, ValidationFailed
from kape_itops.quotes.evaluate import Options, evaluate
from kape_itops.quotes.report_html import render_html
from kape_itops.quotes.report_md import render_markdown
from kape_itops.quotes.report_xlsx import write_xlsx
from kape_itops.quotes.rfq import Rate, load_rfq, parse_rate
from kape_itops.quotes.spec import Spec, load_spec
from tests.unit.test_evaluate import CPUS, REPO, line, make_rfq, offer, quote

SHORT = (
    "award rests on 1 compliant quotation of 3 required: the procurement rules may require "
    "re-advertising or a justification"
)


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(REPO / "specs" / "laptop.yaml", CPUS)


def checks(ev: object, quote_name: str) -> dict[str, tuple[str, str]]:
    v = next(v for v in ev.vendors if v.quote == quote_name)  # type: ignore[attr-defined]
    return {c.requirement: (c.status, c.reason) for c in v.checks}


@pytest.mark.parametrize("blank", ["", "  ", "-", "N/A"])
def test_blank_mandatory_answer_is_not_offered(spec: Spec, blank: str) -> None:
    qs = [quote("a", "500", battery=blank), quote("b", "600"), quote("c", "620")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    a = offer(ev, "a")
    assert a.compliance == "fail" and a.rank is None
    assert "mandatory not offered (left blank): battery (Battery at least 40 Wh)" in a.reason
    assert "cannot verify" not in a.reason and "fails mandatory" not in a.reason
    status, reason = checks(ev, "a")["battery"]
    assert status == "fail" and reason.startswith("not offered: 'battery' left blank")
    assert "blank_mandatory: fail" in reason
    # the desirable 50 Wh feature is not offered either: no points, nothing to clarify
    assert checks(ev, "a")["battery-50"] == ("fail", "not offered: 'battery' left blank")
    assert ev.blank_mandatory == "fail" and offer(ev, "b").rank == 1


def test_blank_and_real_failures_are_named_apart(spec: Spec) -> None:
    ev = evaluate(spec, make_rfq(), [quote("a", "500", battery="", cpu="Celeron N4500")], CPUS)
    reason = offer(ev, "a").reason
    assert "mandatory not offered (left blank): battery" in reason
    assert "fails mandatory: cpu" in reason and "battery (" not in reason.split("fails")[1]


def test_clarify_rule_keeps_blank_mandatory_answers_as_cannot_verify(spec: Spec) -> None:
    qs = [quote("a", "500", battery=""), quote("b", "600"), quote("c", "620")]
    ev = evaluate(spec, make_rfq(blank_mandatory="clarify"), qs, CPUS)
    a = offer(ev, "a")
    assert a.compliance == "unverified" and a.rank is None
    assert "cannot verify mandatory (clarification needed): battery" in a.reason
    status, reason = checks(ev, "a")["battery"]
    assert status == "unverified" and "blank_mandatory: clarify" in reason
    # a desirable feature left blank is still not offered: clarification cannot raise a score
    assert checks(ev, "a")["battery-50"][0] == "fail"
    assert ev.blank_mandatory == "clarify"


def test_present_but_uncheckable_answers_need_clarification(spec: Spec) -> None:
    tba = quote("a", "500", ram="TBA")
    generic = quote(
        "b", "510", lines=(line("LT-1", "510", brand_model="Generic"), line("BAG-1", "10"))
    )
    oem = quote(
        "c", "520", lines=(line("LT-1", "520", brand_model="OEM / TBA"), line("BAG-1", "1"))
    )
    no_brand = quote("d", "530", lines=(line("LT-1", "530", brand_model=""), line("BAG-1", "10")))
    ev = evaluate(spec, make_rfq(), [tba, generic, oem, no_brand], CPUS)
    assert checks(ev, "a")["ram-min"][0] == "unverified"
    assert "'TBA' names nothing checkable" in checks(ev, "a")["ram-min"][1]
    for name, shown in (("b", "Generic"), ("c", "OEM / TBA")):
        status, reason = checks(ev, name)["cpu"]
        assert status == "unverified" and f"brand/model '{shown}' names no product" in reason
        assert offer(ev, name).compliance == "unverified"
    # no brand/model at all where the spec asks for the product as evidence: omitted, not offered
    status, reason = checks(ev, "d")["cpu"]
    assert status == "fail" and reason.startswith("not offered: 'brand/model' left blank")
    assert "mandatory not offered (left blank): cpu" in offer(ev, "d").reason
    clarify = evaluate(spec, make_rfq(blank_mandatory="clarify"), [no_brand], CPUS)
    assert checks(clarify, "d")["cpu"][0] == "unverified"


def test_award_on_fewer_compliant_quotations_than_required_is_flagged(spec: Spec) -> None:
    qs = [
        quote("a", "600"),
        quote("b", "500", cpu="Celeron N4500"),  # fails a mandatory requirement
        quote("c", "550", battery=""),  # omits a mandatory answer
    ]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    lot = ev.lots[0]
    assert (lot.received_count, lot.responsive_count, lot.compliant_count) == (3, 3, 1)
    assert lot.award == "a" and lot.award_note.endswith(SHORT)
    assert lot.notes == (
        "fewer than the required 3 compliant quotations — 3 received, 3 responsive, 1 compliant: "
        "record the justification or re-advertise",
    )
    assert not ev.notes  # three quotations were received: only the compliant count falls short
    ok = evaluate(spec, make_rfq(), [quote("a", "600"), quote("b", "610"), quote("c", "620")], CPUS)
    assert ok.lots[0].compliant_count == 3
    assert "award rests" not in ok.lots[0].award_note and not ok.lots[0].notes
    two = evaluate(spec, make_rfq(required_quotes=1), qs, CPUS)
    assert "award rests" not in two.lots[0].award_note


def test_counts_per_line_award(spec: Spec) -> None:
    only_laptop = quote("a", "550", lines=(line("LT-1", "550"),))
    ev = evaluate(spec, make_rfq(award="line"), [only_laptop, quote("b", "600")], CPUS)
    lt, bag = ev.lots
    assert (lt.received_count, lt.responsive_count, lt.compliant_count) == (2, 2, 2)
    assert (bag.received_count, bag.responsive_count, bag.compliant_count) == (1, 1, 1)
    assert "award rests on 1 compliant quotation of 3 required" in bag.award_note
    assert "award rests on 2 compliant quotations of 3 required" in lt.award_note


def test_reports_state_the_rule_and_the_counts(spec: Spec, tmp_path: Path) -> None:
    qs = [quote("a", "600"), quote("b", "500", cpu="Celeron N4500"), quote("c", "550", battery="")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    text = render_markdown(ev)
    assert "- Blank mandatory answers: blank\\_mandatory: fail — a mandatory requirement" in text
    assert "Quotations: 3 received, 3 responsive, 1 compliant (3 required)" in text
    page = render_html(ev)
    assert "blank_mandatory: fail" in page and "3 received, 3 responsive, 1 compliant" in page
    write_xlsx(ev, tmp_path / "r.xlsx")
    summary = {
        r[0]: r[1]
        for r in load_workbook(tmp_path / "r.xlsx")["Summary"].iter_rows(values_only=True)
    }
    assert str(summary["Blank mandatory answers"]).startswith("blank_mandatory: fail")
    assert summary["Lot 1 quotations"] == "3 received, 3 responsive, 1 compliant (3 required)"
    assert SHORT in str(summary["Lot 1"])
    clarify = render_markdown(evaluate(spec, make_rfq(blank_mandatory="clarify"), qs, CPUS))
    assert "blank\\_mandatory: clarify" in clarify


def test_parse_rate_takes_a_source() -> None:
    r = parse_rate("KHR=4,100@2026-11-01   National  Bank of Cambodia ")
    assert r == Rate("KHR", Decimal(4100), dt.date(2026, 11, 1), "National Bank of Cambodia")
    assert str(r) == "1 USD = 4,100 KHR on 2026-11-01 (source: National Bank of Cambodia)"
    bare = parse_rate("KHR=4100@2026-11-01")
    assert bare.source == "" and str(bare).endswith("(source not stated)")
    with pytest.raises(UsageError, match=r"CUR=RATE@YYYY-MM-DD \[SOURCE\]"):
        parse_rate("KHR=4100 National Bank")


def write_rfq(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "rfq.yaml"
    path.write_text(
        "rfq: R\ntitle: t\nspec: laptop\n" + extra + "lots:\n"
        "- id: '1'\n  lines:\n  - {item: LT-1, quantity: 2}\n",
        "utf-8",
    )
    return path


def test_rfq_rate_source_and_blank_rule(tmp_path: Path) -> None:
    plain = load_rfq(
        write_rfq(tmp_path, "rate: {currency: KHR, per_usd: 4100, date: '2026-11-02'}\n")
    )
    assert plain.blank_mandatory == "fail"
    assert plain.rate is not None and plain.rate.source == ""
    assert plain.rate.shown_source == "source not stated"
    rfq = load_rfq(
        write_rfq(
            tmp_path,
            "blank_mandatory: clarify\nrate: {currency: KHR, per_usd: 4100, date: '2026-11-02', "
            "source: National Bank of Cambodia official rate}\n",
        )
    )
    assert rfq.blank_mandatory == "clarify"
    assert rfq.rate is not None and rfq.rate.source == "National Bank of Cambodia official rate"
    with pytest.raises(ValidationFailed) as exc:
        load_rfq(write_rfq(tmp_path, "blank_mandatory: ask\n"))
    assert "blank_mandatory" in str(exc.value.issues[0])


def test_rate_without_a_source_is_marked_in_every_report(spec: Spec, tmp_path: Path) -> None:
    khr = quote("k", "2400000", currency="KHR", lines=(line("LT-1", "2400000"), line("BAG-1", "1")))
    bare = Rate("KHR", Decimal(4000), dt.date(2026, 11, 1))
    ev = evaluate(spec, make_rfq(), [khr], CPUS, Options(rate=bare))
    assert ev.rate == "1 USD = 4,000 KHR on 2026-11-01 (source not stated)"
    assert ev.rate_source is None
    warning = "the exchange rate's source is not stated"
    assert warning in render_markdown(ev)
    page = render_html(ev)
    assert "source is not stated" in page and '<td class="unverified">1 USD = 4,000 KHR' in page
    write_xlsx(ev, tmp_path / "r.xlsx")
    rows = list(load_workbook(tmp_path / "r.xlsx")["Summary"].iter_rows(values_only=True))
    assert ("Rate source", "source not stated") in rows
    assert any(r[0] == "Note" and warning in str(r[1]) for r in rows)
    named = evaluate(spec, make_rfq(), [khr], CPUS)
    assert named.rate_source == "test" and warning not in render_markdown(named)
