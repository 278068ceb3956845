"""Pure evaluation: arithmetic, currency, VAT, compliance, flags, methods, tie-breaks, awards."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from kape_itops.errors import DataError
from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.evaluate import Options, evaluate
from kape_itops.quotes.readers import Quotation, QuoteLine
from kape_itops.quotes.report import canonical_json
from kape_itops.quotes.result import Evaluation, Offer
from kape_itops.quotes.rfq import Lot, Rate, Rfq, RfqLine
from kape_itops.quotes.spec import Spec, load_spec

REPO = Path(__file__).resolve().parents[2]
CPUS = CpuTable.load()
GOOD = {
    "cpu": "Core i5-1235U",
    "ram": "16 GB",
    "storage": "512 GB",
    "storage_type": "NVMe SSD",
    "display": '15.6"',
    "resolution": "1920x1080",
    "battery": "54 Wh",
    "wifi": "Wi-Fi 6",
    "os": "Windows 11 Pro",
    "keyboard": "Khmer/English",
    "warranty": "36 months",
    "warranty_type": "on-site",
    "weight": "1.6 kg",
    "delivery_days": "30",
}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(REPO / "specs" / "laptop.yaml", CPUS)


def make_rfq(award: str = "lot", **kw: object) -> Rfq:
    lines = (
        RfqLine("LT-1", "laptop", Decimal(10), "pcs", "1", True),
        RfqLine("BAG-1", "bag", Decimal(10), "pcs", "1", False),
    )
    lots: tuple[Lot, ...] = (Lot("1", "Laptops", lines),)
    if award == "line":
        lots = tuple(Lot(ln.item, ln.description, (ln,)) for ln in lines)
    base = Rfq(
        id="RFQ-T",
        title="test",
        spec="laptop",
        currency="USD",
        evaluation_date=dt.date(2026, 11, 5),
        submission_deadline=None,
        required_quotes=3,
        rate=Rate("KHR", Decimal(4000), dt.date(2026, 11, 1), "test"),
        vat_rate=Decimal(10),
        vat_basis="exclusive",
        arithmetic="unit_price",
        method="lowest",
        weights=(80, 20),
        award=award,
        abnormally_low=Decimal("0.7"),
        lots=lots,
        source="rfq.yaml",
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def line(
    item: str, price: str, total: str | None = None, qty: str = "10", **attrs: str
) -> QuoteLine:
    values = {**GOOD, **attrs} if item == "LT-1" else dict(attrs)
    values.setdefault("brand_model", "Dell Latitude 3540")
    values.setdefault("description", item)
    return QuoteLine(
        row=12,
        item=item,
        description=item,
        brand_model=values["brand_model"],
        quantity=Decimal(qty),
        unit="pcs",
        unit_price=Decimal(price),
        line_total=Decimal(total) if total is not None else None,
        attributes=values,
    )


def quote(
    name: str,
    price: str,
    *,
    currency: str = "USD",
    vat: bool = False,
    tax: str | None = None,
    valid: dt.date = dt.date(2026, 12, 31),
    lines: tuple[QuoteLine, ...] | None = None,
    **attrs: str,
) -> Quotation:
    return Quotation(
        name=name,
        location=name,
        vendor=f"Vendor {name}",
        tax_id=tax if tax is not None else f"K-{name}",
        quote_number="Q1",
        quote_date=dt.date(2026, 11, 1),
        valid_until=valid,
        currency=currency,
        vat_inclusive=vat,
        stated_rate=None,
        rfq="RFQ-T",
        lines=lines if lines is not None else (line("LT-1", price, **attrs), line("BAG-1", "10")),
    )


def offer(ev: Evaluation, name: str, lot: str = "1") -> Offer:
    found = next(lt for lt in ev.lots if lt.lot == lot)
    return next(o for o in found.offers if o.quote == name)


def test_unit_price_prevails_over_a_wrong_line_total(spec: Spec) -> None:
    q = quote("a", "600", lines=(line("LT-1", "600", total="6600"), line("BAG-1", "10", "100")))
    ev = evaluate(spec, make_rfq(), [q, quote("b", "700"), quote("c", "710")], CPUS)
    corr = ev.vendors[0].corrections[0]
    assert corr.changed and corr.corrected_total == Decimal("6000.00")
    assert "unit price prevails" in corr.note
    assert offer(ev, "a").evaluated == Decimal("6100.00")
    ev2 = evaluate(spec, make_rfq(), [q], CPUS, Options(arithmetic="line_total"))
    assert offer(ev2, "a").evaluated == Decimal("6700.00")
    assert "line total prevails" in ev2.vendors[0].corrections[0].note


def test_khr_quote_is_converted_at_the_stated_rate(spec: Spec) -> None:
    q = quote(
        "k", "2400000", currency="KHR", lines=(line("LT-1", "2400000"), line("BAG-1", "40000"))
    )
    ev = evaluate(spec, make_rfq(), [q], CPUS)
    assert offer(ev, "k").evaluated == Decimal("6100.00")
    assert ev.rate == "1 USD = 4,000 KHR on 2026-11-01 (source: test)"
    ev2 = evaluate(
        spec,
        make_rfq(),
        [q],
        CPUS,
        Options(rate=Rate("KHR", Decimal(4100), dt.date(2026, 11, 2), "cli")),
    )
    assert offer(ev2, "k").evaluated == Decimal("5951.22")


def test_khr_quote_without_a_rate_is_an_error(spec: Spec) -> None:
    q = quote("k.xlsx", "2400000", currency="KHR")
    with pytest.raises(DataError, match=r"k\.xlsx: quotation in KHR but no exchange rate"):
        evaluate(spec, make_rfq(rate=None), [q], CPUS)


def test_vat_inclusive_prices_are_normalised(spec: Spec) -> None:
    q = quote("v", "660", vat=True, lines=(line("LT-1", "660"), line("BAG-1", "11")))
    ev = evaluate(spec, make_rfq(), [q], CPUS)
    assert offer(ev, "v").evaluated == Decimal("6100.00")
    assert any(f.code == "vat" for f in ev.vendors[0].flags)
    ev0 = evaluate(spec, make_rfq(), [q], CPUS, Options(vat_rate=Decimal(0)))
    assert offer(ev0, "v").evaluated == Decimal("6710.00")
    incl = evaluate(spec, make_rfq(vat_basis="inclusive"), [quote("x", "600")], CPUS)
    assert offer(incl, "x").evaluated == Decimal("6710.00")


def test_abnormally_low_is_flagged_not_rejected(spec: Spec) -> None:
    qs = [quote("a", "300"), quote("b", "600"), quote("c", "620"), quote("d", "640")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    low = offer(ev, "a")
    assert low.rank == 1
    assert any(f.code == "abnormally_low" and f.severity == "warn" for f in low.flags)
    assert "abnormally low" in ev.lots[0].award_note
    assert not any(f.code == "abnormally_low" for f in offer(ev, "b").flags)


def test_duplicate_vendor_sets_both_aside(spec: Spec) -> None:
    qs = [quote("a", "600", tax="K-1"), quote("b", "610", tax="k 1"), quote("c", "620")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    assert offer(ev, "a").rank is None and offer(ev, "b").rank is None
    assert "duplicate vendor" in offer(ev, "a").reason
    assert offer(ev, "c").rank == 1


def test_expired_quote_is_not_ranked(spec: Spec) -> None:
    qs = [quote("a", "500", valid=dt.date(2026, 10, 31)), quote("b", "600"), quote("c", "620")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    assert offer(ev, "a").rank is None
    assert "expired" in offer(ev, "a").reason
    assert offer(ev, "b").rank == 1


def test_fewer_than_required_quotes_is_noted(spec: Spec) -> None:
    ev = evaluate(spec, make_rfq(), [quote("a", "600"), quote("b", "610")], CPUS)
    assert any("fewer than the required 3" in n for n in ev.lots[0].notes)
    assert any("only 2 quotation(s) received" in n for n in ev.notes)
    ev5 = evaluate(spec, make_rfq(required_quotes=2), [quote("a", "600"), quote("b", "610")], CPUS)
    assert not ev5.lots[0].notes


def test_unreadable_mandatory_value_cannot_verify_never_passes(spec: Spec) -> None:
    qs = [
        quote("a", "500", ram="lots of memory"),
        quote("b", "600", cpu="Core i5 or equivalent"),
        quote("c", "620"),
    ]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    a, b = offer(ev, "a"), offer(ev, "b")
    assert a.compliance == "unverified" and a.rank is None
    assert b.compliance == "unverified" and "cannot verify mandatory" in b.reason
    checks = {c.requirement: c for c in ev.vendors[1].checks}
    assert checks["cpu"].status == "unverified"
    assert "names no CPU model" in checks["cpu"].reason


def test_weaker_cpu_fails(spec: Spec) -> None:
    ev = evaluate(spec, make_rfq(), [quote("a", "400", cpu="Intel Celeron N4500")], CPUS)
    assert offer(ev, "a").compliance == "fail"
    assert "fails mandatory: cpu" in offer(ev, "a").reason


def test_priced_deviation_changes_the_order(spec: Spec) -> None:
    # a is cheaper but has 8 GB (desirable 16 GB priced at 35 per unit): 580*10 + 350 > 600*10
    qs = [quote("a", "580", ram="8 GB"), quote("b", "600"), quote("c", "650")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    assert offer(ev, "a").deviations == Decimal("350.00")
    assert offer(ev, "b").rank == 1 and offer(ev, "a").rank == 2


def test_qcbs_scores(spec: Spec) -> None:
    qs = [quote("a", "600"), quote("b", "500", ram="8 GB", keyboard="English"), quote("c", "700")]
    ev = evaluate(spec, make_rfq(), qs, CPUS, Options(method="qcbs", weights=(80, 20)))
    a, b = offer(ev, "a"), offer(ev, "b")
    assert a.technical_score == Decimal("100.00")  # every desirable feature met: 75 of 75 points
    assert b.technical_score == Decimal("73.33")  # 16 GB (15) and Khmer keyboard (5) missed
    fmin = min(a.evaluated, b.evaluated, offer(ev, "c").evaluated)
    assert b.financial_score == (Decimal(100) * fmin / b.evaluated).quantize(Decimal("0.01"))
    assert a.combined_score == (
        (80 * a.technical_score + 20 * a.financial_score) / 100  # type: ignore[operator]
    ).quantize(Decimal("0.01"))
    assert ev.weights == (80, 20) and ev.method == "qcbs"


def test_qcbs_minimum_technical_score(spec: Spec) -> None:
    qs = [quote("a", "600"), quote("b", "450", ram="8 GB", keyboard="English"), quote("c", "700")]
    rfq = make_rfq(method="qcbs", min_technical_score=Decimal(80))
    ev = evaluate(spec, rfq, qs, CPUS)
    b = offer(ev, "b")
    assert b.rank is None and "below the RFQ's minimum 80" in b.reason
    assert offer(ev, "a").rank == 1 and offer(ev, "a").financial_score == Decimal("100.00")
    lowest = evaluate(spec, dataclasses.replace(rfq, method="lowest"), qs, CPUS)
    assert offer(lowest, "b").rank is not None


def test_tie_broken_by_declared_rule_and_reported(spec: Spec) -> None:
    qs = [
        quote("a", "600", delivery_days="40"),
        quote("b", "600", delivery_days="20"),
        quote("c", "700"),
    ]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    assert offer(ev, "b").rank == 1 and offer(ev, "a").rank == 2
    assert "tie-break 'delivery_days'" in offer(ev, "a").reason


def test_unbroken_tie_shares_the_rank_and_blocks_award(spec: Spec) -> None:
    qs = [quote("a", "600"), quote("b", "600"), quote("c", "700")]
    ev = evaluate(spec, make_rfq(), qs, CPUS)
    assert offer(ev, "a").rank == offer(ev, "b").rank == 1
    assert ev.lots[0].award is None and "unresolved tie" in ev.lots[0].award_note


def test_award_per_line_and_missing_item(spec: Spec) -> None:
    only_laptop = quote("a", "550", lines=(line("LT-1", "550"),))
    qs = [only_laptop, quote("b", "600"), quote("c", "620")]
    ev = evaluate(spec, make_rfq(award="line"), qs, CPUS)
    assert [lt.lot for lt in ev.lots] == ["LT-1", "BAG-1"]
    assert offer(ev, "a", "LT-1").rank == 1
    bag = offer(ev, "a", "BAG-1")
    assert bag.rank is None and "missing item(s): BAG-1" in bag.reason
    whole = evaluate(spec, make_rfq(), qs, CPUS)
    assert offer(whole, "a").rank is None


def test_quantity_is_evaluated_at_the_rfq_quantity(spec: Spec) -> None:
    q = quote("a", "600", lines=(line("LT-1", "600", qty="8"), line("BAG-1", "10")))
    ev = evaluate(spec, make_rfq(), [q], CPUS)
    corr = ev.vendors[0].corrections[0]
    assert corr.corrected_total == Decimal("6000.00")
    assert "RFQ quantity 10" in corr.note


def test_same_inputs_same_json_in_any_order(spec: Spec) -> None:
    qs = [quote("a", "600"), quote("b", "610", currency="KHR"), quote("c", "300")]
    one = canonical_json(evaluate(spec, make_rfq(), qs, CPUS))
    two = canonical_json(evaluate(spec, make_rfq(), list(reversed(qs)), CPUS))
    assert one == two


def test_spec_mismatch_is_an_error(spec: Spec) -> None:
    with pytest.raises(DataError, match="uses spec 'printer'"):
        evaluate(spec, make_rfq(spec="printer"), [quote("a", "1")], CPUS)


def test_public_api_matches_all() -> None:
    import kape_itops.quotes as api

    assert sorted(api.__all__) == api.__all__
    for name in api.__all__:
        assert getattr(api, name) is not None


def test_vendor_keys_read_khmer_names_and_digits() -> None:
    from dataclasses import replace

    from kape_itops.quotes.steps.responsiveness import vendor_key

    a = replace(quote("a", "600", tax=""), vendor="ហាងកុំព្យូទ័រ កំពង់ធំ")
    b = replace(quote("b", "600", tax=""), vendor="ហាងកុំព្យូទ័រ សៀមរាប")
    assert vendor_key(a) != vendor_key(b)
    assert vendor_key(a) == vendor_key(replace(a, vendor="ហាងកុំព្យូទ័រ  កំពង់ធំ Co., Ltd."))
    # the same tax ID in Khmer and ASCII digits is one vendor; different digits are two
    k1 = replace(quote("c", "600"), tax_id="K014-៥៣០១២")
    k2 = replace(quote("d", "600"), tax_id="K014-53012")
    k3 = replace(quote("e", "600"), tax_id="K014-៥៣០៩៩")
    assert vendor_key(k1) == vendor_key(k2) != vendor_key(k3)
