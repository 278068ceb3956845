"""The shipped audit sample (quotes/laptop-audit): each procurement rule decides one outcome.

Scored through the CLI as shipped (XLSX, and the CSV copies): a blank mandatory answer, a
"Generic" product, two CPUs judged against two reference CPUs, a quotation in Khmer that wins
because of its price trail, the rate's source, and an award resting on 2 compliant quotations of
3. The HTML report must let a reviewer defend the award line by line: every figure of the
winner's trail and every reason that kept a cheaper quotation out.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from tests.functional.quote_helpers import QUOTES
from tests.functional.test_quote_price_trail import Tables

FOLDER = QUOTES / "laptop-audit"
KM_VENDOR = "ហាងកុំព្យូទ័រកំពង់ចាម"
WINNER = "d-kampong-cham-computer"
SOURCE = "National Bank of Cambodia official exchange rate"
WARNING = (
    "award rests on 2 compliant quotations of 3 required: the procurement rules may require "
    "re-advertising or a justification"
)
# quote -> (rank, compliance, evaluated USD, text in the ranking reason)
OUTCOMES = {
    "a-siem-reap-laptop-center": (
        None,
        "fail",
        "13296.00",
        "mandatory not offered (left blank): battery",
    ),
    "b-tonle-bassac-trading": (None, "unverified", "12672.00", "cannot verify mandatory"),
    "c-battambang-digital": (2, "pass", "15000.00", "USD 240.00 (1.6%) above rank 1"),
    WINNER: (1, "pass", "14760.00", "lowest evaluated price among 2 responsive, compliant"),
    "e-takeo-it-solutions": (None, "fail", "11136.00", "fails mandatory: cpu"),
}
# quote -> (requirement, status, text in its reason): the check that decides the outcome
DECIDING = {
    "a-siem-reap-laptop-center": (
        "battery",
        "fail",
        "not offered: 'battery' left blank; an omitted mandatory answer cannot be added",
    ),
    "b-tonle-bassac-trading": (
        "cpu",
        "unverified",
        "brand/model 'Generic' names no product (evidence required)",
    ),
    "c-battambang-digital": (
        "cpu",
        "pass",
        "Core i5-1334U index 215 >= Ryzen 5 5500U index 215 (reference met",
    ),
    "e-takeo-it-solutions": (
        "cpu",
        "fail",
        "Core i3-1215U index 185 < Ryzen 5 5500U index 215 (closest reference",
    ),
}
# the winner's trail: (label, op, operand, amount, currency)
TRAIL = [
    ("Quoted total", "=", "68779200.00", "68779200.00", "KHR"),
    ("Arithmetic-corrected total", "−", "6000000.00", "62779200.00", "KHR"),
    ("Converted to USD", "÷", "4100", "15312.00", "USD"),
    ("VAT-exclusive total", "÷", "1.1", "13920.00", "USD"),
    ("Deviation ram-16 (LT-1)", "+", "840.00", "14760.00", "USD"),
    ("Evaluated price", "=", "14760.00", "14760.00", "USD"),
]


def score(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["quote", "score", *args, "--no-store", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("audit") / "report.html"
    data = score(str(FOLDER), "--report", str(out))
    return data, out.read_text("utf-8")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_each_rule_decides_one_outcome(fmt: str) -> None:
    args = [str(FOLDER)] if fmt == "xlsx" else [str(FOLDER / "csv"), "--spec", "laptop"]
    data = score(*args)
    lot = data["lots"][0]
    offers = {stem(o["quote"]): o for o in lot["offers"]}
    got = {q: (o["rank"], o["compliance"], o["evaluated"]) for q, o in offers.items()}
    assert got == {q: v[:3] for q, v in OUTCOMES.items()}
    for q, (*_, reason) in OUTCOMES.items():
        assert reason in offers[q]["reason"], q
    # every quotation kept out is cheaper than the winner: each rule decided the award
    winner = Decimal(offers[WINNER]["evaluated"])
    assert all(Decimal(o["evaluated"]) < winner for o in offers.values() if o["rank"] is None)
    checks = {stem(v["quote"]): {c["requirement"]: c for c in v["checks"]} for v in data["vendors"]}
    for q, (req, status, reason) in DECIDING.items():
        assert checks[q][req]["status"] == status, q
        assert reason in checks[q][req]["reason"], q
    # rule 2: compliant quotations counted, the award line warns
    assert (lot["received_count"], lot["responsive_count"], lot["compliant_count"]) == (5, 5, 2)
    assert lot["award_vendor"] == KM_VENDOR
    assert lot["award_note"].endswith(f"USD 14,760.00; {WARNING}")
    # rule 3: the trail, step by step; as quoted the winner is dearer than the runner-up
    trail = [
        (s["label"], s["op"], s["operand"], s["amount"], s["currency"])
        for s in offers[WINNER]["trail"]
    ]
    assert trail == TRAIL
    runner_up = offers["c-battambang-digital"]
    assert Decimal(offers[WINNER]["quoted"]) / 4100 > Decimal(runner_up["quoted"])
    # rule 4: the rate and its source are recorded, the vendor's own rate is not used
    assert data["rate_source"] == SOURCE
    assert f"source: {SOURCE}" in offers[WINNER]["trail"][2]["how"]
    km = next(v for v in data["vendors"] if stem(v["quote"]) == WINNER)
    assert (km["vendor"], km["currency"], km["vat_inclusive"], km["stated_rate"]) == (
        KM_VENDOR,
        "KHR",
        True,
        "4000",
    )
    assert (km["quote_date"], km["valid_until"]) == ("2026-10-30", "2026-12-29")
    assert "vendor states 1 USD = 4,000 KHR" in " ".join(f["message"] for f in km["flags"])
    # rule 6: Khmer digits, months and keyboard read as such
    km_checks = checks[WINNER]
    assert km_checks["warranty"]["status"] == "pass"
    assert km_checks["warranty"]["reason"] == "៣៦ ខែ = 36 months ≥ 36 months"
    assert km_checks["keyboard"]["status"] == "pass"
    assert km_checks["keyboard"]["reason"].endswith("matches Khmer")
    assert km_checks["ram-16"]["reason"] == "៨ ជីកាបៃ DDR4 = 8 GB < 16 GB"
    assert km_checks["delivery"]["status"] == "pass"
    assert [c["requirement"] for c in km_checks.values() if c["status"] != "pass"] == ["ram-16"]


@pytest.mark.parametrize(
    ("option", "evaluated"),
    [
        (["--arithmetic", "line_total"], "16090.37"),  # the vendor's wrong line total kept
        (["--vat", "0"], "16152.00"),  # compared with its VAT still in
        (["--rate", "KHR=4000@2026-11-02 vendor's own rate"], "15108.00"),
    ],
)
def test_each_trail_step_decides_the_award(option: list[str], evaluated: str) -> None:
    """Undo one step of the winner's trail and the runner-up wins instead."""
    lot = score(str(FOLDER), *option)["lots"][0]
    ranks = {stem(o["quote"]): (o["rank"], o["evaluated"]) for o in lot["offers"] if o["rank"]}
    assert ranks == {"c-battambang-digital": (1, "15000.00"), WINNER: (2, evaluated)}


def test_html_report_defends_the_award_line_by_line(html: tuple[dict[str, Any], str]) -> None:
    data, text = html
    parser = Tables()
    parser.feed(text)
    header = {row[0]: row[1] for row in parser.tables[0][1] if len(row) == 2}
    assert header["Exchange rate"] == f"1 USD = 4,100 KHR on 2026-11-02 (source: {SOURCE})"
    assert header["Blank mandatory answers"].startswith("blank_mandatory: fail")
    award = f'<p class="award">recommended: {KM_VENDOR} ({WINNER}.xlsx), USD 14,760.00; {WARNING}'
    assert award in text
    assert "Quotations: 5 received, 5 responsive, 2 compliant (3 required)" in text
    # the winner's price build-up: every figure of the trail
    trail = next(rows for a, rows in parser.tables if a.get("data-quote") == f"{WINNER}.xlsx")
    shown = [(r[0], r[1], r[2]) for r in trail[1:]]
    assert shown == [
        (label, f"{op} {Decimal(operand):,}", f"{cur} {Decimal(amount):,}")
        for label, op, operand, amount, cur in TRAIL
    ]
    hows = [r[3] for r in trail[1:]]
    assert "line total 67,696,800 ≠ 24 × 2,570,700 = 61,696,800.00" in hows[1]
    assert f"(source: {SOURCE})" in hows[2]
    assert "prices include 10 % VAT" in hows[3]
    assert "៨ ជីកាបៃ DDR4 = 8 GB < 16 GB" in hows[4]
    # the ranking: each quotation kept out shows the finding that kept it out
    ranking = next(rows for _, rows in parser.tables if rows and rows[0][:2] == ["Rank", "Vendor"])
    reason_col = ranking[0].index("Reason")
    reasons = {row[2]: row[reason_col] for row in ranking[1:]}
    assert (
        "LT-1 battery: not offered: 'battery' left blank"
        in reasons["a-siem-reap-laptop-center.xlsx"]
    )
    for q, (req, _, finding) in DECIDING.items():
        if OUTCOMES[q][0] is None:
            assert f"LT-1 {req}: " in reasons[f"{q}.xlsx"] and finding in reasons[f"{q}.xlsx"]
    # each evaluated price links to its price build-up
    assert '<a href="#trail-1-1" title="price build-up">14,760.00</a>' in text
    assert f'id="trail-1-1" data-lot="1" data-quote="{WINNER}.xlsx"' in text
    # the matrix names the deciding reference and shows the Khmer answers read
    matrix = next(
        rows for _, rows in parser.tables if rows and rows[0][:2] == ["Requirement", "Rule"]
    )
    cpu_row = next(r for r in matrix if r[0].startswith("Processor"))
    vendors = matrix[0]
    assert (
        "Core i5-1334U index 215 >= Ryzen 5 5500U index 215"
        in cpu_row[vendors.index("Battambang Digital Store")]
    )
    warranty_row = next(r for r in matrix if r[0].startswith("Warranty at least 36 months"))
    assert "៣៦ ខែ = 36 months ≥ 36 months" in warranty_row[vendors.index(KM_VENDOR)]
    assert data["lots"][0]["award_vendor"] == KM_VENDOR


def test_readme_tells_the_same_story(html: tuple[dict[str, Any], str]) -> None:
    """The folder's README quotes the figures the evaluation gives."""
    data, _ = html
    readme = (FOLDER / "README.md").read_text("utf-8")
    for o in data["lots"][0]["offers"]:
        assert f"`{stem(o['quote'])}`) | {Decimal(o['evaluated']):,} |" in readme
    for label, op, operand, amount, cur in TRAIL[1:5]:
        assert f"| {op} {Decimal(operand):,} | {cur} {Decimal(amount):,} |" in readme, label
    assert WARNING in readme.replace("\n", " ")
