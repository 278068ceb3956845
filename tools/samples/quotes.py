"""Regenerate the sample RFQ folders under quotes/: ``python -m tools.samples.quotes``.

Each folder gets rfq.yaml, one XLSX per vendor and the same quotations as CSV under csv/, from
one data file in ``tools/samples/rfqs/`` (the request, and each vendor's header and lines). The
samples carry the traps reviewers meet (see quotes/README.md). Run it from the repository root.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from openpyxl import load_workbook

from kape_itops.quotes.spec import load_spec
from kape_itops.quotes.template import write_quotation_csv, write_quotation_xlsx
from tools.samples.common import HERE, REPO, load_data, target

SPECS = REPO / "specs"
RATE = {
    "currency": "KHR",
    "per_usd": 4100,
    "date": "2026-11-02",
    "source": "National Bank of Cambodia official exchange rate",
}
RFQ_DEFAULTS: dict[str, Any] = {
    "buyer": "KAPE",
    "currency": "USD",
    "evaluation_date": "2026-11-05",
    "submission_deadline": "2026-11-02",
    "required_quotes": 3,
    "rate": RATE,
    "vat": {"rate": 10, "basis": "exclusive"},
    "arithmetic": "unit_price",
    "method": "lowest",
    "weights": "80:20",
    "award": "lot",
    "abnormally_low": 0.7,
}
"""What every sample RFQ says unless its data file says otherwise."""
HEADER_DEFAULTS = {"currency": "USD", "vat_inclusive": "no", "stated_rate": "", "rfq": ""}
REGENERATE = "python -m tools.samples.quotes"
"""The command named in each rfq.yaml's first line. Kept as written when the samples were made:
the files are hashed (tests/golden/quote_laptop.json, every stored evaluation's audit), so
changing it means regenerating the samples and refreshing the golden file."""


def rfq(spec: str, data: dict[str, Any]) -> dict[str, Any]:
    """The rfq.yaml document: the defaults, then the data file's keys, the lots last."""
    doc: dict[str, Any] = {"rfq": data["rfq"], "title": data["title"], "spec": spec}
    doc.update(RFQ_DEFAULTS)
    doc.update({k: v for k, v in data.items() if k not in ("rfq", "title", "lots")})
    doc["lots"] = data["lots"]
    return doc


def header(data: dict[str, Any]) -> dict[str, Any]:
    """A quotation's header block: the data file's fields over the defaults."""
    return {**HEADER_DEFAULTS, **data}


def line(data: dict[str, Any]) -> dict[str, Any]:
    """A quoted line; without a ``line_total`` it is quantity × unit price, as vendors compute."""
    price, qty = data["unit_price"], data["quantity"]
    total = data.get("line_total")
    if total is None and isinstance(price, int | float):
        total = round(qty * price, 2)
    std = {
        "item": data["item"],
        "description": data["description"],
        "brand_model": data["brand_model"],
        "quantity": qty,
        "unit": data["unit"],
        "unit_price": price,
        "line_total": total,
        "warranty": data.get("warranty", ""),
        "delivery_days": data.get("delivery_days", ""),
    }
    return {**std, **{k: v for k, v in data.items() if k not in std}}


def khmer_only(label: str) -> str:
    """'ram (GB) / អង្គចងចាំ' -> 'អង្គចងចាំ (GB)': the label a vendor typing in Khmer writes."""
    if " / " not in label:
        return label
    english, km = label.split(" / ", 1)
    unit = re.search(r"\(.*?\)", english)
    return f"{km} {unit.group()}" if unit else km


def relabel_khmer(xlsx: Path, csv_path: Path) -> None:
    """Rewrite the bilingual labels (header block and lines-table header) in Khmer only."""
    wb = load_workbook(xlsx)
    ws = wb["Quotation"]
    for row in ws.iter_rows():
        first = row[0].value
        if isinstance(first, str) and " / " in first:
            for cell in row if first.startswith("Item") else row[:1]:
                if isinstance(cell.value, str):
                    cell.value = khmer_only(cell.value)
    wb.save(xlsx)
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        if row and " / " in row[0]:
            last = len(row) if row[0].startswith("Item") else 1
            row[:last] = [khmer_only(c) for c in row[:last]]
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def write(
    out: Path,
    spec_id: str,
    doc: dict[str, Any],
    vendors: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]],
    khmer: Collection[str] = (),
) -> None:
    """rfq.yaml, one XLSX per vendor and csv/<vendor>.csv; vendors in ``khmer`` label in Khmer."""
    spec = load_spec(SPECS / f"{spec_id}.yaml")
    (out / "csv").mkdir(parents=True, exist_ok=True)
    (out / "rfq.yaml").write_text(
        f"# Sample RFQ ({out.name}). Regenerate with: {REGENERATE}\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
        "utf-8",
    )
    for slug, (head, lines) in vendors.items():
        head = {**head, "rfq": head.get("rfq") or doc["rfq"]}
        lang = "en+km" if slug in khmer else "en"
        xlsx, csv_path = out / f"{slug}.xlsx", out / "csv" / f"{slug}.csv"
        write_quotation_xlsx(xlsx, spec, head, lines, lang=lang)
        write_quotation_csv(csv_path, spec, head, lines, lang=lang)
        if slug in khmer:
            relabel_khmer(xlsx, csv_path)


def sample(name: str, root: Path) -> None:
    """Write the folder ``root/name`` from ``tools/samples/rfqs/<name>.yaml``."""
    data = load_data(f"rfqs/{name}.yaml")
    vendors = {
        slug: (header(q["header"]), [line(ln) for ln in q["lines"]])
        for slug, q in data["quotations"].items()
    }
    doc = rfq(data["spec"], data["rfq"])
    write(root / name, data["spec"], doc, vendors, khmer=data.get("khmer", ()))


def main() -> None:
    root = target(REPO / "quotes")
    for path in sorted((HERE / "rfqs").glob("*.yaml")):
        sample(path.stem, root)
    print("samples written under", root)


if __name__ == "__main__":
    main()
