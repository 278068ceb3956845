"""``itops discover``: a real ARP sweep (and a ping sweep) into a namespace the test builds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.inventory.service import Inventory
from kape_itops.lab.netns import NetnsLab, Segment
from kape_itops.probes.discovery import discover
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.netns import LINK_SPACE, free_prefix, netns_lab

pytestmark = pytest.mark.netns
__all__ = ["netns_lab"]

HIK, MIK, DAH, UBNT = (
    "44:19:b6:00:00:10",
    "4c:5e:0c:00:00:11",
    "3c:ef:8c:00:00:12",
    "24:a4:3c:00:00:13",
)


def _network(lab: NetnsLab) -> tuple[Segment, str]:
    link = free_prefix(LINK_SPACE, 27, set())
    seg = lab.add_segment([], link)
    base = seg.link.network_address
    lab.add_lan_hosts(
        seg, {str(base + 10): HIK, str(base + 11): MIK, str(base + 12): DAH, str(base + 13): UBNT}
    )
    return seg, link


def _inventory(url: str, seg: Segment, link: str) -> Store:
    base = seg.link.network_address
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("test", "test", dt.datetime.now(dt.UTC))

    def cam(tag: str, host: int, mac: str) -> DeviceUpsert:
        return DeviceUpsert(
            tag,
            {
                "kind": DeviceKind.CAMERA,
                "school": "KPT-PSP",
                "ip": str(base + host),
                "mac": mac,
                "status": DeviceStatus.DEPLOYED,
            },
        )

    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [SchoolUpsert("KPT-PSP", {"name": "Prey Speu", "subnets": (link,)})], ctx
        )
        repo.apply_devices(
            [
                cam("CAM-OK", 10, HIK),  # matched
                cam("RTR-NEWMAC", 11, "4c:5e:0c:99:99:99"),  # MAC changed
                cam("CAM-MOVED", 20, DAH),  # IP changed (.20 -> .12)
                cam("CAM-GONE", 25, "44:19:b6:00:00:25"),  # not seen
            ],
            ctx,
        )
    return store


def test_arp_sweep_diff_and_accept(netns_lab: NetnsLab, tmp_path: Path) -> None:
    seg, link = _network(netns_lab)
    base = seg.link.network_address
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = _inventory(url, seg, link)
    runner = CliRunner()
    args = [
        "--db",
        url,
        "discover",
        "--school",
        "KPT-PSP",
        "--interface",
        seg.host_if,
        "--method",
        "arp",
        "--window",
        "1",
        "--json",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    report = doc["report"]["result"]
    assert doc["report"]["method"] == "arp" and doc["accepted"] is None
    unknown = {u["ip"]: u for u in report["unknown"]}
    assert (
        unknown[str(base + 13)]["vendor"] == "Ubiquiti" and unknown[str(base + 13)]["mac"] == UBNT
    )
    assert unknown[str(base + 2)]["vendor"] == "(randomised MAC)"  # the namespace's own veth
    assert [d["asset_tag"] for d in report["missing"]] == ["CAM-GONE"]
    changes = {(c["asset_tag"], c["field"]): (c["old"], c["new"]) for c in report["changes"]}
    assert changes == {
        ("RTR-NEWMAC", "mac"): ("4c:5e:0c:99:99:99", MIK),
        ("CAM-MOVED", "ip"): (str(base + 20), str(base + 12)),
    }
    inv = Inventory(store, "test")
    assert inv.device("CAM-MOVED").ip == str(base + 20)  # nothing written without --accept

    result = runner.invoke(cli, [*args[:-1], "--accept"])
    assert result.exit_code == 1 and "recorded 2 change(s)" in result.output
    assert inv.device("CAM-MOVED").ip == str(base + 12) and inv.device("RTR-NEWMAC").mac == MIK
    history = inv.history("CAM-MOVED")
    assert history[-1].source == "discover" and history[-1].field == "ip"

    result = runner.invoke(cli, args)
    assert json.loads(result.output)["report"]["result"]["changes"] == []
    store.dispose()


def test_ping_sweep_uses_neighbour_table(netns_lab: NetnsLab, tmp_path: Path) -> None:
    seg, link = _network(netns_lab)
    base = seg.link.network_address
    store = _inventory(f"sqlite:///{tmp_path / 'itops.db'}", seg, link)
    inv = Inventory(store, "test")
    (school,) = inv.schools()
    report = discover(school, inv.devices(), method="ping")
    macs = {o.ip: o.mac for o in report.observed}
    assert macs[str(base + 13)] == UBNT and macs[str(base + 10)] == HIK
    assert report.method == "ping"
    assert [d.asset_tag for d in report.result.missing] == ["CAM-GONE"]
    store.dispose()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--subnet", "127.0.0.0/30", "--interface", "nosuch0"],
            "interface 'nosuch0' does not exist on this machine",
        ),
        (["--subnet", "10.1.2.300/24"], "bad CIDR '10.1.2.300/24'"),
        (["--subnet", "10.0.0.0/8"], "without --force"),
    ],
)
def test_bad_input(tmp_path: Path, extra: list[str], message: str) -> None:
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("test", "test", dt.datetime.now(dt.UTC))
    with store.session() as s:
        InventoryRepo(s).apply_schools([SchoolUpsert("KPT-PSP", {"name": "Prey Speu"})], ctx)
    store.dispose()
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", url, "discover", "--school", "KPT-PSP", "--method", "arp", *extra]
    )
    assert result.exit_code == 2 and message in result.output
    result = runner.invoke(cli, ["--db", url, "discover", "--school", "KPT-PSP"])
    assert result.exit_code == 2 and "has no subnets in the inventory" in result.output
    result = runner.invoke(cli, ["--db", url, "discover", "--school", "NOPE"])
    assert result.exit_code == 1 and "school 'NOPE' does not exist" in result.output


def test_unprivileged_falls_back_to_ping_sweep_and_says_so() -> None:
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to drop to an unprivileged user")
    work = Path(tempfile.mkdtemp(prefix="itops-discover-nobody-"))
    try:
        work.chmod(0o777)
        url = f"sqlite:///{work / 'itops.db'}"
        store = Store(url)
        store.upgrade()
        ctx = ChangeContext("test", "test", dt.datetime.now(dt.UTC))
        with store.session() as s:
            InventoryRepo(s).apply_schools(
                [SchoolUpsert("KPT-PSP", {"name": "Prey Speu", "subnets": ("127.0.0.0/29",)})], ctx
            )
        store.dispose()
        (work / "itops.db").chmod(0o666)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                sys.executable,
                "-m",
                "kape_itops",
                "--db",
                url,
                "discover",
                "--school",
                "KPT-PSP",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=work,
        )
        assert proc.returncode == 1, proc.stderr
        assert "ARP sweeps need root: using a ping sweep" in proc.stderr
        report = json.loads(proc.stdout)["report"]
        assert report["method"] == "ping"
        assert [u["ip"] for u in report["result"]["unknown"]] == [
            f"127.0.0.{h}" for h in range(1, 7)
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
