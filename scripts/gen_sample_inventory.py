"""Generate the sample inventory in inventory/ (deterministic: same output on every run).

Usage: .venv/bin/python scripts/gen_sample_inventory.py [OUT_DIR]

School i (1-based, in schools.csv order) owns 10.30.i.0/24: router .1, switches .2-.3,
hotspots/APs .4-.9, printers .20-.29, NVR .30, cameras .31-.59, static PCs .100+.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20261129
TODAY = dt.date(2026, 11, 1)

# code, name, name_km, province, district, level, contact, device count
SCHOOLS = [
    (
        "KPT-PSP",
        "Prey Speu Primary School",
        "សាលាបឋមសិក្សាព្រៃស្ពឺ",
        "Kampot",
        "Chhuk",
        "primary",
        "Sok Dara (principal) 012 345 671",
        48,
    ),
    (
        "KPT-PSH",
        "Prek Sdey High School",
        "វិទ្យាល័យព្រែកស្ដី",
        "Kampot",
        "Kampong Trach",
        "secondary",
        "Chea Sophal (principal) 012 345 672",
        78,
    ),
    (
        "KPT-TCP",
        "Tuek Chhou Primary School",
        "សាលាបឋមសិក្សាទឹកឈូ",
        "Kampot",
        "Tuek Chhou",
        "primary",
        "Keo Sreymom (principal) 012 345 673",
        42,
    ),
    (
        "KPT-KTH",
        "Kampong Trach High School",
        "វិទ្យាល័យកំពង់ត្រាច",
        "Kampot",
        "Kampong Trach",
        "secondary",
        "Lim Vuthy (deputy) 012 345 674",
        72,
    ),
    (
        "KPT-BMS",
        "Banteay Meas Lower Secondary School",
        "អនុវិទ្យាល័យបន្ទាយមាស",
        "Kampot",
        "Banteay Meas",
        "secondary",
        "Touch Sokunthea (principal) 012 345 675",
        56,
    ),
    (
        "KPT-CKP",
        "Chum Kiri Preschool",
        "សាលាមត្តេយ្យជុំគិរី",
        "Kampot",
        "Chum Kiri",
        "preschool",
        "Mao Channary (head teacher) 012 345 676",
        40,
    ),
    (
        "KEP-KHS",
        "Kep High School",
        "វិទ្យាល័យកែប",
        "Kep",
        "Kep",
        "secondary",
        "Heng Rithy (principal) 012 345 677",
        64,
    ),
    (
        "KEP-DCP",
        "Damnak Chang'aeur Primary School",
        "សាលាបឋមសិក្សាដំណាក់ចង្អើរ",
        "Kep",
        "Damnak Chang'aeur",
        "primary",
        "Nhem Sovann (principal) 012 345 678",
        44,
    ),
    (
        "TKO-TKH",
        "Tram Kak High School",
        "វិទ្យាល័យត្រាំកក់",
        "Takeo",
        "Tram Kak",
        "secondary",
        "Pich Bopha (principal) 012 345 679",
        70,
    ),
    (
        "TKO-ABP",
        "Angkor Borei Primary School",
        "សាលាបឋមសិក្សាអង្គរបុរី",
        "Takeo",
        "Angkor Borei",
        "primary",
        "Chan Dara (principal) 012 345 680",
        46,
    ),
    (
        "KSP-KPH",
        "Kong Pisei High School",
        "វិទ្យាល័យគងពិសី",
        "Kampong Speu",
        "Kong Pisei",
        "secondary",
        "Ouk Sambath (principal) 012 345 681",
        66,
    ),
    (
        "KSP-TTC",
        "Kampong Speu Teacher Training Centre",
        "មជ្ឈមណ្ឌលគរុកោសល្យខេត្តកំពង់ស្ពឺ",
        "Kampong Speu",
        "Chbar Mon",
        "higher",
        "Seng Vanna (director) 012 345 682",
        80,
    ),
]


@dataclass(frozen=True)
class Model:
    """A device model: who makes it, what it costs, its OUI and probe settings."""

    kind: str
    manufacturer: str
    model: str
    usd: int
    oui: str | None
    serial: str
    warranty_years: int
    platform: str = ""
    probes: str = ""
    credential: str = ""


MODELS = {
    "laptop": [
        Model("laptop", "Lenovo", "ThinkPad E14 Gen 5", 720, "54:ee:75", "PF{:06X}", 3),
        Model("laptop", "Dell", "Latitude 3540", 690, "f8:bc:12", "{:07X}", 3),
        Model("laptop", "Acer", "TravelMate P214", 560, "b8:ae:ed", "NXVR{:08X}", 1),
    ],
    "desktop": [
        Model("desktop", "HP", "ProDesk 400 G9 SFF", 640, "3c:52:82", "4CE{:07X}", 3),
        Model("desktop", "Lenovo", "ThinkCentre M70s", 610, "98:fa:9b", "MJ{:06X}", 3),
    ],
    "tablet": [
        Model("tablet", "Samsung", "Galaxy Tab A8", 230, "8c:79:f5", "R9TT{:07X}", 1),
        Model("tablet", "Lenovo", "Tab M10 Plus", 210, "54:ee:75", "HA{:06X}", 1),
    ],
    "printer": [
        Model(
            "printer",
            "HP",
            "LaserJet Pro M404dn",
            310,
            "3c:52:82",
            "PHB{:07X}",
            1,
            "",
            "ping snmp",
            "school-default",
        ),
        Model(
            "printer",
            "Epson",
            "L3250",
            190,
            "64:eb:8c",
            "X8L{:06X}",
            2,
            "",
            "ping snmp",
            "school-default",
        ),
    ],
    "hotspot": [
        Model(
            "hotspot",
            "TP-Link",
            "EAP225",
            75,
            "50:c7:bf",
            "22{:09d}",
            3,
            "",
            "ping snmp",
            "school-default",
        ),
        Model(
            "hotspot",
            "Ubiquiti",
            "U6 Lite",
            110,
            "24:5a:4c",
            "U6L{:09X}",
            1,
            "linux",
            "ping snmp ssh",
            "school-default",
        ),
    ],
    "switch": [
        Model(
            "switch",
            "Cisco",
            "CBS250-24T-4G",
            320,
            "70:10:5c",
            "PSZ{:08X}",
            5,
            "cisco_s300",
            "ping snmp",
            "school-default",
        ),
        Model(
            "switch",
            "Cisco",
            "Catalyst C1000-8T-2G-L",
            410,
            "00:1b:54",
            "FOC{:08X}",
            5,
            "cisco_ios",
            "ping snmp ssh",
            "school-default",
        ),
        Model(
            "switch",
            "TP-Link",
            "TL-SG2210P",
            140,
            "50:c7:bf",
            "21{:09d}",
            5,
            "tplink_jetstream",
            "ping snmp ssh",
            "school-default",
        ),
    ],
    "router": [
        Model(
            "router",
            "MikroTik",
            "hAP ac2",
            75,
            "4c:5e:0c",
            "HEB08{:06X}",
            1,
            "mikrotik_routeros",
            "ping snmp ssh",
            "school-default",
        ),
        Model(
            "router",
            "MikroTik",
            "RB4011iGS+RM",
            220,
            "b8:69:f4",
            "D4{:08X}",
            1,
            "mikrotik_routeros",
            "ping snmp ssh",
            "school-default",
        ),
    ],
    "camera": [
        Model(
            "camera",
            "Hikvision",
            "DS-2CD1043G2-I",
            62,
            "44:19:b6",
            "DS-2CD1043G2-I2023{:09d}",
            2,
            "",
            "ping onvif",
            "cameras",
        ),
        Model(
            "camera",
            "Hikvision",
            "DS-2CD1143G2-I",
            70,
            "c0:56:e3",
            "DS-2CD1143G2-I2024{:09d}",
            2,
            "",
            "ping onvif",
            "cameras",
        ),
    ],
    "nvr": [
        Model(
            "nvr",
            "Hikvision",
            "DS-7608NI-K2",
            180,
            "bc:ba:c2",
            "DS-7608NI-K2{:012d}",
            2,
            "",
            "ping snmp onvif",
            "cameras",
        ),
    ],
    "ups": [
        Model("ups", "APC", "Back-UPS BX1100LI-MS", 120, None, "3B{:10d}", 2),
        Model("ups", "APC", "Back-UPS BX650LI-MS", 75, None, "4B{:10d}", 2),
    ],
    "other": [
        Model("other", "Epson", "EB-X51 projector", 480, None, "X7{:08X}", 2),
        Model(
            "other",
            "Raspberry Pi",
            "Raspberry Pi 4 Model B (offline content server)",
            85,
            "dc:a6:32",
            "RPI4{:08X}",
            1,
            "linux",
            "ping ssh",
            "school-default",
        ),
    ],
}

VENDORS = [
    "PTC Computer, Phnom Penh",
    "Khmer Computer Co., Ltd.",
    "iOne Cambodia",
    "Brilliant Computer Kampot",
    "Kampot Digital Shop",
]
FUNDING = [
    "IDEAL",
    "IDEAL",
    "AI Ready ASEAN",
    "AI Ready ASEAN",
    "School budget",
    "Community donation",
]
USD_TO_KHR = 4100


def counts(total: int, level: str, rng: random.Random) -> dict[str, int]:
    """Devices per kind for a school of ``total`` devices."""
    c = {
        "router": 1,
        "switch": 2 if total >= 60 else 1,
        "hotspot": rng.randint(2, 5),
        "printer": rng.randint(1, 3),
        "nvr": 1,
        "camera": rng.randint(4, 10),
        "ups": rng.randint(2, 4),
        "other": rng.randint(1, 2),
    }
    rest = total - sum(c.values())
    share = {
        "preschool": (0.2, 0.2),
        "primary": (0.45, 0.25),
        "secondary": (0.5, 0.35),
        "higher": (0.55, 0.35),
    }
    lap, desk = share[level]
    c["laptop"] = round(rest * lap)
    c["desktop"] = round(rest * desk)
    c["tablet"] = rest - c["laptop"] - c["desktop"]
    return c


def rooms_for(kind: str, n: int, rng: random.Random) -> str:
    """The room a device of this kind sits in."""
    if kind in ("router", "switch", "nvr"):
        return "Server Cabinet"
    if kind == "hotspot":
        return ["Computer Lab", "Library", "Office", "Teacher Room", "Classroom 1", "Classroom 3"][
            n % 6
        ]
    if kind == "camera":
        return ["Gate", "Corridor", "Computer Lab", "Library", "Playground", "Office"][n % 6]
    if kind == "printer":
        return ["Office", "Library", "Teacher Room"][n % 3]
    if kind in ("desktop",):
        return "Computer Lab" if rng.random() < 0.8 else "Office"
    if kind == "ups":
        return ["Server Cabinet", "Computer Lab", "Office", "Library"][n % 4]
    if kind == "other":
        return "Library" if n % 2 else "Classroom 2"
    return rng.choice(["Computer Lab", "Computer Lab", "Library", f"Classroom {rng.randint(1, 6)}"])


def generate(out: Path) -> tuple[int, int]:
    """Write schools.csv and devices.csv to ``out``; returns (schools, devices)."""
    rng = random.Random(SEED)  # noqa: S311 - sample data, not secrets
    out.mkdir(parents=True, exist_ok=True)
    used_macs: set[str] = set()
    serial_no = 0
    with (out / "schools.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "code",
                "name",
                "name_km",
                "province",
                "district",
                "level",
                "subnets",
                "contact",
                "credential",
            ]
        )
        for i, (code, name, km, prov, dist, level, contact, _n) in enumerate(SCHOOLS, 1):
            w.writerow(
                [code, name, km, prov, dist, level, f"10.30.{i}.0/24", contact, "school-default"]
            )
    columns = [
        "asset_tag",
        "school",
        "kind",
        "manufacturer",
        "model",
        "serial",
        "mac",
        "ip",
        "hostname",
        "room",
        "status",
        "funding",
        "purchase_date",
        "vendor",
        "unit_price",
        "currency",
        "warranty_until",
        "notes",
        "platform",
        "probes",
        "credential",
    ]
    total = 0
    with (out / "devices.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for i, (code, _name, _km, _prov, _dist, level, _contact, n_devices) in enumerate(
            SCHOOLS, 1
        ):
            short = code.split("-")[1].lower()
            seq = 0
            next_ip = {"switch": 2, "hotspot": 4, "printer": 20, "camera": 31, "desktop": 100}
            school_funding = "IDEAL" if i % 2 else "AI Ready ASEAN"
            for kind, n in counts(n_devices, level, rng).items():
                for k in range(n):
                    seq += 1
                    total += 1
                    serial_no += 1
                    m = rng.choice(MODELS[kind])
                    mac = ""
                    if m.oui:
                        while not mac or mac in used_macs:
                            mac = (
                                m.oui
                                + ":"
                                + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
                            )
                        used_macs.add(mac)
                    ip = hostname = ""
                    if kind == "router":
                        ip, hostname = f"10.30.{i}.1", f"{short}-rtr1"
                    elif kind == "nvr":
                        ip, hostname = f"10.30.{i}.30", f"{short}-nvr1"
                    elif kind in ("switch", "hotspot", "printer", "camera"):
                        ip = f"10.30.{i}.{next_ip[kind]}"
                        next_ip[kind] += 1
                        prefix = {
                            "switch": "sw",
                            "hotspot": "ap",
                            "printer": "prn",
                            "camera": "cam",
                        }[kind]
                        hostname = f"{short}-{prefix}{k + 1}"
                    elif kind == "desktop" and rng.random() < 0.7:
                        ip = f"10.30.{i}.{next_ip['desktop']}"
                        next_ip["desktop"] += 1
                        hostname = f"{short}-pc{k + 1:02d}"
                    year = rng.choices(range(2019, 2027), weights=[1, 1, 2, 3, 5, 7, 9, 6])[0]
                    last = TODAY if year == TODAY.year else dt.date(year, 12, 31)
                    bought = dt.date(year, 1, 1) + dt.timedelta(
                        days=rng.randrange((last - dt.date(year, 1, 1)).days)
                    )
                    warranty = (
                        bought.replace(year=bought.year + m.warranty_years)
                        if not (bought.month == 2 and bought.day == 29)
                        else bought.replace(year=bought.year + m.warranty_years, day=28)
                    )
                    r = rng.random()
                    status = "deployed"
                    notes = ""
                    if r < 0.05:
                        status, notes = (
                            "in_repair",
                            rng.choice(
                                [
                                    "Screen cracked, sent to vendor",
                                    "Battery swollen, waiting for part",
                                    "Does not power on",
                                ]
                            ),
                        )
                    elif r < 0.10:
                        status, notes = "in_stock", "Spare, kept in the office cupboard"
                    elif r < 0.14 and bought.year <= 2021:
                        status, notes = "retired", "Retired: beyond economic repair"
                    elif r < 0.15:
                        status, notes = "lost", "Reported missing after school holiday"
                    if status != "deployed" and kind in ("router", "nvr"):
                        status, notes = "deployed", ""
                    funding = school_funding if rng.random() < 0.6 else rng.choice(FUNDING)
                    price = m.usd * rng.uniform(0.9, 1.1)
                    currency = "USD"
                    if (
                        kind in ("ups", "other") and rng.random() < 0.6
                    ) or funding == "Community donation":
                        currency = "KHR"
                        price_text = f"{round(price * USD_TO_KHR, -3):.2f}"
                    else:
                        price_text = f"{price:.2f}"
                    model_serial = m.serial.format(serial_no * 7919 + rng.randrange(1000))
                    w.writerow(
                        [
                            f"{code}-{seq:03d}",
                            code,
                            kind,
                            m.manufacturer,
                            m.model,
                            model_serial,
                            mac,
                            ip,
                            hostname,
                            rooms_for(kind, k, rng),
                            status,
                            funding,
                            bought.isoformat(),
                            rng.choice(VENDORS),
                            price_text,
                            currency,
                            warranty.isoformat(),
                            notes,
                            m.platform,
                            m.probes,
                            m.credential,
                        ]
                    )
    return len(SCHOOLS), total


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "inventory"
    )
    schools, devices = generate(target)
    print(f"wrote {schools} schools and {devices} devices to {target}")
