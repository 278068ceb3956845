"""``itops discover``: a real ARP sweep (and a ping sweep) into a namespace the test builds."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.discovery.sweep import discover
from kape_itops.domain.discovery import HostState
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.problems import ProblemKind, Severity
from kape_itops.inventory.service import Inventory
from kape_itops.lab.netns import NetnsLab, Segment
from kape_itops.reports.build import build_report
from kape_itops.reports.model import Period, to_dict
from kape_itops.reports.render_csv import write_csv
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo
from kape_itops.store.inventory_repo import InventoryRepo
from tests.support.netns import LINK_SPACE, free_prefix, netns_lab
from tests.support.unprivileged import Unprivileged

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


def test_sweeps_are_stored_and_the_report_lists_unknown_devices(
    netns_lab: NetnsLab, tmp_path: Path
) -> None:
    seg, link = _network(netns_lab)
    base = seg.link.network_address
    url = f"sqlite:///{tmp_path / 'itops.db'}"
    store = _inventory(url, seg, link)
    runner = CliRunner()
    args = ["--db", url, "--actor", "tech1", "discover", "--school", "KPT-PSP"]
    args += ["--interface", seg.host_if, "--method", "arp", "--window", "1", "--json"]
    result = runner.invoke(cli, [*args, "--no-record"])
    assert result.exit_code == 1 and json.loads(result.output)["sweep_id"] is None
    with store.session() as s:
        assert DiscoveryRepo(s).sweeps() == []
    ids = []
    for _ in range(2):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, result.output
        ids.append(json.loads(result.output)["sweep_id"])
    with store.session() as s:
        sweeps = DiscoveryRepo(s).sweeps("KPT-PSP")
    assert [w.id for w in sweeps] == ids[::-1]
    first, latest = sweeps[1], sweeps[0]
    assert (latest.method, latest.actor, latest.subnets) == ("arp", "tech1", (link,))
    assert latest.interface == seg.host_if
    hosts = {(h.ip, h.state): h for h in latest.hosts}
    assert hosts[(str(base + 10), HostState.KNOWN)].asset_tag == "CAM-OK"
    assert hosts[(str(base + 11), HostState.MAC_CHANGED)].asset_tag == "RTR-NEWMAC"
    moved = hosts[(str(base + 12), HostState.IP_CHANGED)]
    assert moved.asset_tag == "CAM-MOVED" and moved.detail == f"inventory IP {base + 20}"
    ubnt = hosts[(str(base + 13), HostState.UNKNOWN)]
    assert (ubnt.mac, ubnt.vendor, ubnt.asset_tag) == (UBNT, "Ubiquiti", None)
    gone = hosts[(str(base + 25), HostState.MISSING)]
    assert gone.asset_tag == "CAM-GONE" and gone.mac == "44:19:b6:00:00:25"
    assert latest.counts == {
        "seen": 5,  # four hosts and the namespace's own veth
        "known": 1,
        "unknown": 2,
        "ip_changed": 1,
        "mac_changed": 1,
        "missing": 1,
    }
    inv = Inventory(store, "test")
    assert inv.device("CAM-MOVED").ip == str(base + 20)  # recording is not accepting

    now = dt.datetime.now(dt.UTC)
    rep = build_report(store, Period(now - dt.timedelta(hours=1), now))
    unknown = {p.part: p for p in rep.problems if p.kind == ProblemKind.UNKNOWN_DEVICE}
    assert len(unknown) == 2 and unknown[UBNT].severity == Severity.WARN
    assert unknown[UBNT].detail == f"MAC {UBNT} at {base + 13}, vendor Ubiquiti (arp sweep)"
    assert unknown[UBNT].since == first.started_at and unknown[UBNT].school == "KPT-PSP"
    missing = [p for p in rep.problems if p.kind == ProblemKind.MISSING_FROM_NETWORK]
    assert [(p.asset_tag, p.severity, p.since) for p in missing] == [
        ("CAM-GONE", Severity.INFO, first.started_at)
    ]
    assert [(w.school, w.method, w.counts["unknown"]) for w in rep.discovery] == [
        ("KPT-PSP", "arp", 2)
    ]
    assert f"MAC {UBNT} at {base + 13}, vendor Ubiquiti" in render_html(rep)
    assert "vendor Ubiquiti" in render_md(rep)
    doc = to_dict(rep)
    assert any(p["part"] == UBNT for p in doc["problems"]) and doc["discovery"][0]["scope"] == (
        "network"
    )
    write_csv(rep, tmp_path / "csv")
    with (tmp_path / "csv" / "problems.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "unknown_device"]
    assert any(UBNT in r["detail"] and r["severity"] == "warn" for r in rows)
    result = runner.invoke(cli, ["--db", url, "report", "health", "--since", "1h"])
    assert result.exit_code == 0 and "discovery KPT-PSP: arp sweep" in result.stdout
    assert "unknown" in result.stdout and "Ubiquiti" in result.stdout
    result = runner.invoke(cli, ["--db", url, "report", "problems", "--since", "1h", "--json"])
    listed = {p["part"]: p for p in json.loads(result.stdout) if p["kind"] == "unknown_device"}
    assert result.exit_code == 0 and listed[UBNT]["since"] == first.started_at.isoformat()

    ctx = ChangeContext("test", "test", dt.datetime.now(dt.UTC))
    with store.session() as s:
        InventoryRepo(s).apply_devices(
            [
                DeviceUpsert(
                    "AP-NEW", {"kind": DeviceKind.HOTSPOT, "school": "KPT-PSP", "mac": UBNT}
                )
            ],
            ctx,
        )
    rep = build_report(store, Period(now - dt.timedelta(hours=1), now))
    parts = {p.part for p in rep.problems if p.kind == ProblemKind.UNKNOWN_DEVICE}
    assert UBNT not in parts and len(parts) == 1  # now in the inventory: no longer reported
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


def test_unprivileged_falls_back_to_ping_sweep_and_says_so(unprivileged: Unprivileged) -> None:
    import shutil
    import tempfile

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
        proc = unprivileged.run("--db", url, "discover", "--school", "KPT-PSP", "--json", cwd=work)
        assert proc.returncode == 1, proc.stderr
        assert "ARP sweeps need root: using a ping sweep" in proc.stderr
        report = json.loads(proc.stdout)["report"]
        assert report["method"] == "ping"
        assert [u["ip"] for u in report["result"]["unknown"]] == [
            f"127.0.0.{h}" for h in range(1, 7)
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
