"""Generate the sample inventory in inventory/ (deterministic: same output on every run).

Usage, from the repository root: .venv/bin/python -m tools.samples.inventory [OUT_DIR]. The
schools, device models, vendors and funding sources are data: tools/samples/inventory.yaml.

School i (1-based, in schools.csv order) owns 10.30.i.0/24: router .1, switches .2-.3,
hotspots/APs .4-.9, printers .20-.29, NVR .30, cameras .31-.59, static PCs .100+.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from tools.samples.common import REPO, load_data, target

SEED = 20261129
TODAY = dt.date(2026, 11, 1)


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


DATA = load_data("inventory.yaml")
SCHOOL_FIELDS = ("code", "name", "name_km", "province", "district", "level", "contact", "devices")
SCHOOLS = [tuple(s[k] for k in SCHOOL_FIELDS) for s in DATA["schools"]]
MODELS = {kind: [Model(kind, **m) for m in models] for kind, models in DATA["models"].items()}
VENDORS: list[str] = DATA["vendors"]
FUNDING: list[str] = DATA["funding"]
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


def main() -> None:
    out = target(REPO / "inventory")
    schools, devices = generate(out)
    print(f"wrote {schools} schools and {devices} devices to {out}")


if __name__ == "__main__":
    main()
