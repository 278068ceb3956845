"""``itops probe run --only snmp`` through the probe engine: inventory devices, a secrets-file
credential, the lab address map pointing 10.30.x addresses at snmpsim on 127.0.0.1 (nothing is
sent to 10.30.x), and a second run that uses the stored previous result (counter rates)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.lab.snmp_sim import SNMPSIM_ENV, start_snmpsim
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.snmp import ensure_snmpsim, free_udp_port

REPO = Path(__file__).resolve().parents[2]
COMMUNITY = "school-community-7"
PLAN = [
    ("PRN-1", DeviceKind.PRINTER, "10.30.1.20", "printer-low-toner", "KPT-PSP-PRN01"),
    ("AP-1", DeviceKind.HOTSPOT, "10.30.1.4", "ap-clients", "KPT-PSP-AP01"),
    ("SW-1", DeviceKind.SWITCH, "10.30.1.2", "switch-uplink-down", "KPT-PSP-SW01"),
    ("NVR-1", DeviceKind.NVR, "10.30.1.30", "nvr-disk-full", "KPT-PSP-NVR99"),
]


@pytest.fixture
def agents() -> Iterator[dict[str, int]]:
    os.environ[SNMPSIM_ENV] = str(ensure_snmpsim())
    ports = {ip: free_udp_port() for _t, _k, ip, _r, _h in PLAN}
    handle = start_snmpsim(
        [("127.0.0.1", ports[ip], rec) for _t, _k, ip, rec, _h in PLAN], COMMUNITY
    )
    yield ports
    handle.stop()
    os.environ.pop(SNMPSIM_ENV, None)


def test_probe_run_only_snmp_twice(agents: dict[str, int], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("S1", {"name": "School One"})], ctx)
        repo.apply_devices(
            [
                DeviceUpsert(
                    tag,
                    {
                        "school": "S1",
                        "kind": kind,
                        "ip": ip,
                        "hostname": hostname,
                        "status": DeviceStatus.DEPLOYED,
                        "credential": "school-snmp",
                    },
                )
                for tag, kind, ip, _rec, hostname in PLAN
            ],
            ctx,
        )
    store.dispose()
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "version": 1,
                "address_map": {
                    ip: {"address": "127.0.0.1", "ports": {"snmp": port}}
                    for ip, port in agents.items()
                },
            }
        )
    )
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[school-snmp.snmp]\nversion = "2c"\ncommunity = "{COMMUNITY}"\n')
    secrets.chmod(0o600)
    args = ["--db", url, "--secrets", str(secrets), "probe", "run", "--only", "snmp", "--json"]
    runs = []
    for _ in range(2):
        r = CliRunner().invoke(
            cli,
            [*args, "--profiles", str(REPO / "probes")],
            env={"ITOPS_LAB_STATE": str(state), "ITOPS_DATA": str(REPO)},
        )
        assert r.exit_code == 2, r.output
        assert COMMUNITY not in r.output
        doc = json.loads(r.output)
        runs.append({x["asset_tag"]: x for x in doc["results"] if x["probe"] == "snmp"})
    first, second = runs
    assert set(first) == {"PRN-1", "AP-1", "SW-1", "NVR-1"}
    assert first["PRN-1"]["status"] == "crit"
    assert "Black Toner Cartridge HP 58A 4%" in first["PRN-1"]["reason"]
    assert first["AP-1"]["status"] == "ok" and first["AP-1"]["metrics"]["clients"] == 23
    assert first["SW-1"]["status"] == "crit" and "uplink down: gi8" in first["SW-1"]["reason"]
    assert first["NVR-1"]["status"] == "warn"
    assert (
        "inventory mismatch: sysName 'KPT-PSP-NVR01' but inventory hostname 'KPT-PSP-NVR99'"
        in (first["NVR-1"]["metrics"]["findings"][-1])
    )
    # The second run has the first as its previous result: rates, and no false reboot.
    assert first["SW-1"]["metrics"]["if_rates"] == {}
    assert second["SW-1"]["metrics"]["if_rates"]["gi1"]["in_bps"] == 0.0
    assert second["AP-1"]["metrics"]["rebooted"] is False
    # The simulated AP uplink carries ~1 Mbit/s in (snmpsim 'numeric' counters).
    assert 500_000 < second["AP-1"]["metrics"]["if_rates"]["ether1"]["in_bps"] < 2_000_000
