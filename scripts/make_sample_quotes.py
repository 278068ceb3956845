"""Regenerate the sample RFQ folders under quotes/: `python scripts/make_sample_quotes.py`.

Each folder gets rfq.yaml, one XLSX per vendor and the same quotations as CSV under csv/.
The samples carry the traps reviewers meet (see quotes/README.md).
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

ROOT = Path(__file__).resolve().parents[1] / "quotes"
SPECS = ROOT.parent / "specs"
RATE = {
    "currency": "KHR",
    "per_usd": 4100,
    "date": "2026-11-02",
    "source": "National Bank of Cambodia official exchange rate",
}


def rfq(
    rid: str, title: str, spec: str, lots: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "rfq": rid,
        "title": title,
        "spec": spec,
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
        "lots": lots,
    }
    doc.update(extra)
    doc["lots"] = doc.pop("lots")  # new keys (min_technical_score) before the lots
    return doc


def header(
    vendor: str,
    tin: str,
    number: str,
    date: str,
    valid: str,
    currency: str = "USD",
    vat: str = "no",
    rate: Any = "",
    rfq_id: str = "",
) -> dict[str, Any]:
    return {
        "vendor": vendor,
        "tax_id": tin,
        "quote_number": number,
        "quote_date": date,
        "valid_until": valid,
        "currency": currency,
        "vat_inclusive": vat,
        "stated_rate": rate,
        "rfq": rfq_id,
    }


def line(
    item: str,
    desc: str,
    model: str,
    qty: Any,
    unit: str,
    price: Any,
    total: Any = None,
    warranty: str = "",
    delivery: Any = "",
    **attrs: Any,
) -> dict[str, Any]:
    if total is None and isinstance(price, int | float):
        total = round(qty * price, 2)
    return {
        "item": item,
        "description": desc,
        "brand_model": model,
        "quantity": qty,
        "unit": unit,
        "unit_price": price,
        "line_total": total,
        "warranty": warranty,
        "delivery_days": delivery,
        **attrs,
    }


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
    folder: str,
    spec_id: str,
    doc: dict[str, Any],
    vendors: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]],
    khmer: Collection[str] = (),
) -> None:
    """rfq.yaml, one XLSX per vendor and csv/<vendor>.csv; vendors in ``khmer`` label in Khmer."""
    spec = load_spec(SPECS / f"{spec_id}.yaml")
    out = ROOT / folder
    (out / "csv").mkdir(parents=True, exist_ok=True)
    (out / "rfq.yaml").write_text(
        f"# Sample RFQ ({folder}). Regenerate with: python scripts/make_sample_quotes.py\n"
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


def laptop() -> None:
    rid = "KAPE-RFQ-2026-011"
    doc = rfq(
        rid,
        "Laptops for teachers, 12 target schools (Kampong Thom)",
        "laptop",
        [
            {
                "id": "1",
                "name": "Teacher laptops with backpacks",
                "lines": [
                    {
                        "item": "LT-1",
                        "description": "Laptop 14-15.6 inch per spec laptop 2026.1",
                        "quantity": 24,
                        "unit": "pcs",
                    },
                    {
                        "item": "BAG-1",
                        "description": "Padded laptop backpack",
                        "quantity": 24,
                        "unit": "pcs",
                        "technical": False,
                    },
                ],
            }
        ],
    )
    w = "36 months"
    vendors = {
        "a-angkor-digital": (
            header(
                "Angkor Digital Co., Ltd.",
                "K001-901234567",
                "AD-Q-2611",
                "2026-10-28",
                "2026-12-27",
            ),
            [
                line(
                    "LT-1",
                    "Dell Latitude 3540 laptop",
                    "Dell Latitude 3540",
                    24,
                    "pcs",
                    645,
                    15840,
                    w,
                    30,
                    cpu="Intel Core i5-1235U",
                    ram="16 GB DDR4 3200 MHz",
                    storage="512 GB",
                    storage_type="M.2 NVMe SSD",
                    display='15.6"',
                    resolution="1920x1080",
                    battery="41 Wh",
                    wifi="Wi-Fi 6 (802.11ax)",
                    os="Windows 11 Pro",
                    keyboard="English with Khmer labels",
                    warranty_type="on-site, provinces included",
                    weight="1.79 kg",
                ),
                line(
                    "BAG-1",
                    "Dell Essential backpack 15",
                    "Dell ES1520P",
                    24,
                    "pcs",
                    12,
                    None,
                    "12 months",
                    30,
                ),
            ],
        ),
        "b-mekong-it": (
            header(
                "Mekong IT Solutions",
                "K002-100998877",
                "MIT/2026/0457",
                "30/10/2026",
                "29/12/2026",
                "KHR",
                "no",
                4050,
            ),
            [
                line(
                    "LT-1",
                    "Lenovo V15 G4 AMN",
                    "Lenovo V15 G4 AMN 82YU",
                    24,
                    "pcs",
                    2480000,
                    None,
                    "3 yrs",
                    21,
                    cpu="AMD Ryzen 5 7530U",
                    ram="8GB",
                    storage="512GB SSD",
                    storage_type="SSD",
                    display="15.6 inch",
                    resolution="FHD 1920x1080",
                    battery="42Wh",
                    wifi="802.11ax",
                    os="Windows 11 Pro",
                    keyboard="English",
                    warranty_type="carry-in",
                    weight="1.65 kg",
                ),
                line("BAG-1", "Lenovo backpack", "Lenovo B210", 24, "pcs", 45000, None, "1 yr", 21),
            ],
        ),
        "c-sokha-computer": (
            header(
                "Sokha Computer Trading", "K003-443322110", "SCT-889", "2026-10-31", "2026-12-31"
            ),
            [
                line(
                    "LT-1",
                    "HP laptop 14 inch",
                    "HP 240 G10",
                    24,
                    "pcs",
                    598,
                    None,
                    "36 months",
                    14,
                    cpu="Intel Core i5 or equivalent",
                    ram="16 GB",
                    storage="0.5 TB",
                    storage_type="SSD",
                    display='14"',
                    resolution="1920x1080",
                    battery="41 Wh",
                    wifi="Wi-Fi 6",
                    os="Windows 11 Pro",
                    keyboard="Khmer/English",
                    warranty_type="on-site",
                    weight="1.47 kg",
                ),
                line(
                    "BAG-1", "HP backpack", "HP Prelude 15.6", 24, "pcs", 10, None, "12 months", 14
                ),
            ],
        ),
        "d-phnom-penh-office": (
            header(
                "Phnom Penh Office Supply",
                "K004-556677889",
                "PPOS-2026-1102",
                "2026-11-01",
                "2027-01-31",
                "USD",
                "yes",
            ),
            [
                line(
                    "LT-1",
                    "ASUS ExpertBook B1 (VAT incl.)",
                    "ASUS ExpertBook B1402CVA",
                    24,
                    "pcs",
                    735,
                    None,
                    "3 years",
                    40,
                    cpu="Core i5-1335U",
                    ram="16 GB",
                    storage="256 GB",
                    storage_type="NVMe SSD",
                    display='14"',
                    resolution="1920x1200",
                    battery="50 Wh",
                    wifi="Wi-Fi 6E",
                    os="Windows 11 Education",
                    keyboard="Khmer engraved",
                    warranty_type="On-site next business day",
                    weight="1.45 kg",
                ),
                line(
                    "BAG-1",
                    "ASUS backpack (VAT incl.)",
                    "ASUS BP1504",
                    24,
                    "pcs",
                    13.2,
                    None,
                    "12 months",
                    40,
                ),
            ],
        ),
        "e-battambang-tech": (
            header(
                "Battambang Tech Center", "K005-778899001", "BTC-77", "2026-10-01", "2026-10-31"
            ),
            [
                line(
                    "LT-1",
                    "Acer TravelMate P2",
                    "Acer TravelMate P214-54",
                    24,
                    "pcs",
                    610,
                    None,
                    "36 months",
                    35,
                    cpu="Core i5-1235U",
                    ram="8 GB",
                    storage="512 GB",
                    storage_type="SSD",
                    display='14"',
                    resolution="1920x1080",
                    battery="50 Wh",
                    wifi="Wi-Fi 6",
                    os="Windows 11 Pro",
                    keyboard="English",
                    warranty_type="carry-in",
                    weight="1.6 kg",
                ),
            ],
        ),
    }
    write("laptop", "laptop", doc, vendors)


def laptop_audit() -> None:
    """One quotation per rule: each vendor's outcome is decided by one rule (see its README)."""
    rid = "KAPE-RFQ-2026-022"
    doc = rfq(
        rid,
        "Laptops for teachers, Kampong Cham schools (audit walk-through sample)",
        "laptop",
        [
            {
                "id": "1",
                "name": "Teacher laptops with backpacks",
                "lines": [
                    {
                        "item": "LT-1",
                        "description": "Laptop 14-15.6 inch per spec laptop 2026.1",
                        "quantity": 24,
                        "unit": "pcs",
                    },
                    {
                        "item": "BAG-1",
                        "description": "Padded laptop backpack",
                        "quantity": 24,
                        "unit": "pcs",
                        "technical": False,
                    },
                ],
            }
        ],
    )
    good: dict[str, Any] = {
        "ram": "16 GB",
        "storage": "512 GB",
        "storage_type": "NVMe SSD",
        "display": '14"',
        "resolution": "1920x1080",
        "battery": "45 Wh",
        "wifi": "Wi-Fi 6",
        "os": "Windows 11 Pro",
        "keyboard": "Khmer/English",
        "warranty_type": "on-site",
        "weight": "1.5 kg",
    }
    w = "36 months"

    def bag(price: Any, total: Any = None, model: str = "Dell ES1520P") -> dict[str, Any]:
        return line(
            "BAG-1", "Laptop backpack 15.6", model, 24, "pcs", price, total, "12 months", 30
        )

    vendors = {
        # rule 1: the cheapest compliant-looking offer leaves a mandatory answer blank
        "a-siem-reap-laptop-center": (
            header(
                "Siem Reap Laptop Center",
                "K011-201100345",
                "SRLC-2611-08",
                "2026-10-29",
                "2026-12-28",
            ),
            [
                line(
                    "LT-1",
                    "HP ProBook 440 G10",
                    "HP ProBook 440 G10",
                    24,
                    "pcs",
                    545,
                    None,
                    w,
                    28,
                    **{**good, "cpu": "Intel Core i5-1335U", "battery": "", "weight": "1.38 kg"},
                ),
                bag(9, model="HP Prelude 15.6"),
            ],
        ),
        # rule 1: a product that is there but not named cannot be verified
        "b-tonle-bassac-trading": (
            header(
                "Tonle Bassac Trading", "K012-310200456", "TBT/Q/1029", "2026-10-30", "2026-12-29"
            ),
            [
                line(
                    "LT-1",
                    "15.6 inch business laptop",
                    "Generic",
                    24,
                    "pcs",
                    520,
                    None,
                    w,
                    21,
                    **{**good, "cpu": "Intel Core i5-1235U", "display": "15.6 inch"},
                ),
                bag(8, model="Generic"),
            ],
        ),
        # rule 5: passes by the second reference CPU (Ryzen 5 5500U), not the first
        "c-battambang-digital": (
            header(
                "Battambang Digital Store", "K013-420300567", "BDS-0457", "2026-10-31", "2026-12-31"
            ),
            [
                line(
                    "LT-1",
                    "HP 250 G10 15.6 inch",
                    "HP 250 G10",
                    24,
                    "pcs",
                    610,
                    None,
                    w,
                    14,
                    **{
                        **good,
                        "cpu": "Intel Core i5-1334U",
                        "display": '15.6"',
                        "battery": "41 Wh",
                        "keyboard": "English",
                        "weight": "1.52 kg",
                    },
                ),
                bag(10, model="HP Renew Travel 15.6"),
            ],
        ),
        # rules 3, 4 and 6: Khmer labels and values, riel, VAT included, a wrong line total, the
        # vendor's own rate, 8 GB (priced deviation); wins because of the price trail
        "d-kampong-cham-computer": (
            header(
                "ហាង​កុំព្យូទ័រ​កំពង់ចាម",
                "K014-៥៣០៤០០៦៧៨",
                "KC-២៦១១-០៧",
                "ថ្ងៃទី៣០ ខែតុលា ឆ្នាំ២០២៦",
                "២៩/១២/២០២៦",
                "រៀល",
                "បាទ",
                "៤,០០០",
            ),
            [
                line(
                    "LT-1",
                    "កុំព្យូទ័រយួរដៃ Dell Latitude 3540",
                    "Dell Latitude 3540",
                    "២៤",
                    "គ្រឿង",
                    "២,៥៧០,៧០០",
                    "៦៧,៦៩៦,៨០០",
                    "៣៦ ខែ",
                    "៣០ ថ្ងៃ",
                    cpu="Intel Core i5-1235U",
                    ram="៨ ជីកាបៃ DDR4",
                    storage="៥១២ ជីហ្គាបៃ SSD",
                    storage_type="NVMe SSD",
                    display="១៥.៦ អ៊ីញ",
                    resolution="1920x1080",
                    battery="៥៤ វ៉ាត់ម៉ោង",
                    wifi="Wi-Fi 6",
                    os="Windows 11 Pro",
                    keyboard="ខ្មែរ/English",
                    warranty_type="ជួសជុល​នៅនឹងកន្លែង ដល់​ខេត្ត",
                    weight="១.៦ គ.ក",
                ),
                line(
                    "BAG-1",
                    "កាបូបស្ពាយកុំព្យូទ័រ",
                    "Dell ES1520P",
                    "២៤",
                    "គ្រឿង",
                    "៤៥,១០០",
                    "១,០៨២,៤០០",
                    "១២ ខែ",
                    "៣០",
                ),
            ],
        ),
        # rule 5: below both reference CPUs; the check names the closest one
        "e-takeo-it-solutions": (
            header(
                "Takeo IT Solutions", "K015-640500789", "TIT-26-311", "2026-11-01", "2026-12-31"
            ),
            [
                line(
                    "LT-1",
                    "Acer Aspire 3 A315-59",
                    "Acer Aspire 3 A315-59",
                    24,
                    "pcs",
                    455,
                    None,
                    w,
                    30,
                    **{
                        **good,
                        "cpu": "Intel Core i3-1215U",
                        "display": '15.6"',
                        "weight": "1.7 kg",
                    },
                ),
                bag(9, model="Acer Commercial backpack 15.6"),
            ],
        ),
    }
    write("laptop-audit", "laptop", doc, vendors, khmer={"d-kampong-cham-computer"})


def printer() -> None:
    rid = "KAPE-RFQ-2026-014"
    doc = rfq(
        rid,
        "Network printers and spare toner for school offices",
        "printer",
        [
            {
                "id": "1",
                "name": "Printers and toner",
                "lines": [
                    {
                        "item": "PRN-1",
                        "description": "A4 mono network laser printer, duplex",
                        "quantity": 12,
                        "unit": "pcs",
                    },
                    {
                        "item": "TON-1",
                        "description": "Spare high-yield toner for PRN-1",
                        "quantity": 24,
                        "unit": "pcs",
                        "technical": False,
                    },
                ],
            }
        ],
        award="line",
    )
    vendors = {
        "a-khmer-office": (
            header(
                "Khmer Office Equipment Co., Ltd.",
                "K101-220011334",
                "KOE-5512",
                "2026-10-27",
                "2026-12-26",
            ),
            [
                line(
                    "PRN-1",
                    "HP LaserJet Pro 4003dn",
                    "HP LaserJet Pro 4003dn",
                    12,
                    "pcs",
                    389,
                    None,
                    "12 months",
                    14,
                    print_speed="40 ppm",
                    duplex="yes",
                    network="Yes, Gigabit Ethernet",
                    wifi_print="no",
                    duty_cycle="80,000 pages per month",
                    toner_yield="3,050 pages (W1510A)",
                    cost_per_page="2.6 cents",
                    snmp="yes",
                    warranty_type="on-site",
                ),
                line("TON-1", "HP 151A toner", "HP W1510A", 24, "pcs", 89, None, "", 14),
            ],
        ),
        "b-lucky-star": (
            header(
                "Lucky Star Trading",
                "K102-330022445",
                "LST-Q-0931",
                "2026-10-30",
                "2026-12-30",
                "KHR",
                "yes",
                4100,
            ),
            [
                line(
                    "PRN-1",
                    "Brother HL-L5210DN (VAT incl.)",
                    "Brother HL-L5210DN",
                    12,
                    "pcs",
                    1690000,
                    None,
                    "24 months",
                    21,
                    print_speed="48 ppm",
                    duplex="Yes",
                    network="Yes",
                    wifi_print="No",
                    duty_cycle="50000 pages/month",
                    toner_yield="3000 pages",
                    cost_per_page="2.9",
                    snmp="yes",
                    warranty_type="carry-in",
                ),
                line(
                    "TON-1",
                    "Brother TN-3600 (VAT incl.)",
                    "Brother TN-3600",
                    24,
                    "pcs",
                    420000,
                    None,
                    "",
                    21,
                ),
            ],
        ),
        "c-samaki-printing": (
            header(
                "Samaki Printing Solutions",
                "K103-440033556",
                "SPS 2026/118",
                "2026-10-29",
                "2026-12-15",
            ),
            [
                line(
                    "PRN-1",
                    "Canon i-SENSYS LBP233dw",
                    "Canon LBP233dw",
                    12,
                    "pcs",
                    329,
                    None,
                    "1 year",
                    10,
                    print_speed="33 ppm",
                    duplex="yes",
                    network="yes",
                    wifi_print="yes",
                    duty_cycle="80,000 pages",
                    toner_yield="3,100 pages (057H)",
                    cost_per_page="3.4 cents",
                    snmp="yes",
                    warranty_type="carry-in",
                ),
            ],
        ),
        "d-sunrise-tech": (
            header("Sunrise Tech Trading", "K104-550044667", "STT-061", "2026-11-01", "2026-12-31"),
            [
                line(
                    "PRN-1",
                    "Pantum BP5100DN",
                    "Pantum BP5100DN",
                    12,
                    "pcs",
                    210,
                    None,
                    "12 months",
                    7,
                    print_speed="40 ppm",
                    duplex="yes",
                    network="yes",
                    wifi_print="no",
                    duty_cycle="100,000 pages",
                    toner_yield="6,000 pages (TL-5120H)",
                    cost_per_page="1.9 cents",
                    snmp="yes",
                    warranty_type="carry-in",
                ),
                line("TON-1", "Pantum TL-5120H", "Pantum TL-5120H", 24, "pcs", 59, 1461, "", 7),
            ],
        ),
    }
    write("printer", "printer", doc, vendors)


def camera() -> None:
    rid = "KAPE-RFQ-2026-017"
    doc = rfq(
        rid,
        "IP cameras for school gates and corridors, installed",
        "camera",
        [
            {
                "id": "1",
                "name": "Cameras",
                "lines": [
                    {
                        "item": "CAM-1",
                        "description": "Outdoor 4 MP IP camera per spec camera 2026.1",
                        "quantity": 36,
                        "unit": "pcs",
                    },
                    {
                        "item": "INS-1",
                        "description": "Installation, Cat6 cabling up to 30 m, configuration",
                        "quantity": 36,
                        "unit": "point",
                        "technical": False,
                    },
                ],
            }
        ],
        award="whole",
    )
    vendors = {
        "a-angkor-security": (
            header(
                "Angkor Security Systems",
                "K201-660055778",
                "ASS-Q-2026-332",
                "2026-10-29",
                "2026-12-28",
            ),
            [
                line(
                    "CAM-1",
                    "Hikvision 4 MP bullet",
                    "Hikvision DS-2CD2043G2-I",
                    36,
                    "pcs",
                    78,
                    None,
                    "24 months",
                    21,
                    resolution="2688x1520",
                    ir_range="40 m",
                    onvif="Profile S, Profile G, Profile T",
                    poe="802.3af, class 3",
                    ip_rating="IP67",
                    codec="H.265+, H.264",
                    wdr="120 dB",
                    sd_card="yes, up to 256 GB",
                ),
                line(
                    "INS-1",
                    "Installation per point",
                    "",
                    36,
                    "point",
                    35,
                    None,
                    "12 months workmanship",
                    21,
                ),
            ],
        ),
        "b-cam-vision": (
            header("Cam Vision Co., Ltd.", "K202-770066889", "CV-1029", "2026-10-30", "2026-12-30"),
            [
                line(
                    "CAM-1",
                    "Dahua 4 MP bullet",
                    "Dahua IPC-HFW2441S-S",
                    36,
                    "pcs",
                    69,
                    None,
                    "36 months",
                    14,
                    resolution="2688x1520",
                    ir_range="50 m",
                    onvif="Profile S, Profile G, Profile T",
                    poe="802.3af",
                    ip_rating="IP67",
                    codec="H.265",
                    wdr="120 dB",
                    sd_card="yes",
                ),
                line("INS-1", "Installation per point", "", 36, "point", 32, None, "12 months", 14),
            ],
        ),
        "c-camvision-trading": (
            header("CamVision Trading", "K202-770066889", "CVT-0077", "2026-10-31", "2026-12-31"),
            [
                line(
                    "CAM-1",
                    "Dahua 4 MP bullet",
                    "Dahua IPC-HFW2441S-S",
                    36,
                    "pcs",
                    66,
                    None,
                    "36 months",
                    14,
                    resolution="2688x1520",
                    ir_range="50 m",
                    onvif="Profile S, Profile G, Profile T",
                    poe="802.3af",
                    ip_rating="IP67",
                    codec="H.265",
                    wdr="120 dB",
                    sd_card="yes",
                ),
                line("INS-1", "Installation per point", "", 36, "point", 30, None, "12 months", 14),
            ],
        ),
        "d-tonle-sap-electronics": (
            header(
                "Tonle Sap Electronics", "K204-990088001", "TSE/26/0415", "2026-11-01", "2027-01-30"
            ),
            [
                line(
                    "CAM-1",
                    "4MP IP camera",
                    "OEM IPC-4MP-B",
                    36,
                    "pcs",
                    39,
                    None,
                    "12 months",
                    10,
                    resolution="4MP",
                    ir_range="30m",
                    onvif="ONVIF compatible",
                    poe="PoE",
                    ip_rating="IP66",
                    codec="H.265",
                    wdr="DWDR",
                    sd_card="no",
                ),
                line("INS-1", "Installation per point", "", 36, "point", 25, None, "6 months", 10),
            ],
        ),
    }
    write("camera", "camera", doc, vendors)


def hotspot() -> None:
    rid = "KAPE-RFQ-2026-019"
    doc = rfq(
        rid,
        "Wi-Fi 6 access points for classrooms, with installation",
        "hotspot",
        [
            {
                "id": "1",
                "name": "Access points",
                "lines": [
                    {
                        "item": "AP-1",
                        "description": "Ceiling Wi-Fi 6 access point per spec hotspot 2026.1",
                        "quantity": 40,
                        "unit": "pcs",
                    }
                ],
            },
            {
                "id": "2",
                "name": "Installation",
                "lines": [
                    {
                        "item": "INS-AP",
                        "description": "Mounting, cabling and configuration per AP",
                        "quantity": 40,
                        "unit": "point",
                        "technical": False,
                    }
                ],
            },
        ],
        method="qcbs",
        min_technical_score=70,
    )
    vendors = {
        "a-mekong-networks": (
            header(
                "Mekong Networks Co., Ltd.",
                "K301-110022334",
                "MN-2026-771",
                "2026-10-28",
                "2026-12-31",
            ),
            [
                line(
                    "AP-1",
                    "TP-Link Omada EAP650 AX3000",
                    "TP-Link EAP650",
                    40,
                    "pcs",
                    119,
                    None,
                    "36 months",
                    14,
                    wifi="Wi-Fi 6 (802.11ax)",
                    dual_band="yes",
                    clients="300 clients",
                    poe="802.3at",
                    uplink="1 Gbps",
                    captive_portal="yes (Omada portal, vouchers)",
                    management="Omada Software Controller, free",
                    snmp="yes",
                ),
                line("INS-AP", "Installation per AP", "", 40, "point", 25, None, "12 months", 14),
            ],
        ),
        "b-smart-link": (
            header(
                "Smart Link Cambodia",
                "K302-220033445",
                "SLC-Q-1188",
                "2026-10-30",
                "2026-12-30",
                "USD",
                "yes",
            ),
            [
                line(
                    "AP-1",
                    "Ubiquiti UniFi U6+ (VAT incl.)",
                    "Ubiquiti U6+",
                    40,
                    "pcs",
                    159.5,
                    None,
                    "2 years",
                    21,
                    wifi="802.11ax",
                    dual_band="yes",
                    clients="300 clients",
                    poe="802.3af",
                    uplink="Gigabit",
                    captive_portal="yes (hotspot manager)",
                    management="UniFi Network self-hosted, free",
                    snmp="yes",
                ),
                line(
                    "INS-AP",
                    "Installation per AP (VAT incl.)",
                    "",
                    40,
                    "point",
                    27.5,
                    None,
                    "12 months",
                    21,
                ),
            ],
        ),
        "c-khmer-telecom": (
            header(
                "Khmer Telecom Supply",
                "K303-330044556",
                "KTS-2026-204",
                "2026-10-31",
                "2026-12-31",
                "KHR",
                "no",
            ),
            [
                line(
                    "AP-1",
                    "Ruijie Reyee RG-RAP2260(G) AX1800",
                    "Ruijie RG-RAP2260(G)",
                    40,
                    "pcs",
                    360000,
                    None,
                    "3 years",
                    21,
                    wifi="Wi-Fi 6",
                    dual_band="yes",
                    clients="110 clients",
                    poe="802.3af",
                    uplink="Gigabit",
                    captive_portal="yes",
                    management="Ruijie Cloud, free of charge",
                    snmp="no",
                ),
                line(
                    "INS-AP",
                    "Installation per AP",
                    "",
                    40,
                    "point",
                    90000,
                    3060000,
                    "12 months",
                    21,
                ),
            ],
        ),
        "d-wat-phnom-trading": (
            header("Wat Phnom Trading", "K304-440055667", "WPT-555", "2026-11-02", "2026-12-02"),
            [
                line(
                    "AP-1",
                    "Cisco Aironet 1815i",
                    "Cisco AIR-AP1815I-E-K9",
                    40,
                    "pcs",
                    99,
                    None,
                    "12 months",
                    30,
                    wifi="802.11ac Wave 2",
                    dual_band="yes",
                    clients="200 clients",
                    poe="802.3af",
                    uplink="1 Gbps",
                    captive_portal="with controller licence",
                    management="Cisco Mobility Express",
                    snmp="yes",
                ),
            ],
        ),
    }
    write("hotspot", "hotspot", doc, vendors)


def desktop() -> None:
    rid = "KAPE-RFQ-2026-012"
    doc = rfq(
        rid,
        "Desktop computers for two computer labs",
        "desktop",
        [
            {
                "id": "1",
                "name": "Lab desktops",
                "lines": [
                    {
                        "item": "PC-1",
                        "description": "Desktop with 21.5-24 inch monitor",
                        "quantity": 30,
                        "unit": "set",
                    }
                ],
            }
        ],
    )
    common = {
        "monitor": "23.8 inch",
        "resolution": "1920x1080",
        "lan": "Gigabit Ethernet",
        "os": "Windows 11 Pro",
    }
    vendors = {
        "a-angkor-digital": (
            header(
                "Angkor Digital Co., Ltd.",
                "K001-901234567",
                "AD-Q-2612",
                "2026-10-28",
                "2026-12-27",
            ),
            [
                line(
                    "PC-1",
                    "Dell OptiPlex 7010 SFF + E2423H",
                    "Dell OptiPlex 7010 SFF",
                    30,
                    "set",
                    720,
                    None,
                    "36 months",
                    30,
                    cpu="Intel Core i5-13500",
                    ram="16 GB",
                    storage="512 GB SSD",
                    psu="260 W, 80 PLUS Bronze",
                    warranty_type="on-site",
                    **common,
                )
            ],
        ),
        "b-mekong-it": (
            header(
                "Mekong IT Solutions",
                "K002-100998877",
                "MIT/2026/0460",
                "2026-10-30",
                "2026-12-29",
                "KHR",
                "no",
            ),
            [
                line(
                    "PC-1",
                    "Lenovo ThinkCentre neo 50s Gen 4 + monitor",
                    "Lenovo ThinkCentre neo 50s G4",
                    30,
                    "set",
                    2650000,
                    None,
                    "3 years",
                    21,
                    cpu="Core i3-13100",
                    ram="8 GB",
                    storage="256 GB SSD",
                    psu="180 W 85%",
                    warranty_type="carry-in",
                    **common,
                )
            ],
        ),
        "c-sokha-computer": (
            header(
                "Sokha Computer Trading",
                "K003-443322110",
                "SCT-890",
                "2026-10-31",
                "2026-12-31",
                "USD",
                "yes",
            ),
            [
                line(
                    "PC-1",
                    "HP Pro Tower 400 G9 + P24 G5 (VAT incl.)",
                    "HP Pro Tower 400 G9",
                    30,
                    "set",
                    781,
                    None,
                    "36 months",
                    28,
                    cpu="Core i5-12500",
                    ram="16 GB",
                    storage="512 GB NVMe",
                    psu="80 PLUS Gold 260 W",
                    warranty_type="on-site",
                    **common,
                )
            ],
        ),
    }
    write("desktop", "desktop", doc, vendors)


def tablet() -> None:
    rid = "KAPE-RFQ-2026-013"
    doc = rfq(
        rid,
        "Student tablets for reading corners",
        "tablet",
        [
            {
                "id": "1",
                "name": "Tablets",
                "lines": [
                    {
                        "item": "TAB-1",
                        "description": "10-inch tablet with rugged case",
                        "quantity": 120,
                        "unit": "pcs",
                    }
                ],
            }
        ],
    )
    vendors = {
        "a-mekong-mobile": (
            header("Mekong Mobile", "K401-100200300", "MM-4410", "2026-10-29", "2026-12-29"),
            [
                line(
                    "TAB-1",
                    "Samsung Galaxy Tab A9+",
                    "Samsung SM-X210",
                    120,
                    "pcs",
                    189,
                    None,
                    "12 months",
                    14,
                    ram="4 GB",
                    storage="64 GB",
                    display="11 inch",
                    resolution="1920x1200",
                    battery="7040 mAh",
                    wifi="Wi-Fi 5",
                    os="Android 14",
                    mdm="yes (Knox, Android Enterprise)",
                    case="no",
                )
            ],
        ),
        "b-smart-link": (
            header(
                "Smart Link Cambodia", "K302-220033445", "SLC-Q-1190", "2026-10-30", "2026-12-30"
            ),
            [
                line(
                    "TAB-1",
                    "Lenovo Tab M10 (3rd gen)",
                    "Lenovo TB328FU",
                    120,
                    "pcs",
                    149,
                    None,
                    "24 months",
                    21,
                    ram="4GB",
                    storage="64GB",
                    display='10.1"',
                    resolution="1920x1200",
                    battery="5100 mAh",
                    wifi="802.11ac",
                    os="Android 11",
                    mdm="yes",
                    case="yes, rugged kids case",
                )
            ],
        ),
        "c-sokha-computer": (
            header(
                "Sokha Computer Trading",
                "K003-443322110",
                "SCT-891",
                "2026-10-31",
                "2026-12-31",
                "KHR",
                "no",
            ),
            [
                line(
                    "TAB-1",
                    "Xiaomi Redmi Pad SE",
                    "Xiaomi Redmi Pad SE",
                    120,
                    "pcs",
                    760000,
                    None,
                    "12 months",
                    10,
                    ram="6 GB",
                    storage="128 GB",
                    display="11 in",
                    resolution="1920x1200",
                    battery="8000 mAh",
                    wifi="Wi-Fi 5",
                    os="Android 13 (MIUI Pad 14)",
                    mdm="Android Enterprise: yes",
                    case="yes",
                )
            ],
        ),
    }
    write("tablet", "tablet", doc, vendors)


def switch() -> None:
    rid = "KAPE-RFQ-2026-020"
    doc = rfq(
        rid,
        "PoE+ access switches for school racks",
        "switch",
        [
            {
                "id": "1",
                "name": "Switches",
                "lines": [
                    {
                        "item": "SW-1",
                        "description": "24-port Gigabit PoE+ managed switch",
                        "quantity": 12,
                        "unit": "pcs",
                    }
                ],
            }
        ],
    )
    vendors = {
        "a-mekong-networks": (
            header(
                "Mekong Networks Co., Ltd.",
                "K301-110022334",
                "MN-2026-775",
                "2026-10-28",
                "2026-12-31",
            ),
            [
                line(
                    "SW-1",
                    "TP-Link Omada SG3428MP",
                    "TP-Link SG3428MP",
                    12,
                    "pcs",
                    455,
                    None,
                    "5 years",
                    14,
                    ports="24 ports",
                    port_speed="1 Gbps",
                    poe_budget="384 W",
                    poe_standard="802.3at",
                    sfp="4 ports",
                    vlan="yes",
                    snmp="yes",
                    rack_mount="yes",
                )
            ],
        ),
        "b-khmer-telecom": (
            header(
                "Khmer Telecom Supply",
                "K303-330044556",
                "KTS-2026-210",
                "2026-10-31",
                "2026-12-31",
                "KHR",
                "no",
            ),
            [
                line(
                    "SW-1",
                    "Ruijie Reyee RG-ES226GC-P",
                    "Ruijie RG-ES226GC-P",
                    12,
                    "pcs",
                    1230000,
                    None,
                    "3 years",
                    21,
                    ports="24 ports",
                    port_speed="Gigabit",
                    poe_budget="370 W",
                    poe_standard="802.3at",
                    sfp="2 ports",
                    vlan="yes",
                    snmp="yes",
                    rack_mount="yes",
                )
            ],
        ),
        "c-smart-link": (
            header(
                "Smart Link Cambodia",
                "K302-220033445",
                "SLC-Q-1195",
                "2026-10-30",
                "2026-12-30",
                "USD",
                "yes",
            ),
            [
                line(
                    "SW-1",
                    "Ubiquiti USW-24-PoE (VAT incl.)",
                    "Ubiquiti USW-24-POE",
                    12,
                    "pcs",
                    429,
                    None,
                    "1 year",
                    21,
                    ports="24 ports",
                    port_speed="1 Gbps",
                    poe_budget="95 W",
                    poe_standard="802.3at",
                    sfp="2 ports",
                    vlan="yes",
                    snmp="yes",
                    rack_mount="yes",
                )
            ],
        ),
    }
    write("switch", "switch", doc, vendors)


def nvr() -> None:
    rid = "KAPE-RFQ-2026-018"
    doc = rfq(
        rid,
        "Network video recorders with disks",
        "nvr",
        [
            {
                "id": "1",
                "name": "NVRs",
                "lines": [
                    {
                        "item": "NVR-1",
                        "description": "16-channel NVR with 8 TB disks",
                        "quantity": 12,
                        "unit": "pcs",
                    }
                ],
            }
        ],
    )
    vendors = {
        "a-angkor-security": (
            header(
                "Angkor Security Systems",
                "K201-660055778",
                "ASS-Q-2026-333",
                "2026-10-29",
                "2026-12-28",
            ),
            [
                line(
                    "NVR-1",
                    "Hikvision DS-7616NXI-K2/16P + 2x4TB WD Purple",
                    "Hikvision DS-7616NXI-K2/16P",
                    12,
                    "pcs",
                    545,
                    None,
                    "24 months",
                    21,
                    channels="16 ch",
                    bandwidth="160 Mbps",
                    max_resolution="12 MP",
                    hdd_bays="2 bays",
                    storage_included="2 x 4 TB = 8 TB",
                    onvif="Profile S, Profile G",
                    poe_ports="16 ports",
                    raid="no",
                )
            ],
        ),
        "b-cam-vision": (
            header("Cam Vision Co., Ltd.", "K202-770066889", "CV-1031", "2026-10-30", "2026-12-30"),
            [
                line(
                    "NVR-1",
                    "Dahua NVR4216-16P-4KS2/L + 2x4TB",
                    "Dahua NVR4216-16P-4KS2/L",
                    12,
                    "pcs",
                    498,
                    None,
                    "3 years",
                    14,
                    channels="16 channels",
                    bandwidth="160Mbps",
                    max_resolution="16MP",
                    hdd_bays="2",
                    storage_included="8 TB",
                    onvif="Profile S, Profile T",
                    poe_ports="16 ports",
                    raid="no",
                )
            ],
        ),
        "c-tonle-sap-electronics": (
            header(
                "Tonle Sap Electronics",
                "K204-990088001",
                "TSE/26/0416",
                "2026-11-01",
                "2027-01-30",
                "KHR",
                "yes",
            ),
            [
                line(
                    "NVR-1",
                    "Uniview NVR302-16S2-P16 + 2x4TB (VAT incl.)",
                    "Uniview NVR302-16S2-P16",
                    12,
                    "pcs",
                    2690000,
                    None,
                    "24 months",
                    10,
                    channels="16 ch",
                    bandwidth="160 Mbps",
                    max_resolution="12MP",
                    hdd_bays="2 bays",
                    storage_included="8TB",
                    onvif="Profile S, Profile T",
                    poe_ports="16 ports",
                    raid="RAID 0, RAID 1",
                )
            ],
        ),
    }
    write("nvr", "nvr", doc, vendors)


def ups() -> None:
    rid = "KAPE-RFQ-2026-021"
    doc = rfq(
        rid,
        "UPS for computer labs and school offices",
        "ups",
        [
            {
                "id": "1",
                "name": "UPS",
                "lines": [
                    {
                        "item": "UPS-1",
                        "description": "1500 VA line-interactive UPS, 230 V",
                        "quantity": 14,
                        "unit": "pcs",
                    }
                ],
            }
        ],
    )
    vendors = {
        "a-power-plus": (
            header("Power Plus Cambodia", "K501-121212121", "PPC-3301", "2026-10-29", "2026-12-29"),
            [
                line(
                    "UPS-1",
                    "APC Smart-UPS SMT1500IC",
                    "APC SMT1500IC",
                    14,
                    "pcs",
                    610,
                    None,
                    "2 years incl. battery",
                    14,
                    capacity="1500 VA",
                    power="1000 W",
                    topology="Line-interactive",
                    avr="yes",
                    sine_wave="yes",
                    runtime_half_load="14 min",
                    outlets="8 outlets",
                    snmp="slot (SmartSlot)",
                )
            ],
        ),
        "b-khmer-office": (
            header(
                "Khmer Office Equipment Co., Ltd.",
                "K101-220011334",
                "KOE-5520",
                "2026-10-27",
                "2026-12-26",
            ),
            [
                line(
                    "UPS-1",
                    "APC Back-UPS BX1500MI",
                    "APC BX1500MI",
                    14,
                    "pcs",
                    189,
                    None,
                    "24 months",
                    7,
                    capacity="1500VA",
                    power="900W",
                    topology="line-interactive",
                    avr="yes",
                    sine_wave="no (stepped)",
                    runtime_half_load="7 min",
                    outlets="4 outlets",
                    snmp="no",
                )
            ],
        ),
        "c-sunrise-tech": (
            header(
                "Sunrise Tech Trading",
                "K104-550044667",
                "STT-065",
                "2026-11-01",
                "2026-12-31",
                "KHR",
                "yes",
            ),
            [
                line(
                    "UPS-1",
                    "Eaton 5E 1500i (VAT incl.)",
                    "Eaton 5E1500IUSB",
                    14,
                    "pcs",
                    930000,
                    None,
                    "24 months",
                    10,
                    capacity="1.5 kVA",
                    power="900 W",
                    topology="Line interactive",
                    avr="yes",
                    sine_wave="no",
                    runtime_half_load="6 min",
                    outlets="6 outlets",
                    snmp="no",
                )
            ],
        ),
    }
    write("ups", "ups", doc, vendors)


if __name__ == "__main__":
    for make in (laptop, laptop_audit, printer, camera, hotspot, desktop, tablet, switch, nvr, ups):
        make()
    print("samples written under", ROOT)
