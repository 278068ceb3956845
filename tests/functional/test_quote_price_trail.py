"""The price trail: every step from the quoted total to the evaluated price, recomputed by hand.

A small RFQ written here: a KHR quotation with VAT-inclusive prices, a wrong line total and two
priced deviations, next to two clean USD quotations. The test recomputes each step of the JSON
trail with its own arithmetic, then checks the HTML, Markdown and XLSX show the same figures.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from kape_itops.cli import cli

SPEC = """\
id: minipc
version: "1"
category: desktop
title: Mini PC for school offices
currency: USD
tie_breaks: [technical_score, quote_date]
requirements:
  - {id: ram-min, label: Memory at least 8 GB, attribute: ram, operator: ">=", value: 8,
     unit: GB, level: mandatory}
  - {id: ram-16, label: Memory 16 GB, attribute: ram, operator: ">=", value: 16, unit: GB,
     level: desirable, weight: 10, money_value: 35}
  - {id: warranty-36, label: Warranty 36 months, attribute: warranty, operator: ">=", value: 36,
     unit: months, level: desirable, weight: 5, money_value: 12.5}
"""
RFQ = """\
rfq: RFQ-TRAIL
title: Mini PCs for 7 school offices
spec: minipc
currency: USD
evaluation_date: '2026-11-05'
required_quotes: 3
rate: {currency: KHR, per_usd: 4100, date: '2026-11-02', source: National Bank of Cambodia}
vat: {rate: 10, basis: exclusive}
arithmetic: unit_price
method: lowest
award: lot
lots:
  - id: '1'
    name: Mini PCs with keyboards
    lines:
      - {item: PC-1, description: Mini PC, quantity: 7, unit: pcs}
      - {item: KB-1, description: Khmer keyboard, quantity: 7, unit: pcs, technical: false}
"""
HEAD = "Vendor,{vendor}\nTax ID,{tax}\nQuote number,Q-1\nDate,30/10/2026\nValid until,31/12/2026\n"
HEAD += "Currency,{currency}\nVAT inclusive,{vat}\nRFQ,RFQ-TRAIL\n\n"
HEAD += "Item,Description,Brand/Model,Quantity,Unit,Unit price,Line total,Warranty,ram\n"
# vendor, tax ID, currency, VAT inclusive, (item, unit price, line total, warranty, ram) rows
QUOTES = {
    "a-khmer-tech": (
        "Khmer Tech",
        "K001-1",
        "KHR",
        "yes",
        [("PC-1", "2345678", "16400000", "24 months", "8 GB"), ("KB-1", "45500", "318500", "", "")],
    ),
    "b-delta": (
        "Delta IT",
        "K001-2",
        "USD",
        "no",
        [("PC-1", "560", "3920", "36 months", "16 GB"), ("KB-1", "12", "84", "", "")],
    ),
    "c-orchid": (
        "Orchid Computers",
        "K001-3",
        "USD",
        "no",
        [("PC-1", "590", "4130", "36 months", "16 GB"), ("KB-1", "10", "70", "", "")],
    ),
}
CENT = Decimal("0.01")
BY_HAND = {
    "=": lambda prev, x: x,
    "+": lambda prev, x: prev + x,
    "−": lambda prev, x: prev - x,
    "×": lambda prev, x: prev * x,
    "÷": lambda prev, x: prev / x,
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def write_case(root: Path) -> Path:
    folder = root / "rfq"
    folder.mkdir()
    (root / "minipc.yaml").write_text(SPEC, "utf-8")
    (folder / "rfq.yaml").write_text(RFQ, "utf-8")
    for name, (vendor, tax, currency, vat, rows) in QUOTES.items():
        body = HEAD.format(vendor=vendor, tax=tax, currency=currency, vat=vat)
        body += "".join(
            f"{item},{item} offer,Brand {item},7,pcs,{price},{total},{warranty},{ram}\n"
            for item, price, total, warranty, ram in rows
        )
        (folder / f"{name}.csv").write_text(body, "utf-8")
    return folder


@pytest.fixture
def scored(runner: CliRunner, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    folder = write_case(tmp_path)
    reports = [tmp_path / f"report.{ext}" for ext in ("html", "md", "xlsx")]
    args = ["quote", "score", str(folder), "--spec", str(tmp_path / "minipc.yaml"), "--no-store"]
    for r in reports:
        args += ["--report", str(r)]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data, tmp_path


def offer(data: dict[str, Any], quote: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in data["lots"][0]["offers"] if o["quote"] == quote)
    return found


def test_every_step_follows_from_the_one_before(scored: tuple[dict[str, Any], Path]) -> None:
    data, _ = scored
    for lot in data["lots"]:
        for o in lot["offers"]:
            steps = o["trail"]
            labels = [s["label"] for s in steps]
            assert labels[:4] == [
                "Quoted total",
                "Arithmetic-corrected total",
                "Converted to USD",
                "VAT-exclusive total",
            ]
            assert labels[-1] == "Evaluated price"
            assert all(lb.startswith("Deviation ") for lb in labels[4:-1])
            name = o["quote"].removesuffix(".csv")
            stated = sum(Decimal(row[2]) for row in QUOTES[name][4])
            assert Decimal(steps[0]["amount"]) == cents(stated), "the vendor's own total"
            assert (
                o["quoted"] == steps[0]["amount"] and o["quoted_currency"] == steps[0]["currency"]
            )
            prev = Decimal(0)
            for s in steps:
                got = cents(BY_HAND[s["op"]](prev, Decimal(s["operand"])))
                assert Decimal(s["amount"]) == got, (o["quote"], s)
                prev = got
            assert steps[-1]["amount"] == o["evaluated"]
            assert [s["currency"] for s in steps[2:]] == ["USD"] * (len(steps) - 2)
    khr = offer(data, "a-khmer-tech.csv")
    shown = [(s["op"], s["operand"], s["amount"], s["currency"]) for s in khr["trail"]]
    assert shown == [
        ("=", "16718500.00", "16718500.00", "KHR"),
        ("+", "19746.00", "16738246.00", "KHR"),  # 7 × 2,345,678 = 16,419,746, not 16,400,000
        ("÷", "4100", "4082.50", "USD"),
        ("÷", "1.1", "3711.36", "USD"),
        ("+", "245.00", "3956.36", "USD"),  # 8 GB: USD 35 × 7
        ("+", "87.50", "4043.86", "USD"),  # 24 months: USD 12.5 × 7
        ("=", "4043.86", "4043.86", "USD"),
    ]
    how = [s["how"] for s in khr["trail"]]
    assert "16,400,000 ≠ 7 × 2,345,678 = 16,419,746.00" in how[1]
    assert "1 USD = 4,100 KHR on 2026-11-02" in how[2]
    assert "include 10 % VAT" in how[3]
    assert how[4].startswith("USD 35.00 × 7 = USD 245.00: PC-1 fails desirable ram-16")
    assert khr["corrected"] == "16738246.00" and khr["deviations"] == "332.50"
    ranks = {o["quote"]: (o["rank"], o["evaluated"]) for o in data["lots"][0]["offers"]}
    assert ranks == {
        "b-delta.csv": (1, "4004.00"),
        "a-khmer-tech.csv": (2, "4043.86"),
        "c-orchid.csv": (3, "4200.00"),
    }


class Tables(HTMLParser):
    """Every <table>: its attributes and rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[dict[str, str | None], list[list[str]]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append((dict(attrs), []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_html_markdown_and_xlsx_show_the_same_figures(
    scored: tuple[dict[str, Any], Path],
) -> None:
    data, root = scored
    parser = Tables()
    parser.feed((root / "report.html").read_text("utf-8"))
    trails = {a["data-quote"]: rows for a, rows in parser.tables if a.get("class") == "trail"}
    markdown = (root / "report.md").read_text("utf-8")
    sheet = list(load_workbook(root / "report.xlsx")["Price build-up"].iter_rows(values_only=True))
    for o in data["lots"][0]["offers"]:
        rows = trails[o["quote"]]
        assert rows[0] == ["Step", "Operation", "Amount", "How"]
        expected = [
            [
                s["label"],
                f"{s['op']} {Decimal(s['operand']):,}",
                f"{s['currency']} {Decimal(s['amount']):,}",
                s["how"],
            ]
            for s in o["trail"]
        ]
        assert rows[1:] == expected
        for label, operation, amount, _ in expected:
            assert f"| {label} | {operation} | {amount} |" in markdown
        in_sheet = [(r[4], Decimal(str(r[7]))) for r in sheet if r[1] == o["quote"]]
        assert in_sheet == [(s["label"], Decimal(s["amount"])) for s in o["trail"]]
    ranking = next(rows for _, rows in parser.tables if rows and "Quoted" in rows[0])
    column = ranking[0].index("Quoted")
    quoted = {row[2]: row[column] for row in ranking[1:]}
    assert quoted["a-khmer-tech.csv"] == "KHR 16,718,500.00"  # as quoted, not corrected
    assert "| Khmer Tech | a-khmer-tech.csv | KHR 16,718,500.00 | 4,043.86 |" in markdown
