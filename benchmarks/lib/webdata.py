"""The web benchmark's inventory, collectors, discovery sweeps, configuration backups and
quotation evaluations, written through the project's repositories and services."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from webbench import (  # noqa: E402
    KINDS,
    MODELS,
    PROVINCES,
    ROOT,
    VILLAGES,
    Dev,
    Recipe,
    school_code,
)

from kape_itops.domain.discovery import HostState, SweepHost, SweepRecord  # noqa: E402
from kape_itops.domain.enums import DeviceKind, DeviceStatus, SchoolLevel  # noqa: E402
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert  # noqa: E402
from kape_itops.store.backup_repo import BackupRepo  # noqa: E402
from kape_itops.store.db import Store  # noqa: E402
from kape_itops.store.discovery_repo import record_sweeps  # noqa: E402
from kape_itops.store.inventory_repo import InventoryRepo  # noqa: E402
from kape_itops.store.models import SiteRow  # noqa: E402


def _sizes(recipe: Recipe, rng: random.Random) -> list[int]:
    """Devices per school: between half and twice the mean, summing to ``recipe.devices``."""
    mean = recipe.devices / recipe.schools
    sizes = [max(8, round(mean * rng.uniform(0.5, 1.6))) for _ in range(recipe.schools)]
    i = 0
    while sum(sizes) != recipe.devices and i < 10 * recipe.devices:
        j = i % recipe.schools
        if sum(sizes) > recipe.devices and sizes[j] > 8:
            sizes[j] -= 1
        elif sum(sizes) < recipe.devices and sizes[j] < 250:
            sizes[j] += 1
        i += 1
    return sizes


def _school(n: int) -> SchoolUpsert:
    _, province, province_km = PROVINCES[n % len(PROVINCES)]
    village, village_km = VILLAGES[(n // len(PROVINCES)) % len(VILLAGES)]
    level = SchoolLevel.SECONDARY if n % 3 == 1 else SchoolLevel.PRIMARY
    kind, kind_km = (
        ("High School", "វិទ្យាល័យ")
        if level == SchoolLevel.SECONDARY
        else ("Primary School", "សាលាបឋមសិក្សា")
    )
    return SchoolUpsert(
        school_code(n),
        {
            "name": f"{village} {kind} {n + 1}",
            "name_km": f"{kind_km}{village_km} {province_km}",
            "province": province,
            "district": f"{village} district",
            "level": level,
            "subnets": (f"10.{64 + (n >> 8)}.{n & 255}.0/24",),
        },
    )


def _plan(n: int, size: int) -> list[tuple[DeviceKind, int, str]]:
    """(kind, host number, room) of school ``n``'s ``size`` devices; desktops fill the rest."""
    out: list[tuple[DeviceKind, int, str]] = []
    for kind, first, share, rooms in KINDS:
        many = max(1, round(size * share)) if share else 1
        many = min(many, (100 - first) if kind == DeviceKind.CAMERA else 10)
        out.extend((kind, first + k, rooms[k % len(rooms)]) for k in range(many))
    host = 100
    while len(out) < size and host < 255:
        out.append((DeviceKind.DESKTOP, host, f"Lab {1 + (host - 100) // 30}"))
        host += 1
    return out[:size]


def _device(n: int, kind: DeviceKind, host: int, room: str, today: dt.date) -> DeviceUpsert:
    maker, model = MODELS[kind]
    k = n * 256 + host
    status = DeviceStatus.DEPLOYED
    if k % 97 == 13 and kind == DeviceKind.DESKTOP:
        status = DeviceStatus.IN_REPAIR
    elif k % 89 == 7 and kind == DeviceKind.DESKTOP:
        status = DeviceStatus.RETIRED
    return DeviceUpsert(
        f"{school_code(n)}-{host:03d}",
        {
            "school": school_code(n),
            "kind": kind,
            "status": status,
            "ip": f"10.{64 + (n >> 8)}.{n & 255}.{host}",
            "mac": f"02:4b:{(n >> 8) & 255:02x}:{n & 255:02x}:00:{host:02x}",
            "serial": f"{maker[:2].upper()}{k:07d}",
            "manufacturer": maker,
            "model": model,
            "hostname": f"{school_code(n).lower()}-{host:03d}",
            "funding": ("IDEAL", "ICT4E-2025", None)[k % 3],
            "purchase_date": today - dt.timedelta(days=200 + k % 1500),
            "warranty_until": today + dt.timedelta(days=k % 1400 - 300),
            "room": room,
        },
    )


def seed_inventory(store: Store, recipe: Recipe, end: dt.datetime) -> list[int]:
    """Schools and devices through InventoryRepo (change log); returns devices per school."""
    rng = random.Random(recipe.seed)
    sizes = _sizes(recipe, rng)
    ctx = ChangeContext(
        "bench", "benchmarks/web_pages.py", end - dt.timedelta(days=recipe.days + 30)
    )
    today = end.date()
    for lo in range(0, recipe.schools, 50):
        with store.write() as s:
            repo = InventoryRepo(s)
            repo.apply_schools([_school(n) for n in range(lo, min(lo + 50, recipe.schools))], ctx)
            ups = [
                _device(n, kind, host, room, today)
                for n in range(lo, min(lo + 50, recipe.schools))
                for kind, host, room in _plan(n, sizes[n])
            ]
            repo.apply_devices(ups, ctx)
    # some later edits: a move to another room and a repair note (device change history)
    later = ChangeContext("officer", "web (benchmark)", end - dt.timedelta(days=3))
    with store.write() as s:
        repo = InventoryRepo(s)
        edits = [
            DeviceUpsert(f"{school_code(n)}-100", {"room": "Library", "notes": "moved for exams"})
            for n in range(0, recipe.schools, 7)
            if sizes[n] > 40
        ]
        repo.apply_devices(edits, later)
    return sizes


def devices_of(store: Store) -> list[Dev]:
    from sqlalchemy import select

    from kape_itops.store.models import DeviceRow, SchoolRow

    with store.session() as s:
        rows = s.execute(
            select(DeviceRow.id, DeviceRow.asset_tag, DeviceRow.kind, DeviceRow.ip, SchoolRow.code)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(DeviceRow.status == DeviceStatus.DEPLOYED.value)
            .order_by(DeviceRow.id)
        ).all()
    out = []
    for i, tag, kind, ip, code in rows:
        out.append(Dev(int(i), tag, DeviceKind(kind), ip or "", int(code.split("-")[1]) - 1))
    return out


def seed_sites(store: Store, recipe: Recipe, end: dt.datetime) -> dict[int, int]:
    """One enrolled collector per school (a few silent for two days): school index → site id."""
    from sqlalchemy import select

    from kape_itops.store.models import SchoolRow

    out: dict[int, int] = {}
    with store.write() as s:
        codes = dict(s.execute(select(SchoolRow.code, SchoolRow.id)).tuples().all())
        for n in range(recipe.schools):
            code = school_code(n)
            silent = n % 97 == 11
            row = SiteRow(
                uid=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{code}.bench")),
                school_id=codes[code],
                name=f"collector-{code.lower()}",
                token_sha256=hashlib.sha256(code.encode()).hexdigest(),
                public_key="00" * 32,
                enrolled_at=end - dt.timedelta(days=recipe.days + 1),
                revoked_at=None,
                last_sync_at=end - (dt.timedelta(days=2) if silent else dt.timedelta(minutes=4)),
                clock_offset_s=0.2,
                version="1.0",
                backlog=0,
            )
            s.add(row)
            s.flush()
            out[n] = row.id
    return out


def seed_discovery(store: Store, recipe: Recipe, devs: list[Dev], end: dt.datetime) -> int:
    """Two ARP sweeps per school (a week ago, an hour ago) with unknown devices on the network
    and, in the latest, a camera missing; returns sweeps stored."""
    by_school: dict[int, list[Dev]] = {}
    for d in devs:
        by_school.setdefault(d.school, []).append(d)
    done = 0
    records: list[SweepRecord] = []
    for n in range(recipe.schools):
        school = by_school.get(n, [])
        net = f"10.{64 + (n >> 8)}.{n & 255}"
        known = [SweepHost(d.ip, None, None, d.tag, HostState.KNOWN) for d in school]
        cams = [d for d in school if d.kind == DeviceKind.CAMERA]
        gone = cams[-1].tag if cams and n % 5 == 0 else None
        unknown = [
            SweepHost(
                f"{net}.{200 + j}",
                f"24:a4:3c:{n >> 8 & 255:02x}:{n & 255:02x}:{j:02x}",
                ("Ubiquiti", "(randomised MAC)", "Hikvision", "TP-Link")[j % 4],
                None,
                HostState.UNKNOWN,
                'name IPC <b>"Lobby"</b>' if j == 2 else None,
            )
            for j in range(1 + n % 4)
        ]
        now_seen = [h for h in known if h.asset_tag != gone]
        missed = [
            SweepHost(h.ip, None, None, h.asset_tag, HostState.MISSING, "camera")
            for h in known
            if h.asset_tag == gone
        ]
        subnets = (f"{net}.0/24",)
        records.append(
            SweepRecord(
                school_code(n),
                end - dt.timedelta(days=7),
                2.4,
                "arp",
                subnets,
                "sync",
                tuple(known + unknown[:1]),
                "eth0",
            )
        )
        records.append(
            SweepRecord(
                school_code(n),
                end - dt.timedelta(hours=1),
                2.1,
                "arp",
                subnets,
                "sync",
                tuple(now_seen + missed + unknown),
                "eth0",
            )
        )
        if len(records) >= 100:
            done += len(record_sweeps(store, records))
            records = []
    done += len(record_sweeps(store, records))
    return done


def seed_backups(store: Store, devs: list[Dev], end: dt.datetime) -> int:
    """Three configuration versions (one unchanged) of every router and switch."""
    n = 0
    gear = [d for d in devs if d.kind in (DeviceKind.ROUTER, DeviceKind.SWITCH)]
    for lo in range(0, len(gear), 500):
        with store.write() as s:
            repo = BackupRepo(s)
            for d in gear[lo : lo + 500]:
                for v, days in ((0, 20), (1, 9), (1, 2)):
                    text = (
                        f"# configuration of {d.tag}, version {v}\n/system identity set name={d.tag}\n"
                        + "".join(
                            f"/interface ethernet set ether{i} comment=port{i}\n"
                            for i in range(1, 9)
                        )
                        + (f"/ip address add address={d.ip}/24 interface=bridge\n" if v else "")
                    )
                    repo.record(
                        d.id,
                        end - dt.timedelta(days=days),
                        hashlib.sha256(text.encode()).hexdigest(),
                        text,
                    )
                    n += 1
    return n


def seed_evaluations(store: Store, rounds: int) -> list[int]:
    """Every sample RFQ in quotes/ scored and stored ``rounds`` times (the audit history)."""
    from kape_itops.quotes.evaluate import Options
    from kape_itops.quotes.service import ScoreInputs, score, store_result

    ids = []
    for _ in range(rounds):
        for folder in sorted((ROOT / "quotes").iterdir()):
            rfq = folder / "rfq.yaml"
            if not rfq.is_file():
                continue
            spec_id = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in rfq.read_text().splitlines()
                    if line.startswith("spec:")
                ),
                folder.name,
            )
            files = tuple(sorted(folder.glob("*.xlsx")))
            try:
                scored = score(
                    ScoreInputs(rfq, ROOT / "specs" / f"{spec_id}.yaml", files),
                    Options(),
                    "reviewer",
                )
            except Exception as exc:  # a sample made to fail: skip it
                print(f"  evaluation of {folder.name} skipped: {str(exc)[:100]}")
                continue
            ids.append(store_result(store, scored, "reviewer"))
    return ids
