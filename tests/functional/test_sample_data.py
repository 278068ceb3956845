"""Every shipped inventory data file loads into both backends, with the expected counts."""

from __future__ import annotations

import collections
import csv
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kape_itops.domain.enums import DeviceKind
from kape_itops.inventory.importer import import_inventory
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

DATA = Path(__file__).resolve().parents[2] / "inventory"
SHIPPED = sorted(p for p in DATA.iterdir() if p.suffix.lower() in (".csv", ".xlsx", ".json"))


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_shipped_file_is_known() -> None:
    assert {p.name for p in SHIPPED} >= {"schools.csv", "devices.csv"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_imports_cleanly(store: Store, path: Path) -> None:
    if path.name == "devices.csv":
        import_inventory(store, DATA / "schools.csv", "test")
    report = import_inventory(store, path, "test")
    assert report.errors == 0 and report.warnings == 0
    with store.session() as s:
        repo = InventoryRepo(s)
        if path.name != "devices.csv":
            assert len(repo.schools()) == 12
        if path.name != "schools.csv":
            assert repo.count_devices() == len(rows("devices.csv"))


def test_the_folder_imports_and_reimports_without_change(store: Store) -> None:
    first = import_inventory(store, DATA, "test")
    assert [f.stats.created for f in first.files] == [12, len(rows("devices.csv"))]
    assert import_inventory(store, DATA, "test").changes == 0
    with store.session() as s:
        summary = InventoryRepo(s).summary()
    assert summary.total == len(rows("devices.csv"))


def test_sample_content_follows_the_brief() -> None:
    schools = rows("schools.csv")
    devices = rows("devices.csv")
    assert len(schools) == 12
    codes = [s["code"] for s in schools]
    assert {"KPT-PSP", "KPT-PSH"} <= set(codes)
    assert {s["province"] for s in schools} == {"Kampot", "Kep", "Takeo", "Kampong Speu"}
    assert all(any("\u1780" <= c <= "\u17ff" for c in s["name_km"]) for s in schools)
    for i, s in enumerate(schools, 1):
        assert s["subnets"] == f"10.30.{i}.0/24"
    per_school = collections.Counter(d["school"] for d in devices)
    assert set(per_school) == set(codes) and all(40 <= n <= 80 for n in per_school.values())
    assert {d["kind"] for d in devices} == {k.value for k in DeviceKind}
    assert {"in_repair", "in_stock", "retired", "deployed"} <= {d["status"] for d in devices}
    funding = collections.Counter(d["funding"] for d in devices)
    assert funding["IDEAL"] > 100 and funding["AI Ready ASEAN"] > 100 and len(funding) >= 3
    assert {d["currency"] for d in devices} == {"USD", "KHR"}
    years = {d["purchase_date"][:4] for d in devices}
    assert min(years) == "2019" and max(years) == "2026"
    assert any(d["warranty_until"] < "2026-01-01" for d in devices)
    nets = {s["code"]: ipaddress.ip_network(s["subnets"]) for s in schools}
    for d in devices:
        if d["ip"]:
            assert ipaddress.ip_address(d["ip"]) in nets[d["school"]]
        if d["kind"] in ("router", "switch", "camera", "nvr"):
            assert d["ip"] and d["probes"] and d["credential"]
        if d["kind"] in ("router", "switch"):
            assert d["platform"]
    routers = [d for d in devices if d["kind"] == "router"]
    assert all(d["ip"].endswith(".1") for d in routers) and len(routers) == 12


def test_nvrs_get_snmp_for_their_recording_disk() -> None:
    nvrs = [d for d in rows("devices.csv") if d["kind"] == "nvr"]
    assert len(nvrs) == 12
    assert {d["probes"] for d in nvrs} == {"ping snmp onvif"}
    kind = yaml.safe_load((DATA.parent / "probes" / "kinds" / "nvr.yaml").read_text())
    assert "snmp" in kind["probes"] and kind["snmp"]["profile"] == "nvr"


def test_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.samples.inventory", str(tmp_path)],
        cwd=DATA.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in ("schools.csv", "devices.csv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
