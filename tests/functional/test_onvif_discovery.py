"""WS-Discovery with real UDP: a directed probe on loopback, and multicast inside a private netns."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli.discover_onvif import discover_onvif
from kape_itops.discovery.wsdiscovery import discover
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.problems import ProblemKind
from kape_itops.errors import UsageError
from kape_itops.lab.onvif_sim import SimEndpoint, WsdResponder
from kape_itops.reports.build import build_report
from kape_itops.reports.model import Period
from kape_itops.reports.render_html import render_html
from kape_itops.reports.render_md import render_md
from kape_itops.store.db import Store
from kape_itops.store.discovery_repo import DiscoveryRepo
from kape_itops.store.inventory_repo import InventoryRepo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def responder() -> Iterator[WsdResponder]:
    r = WsdResponder(
        [
            SimEndpoint(address="127.0.0.1", port=8080, serial="CAM-A"),
            SimEndpoint(address="127.0.0.2", port=8080, serial="CAM-B", model="DS-2CD2143G2-I"),
            SimEndpoint(address="127.0.0.3", port=8080, serial="ODD-C"),
        ]
    )
    yield r
    r.stop()


def test_directed_probe_on_loopback(responder: WsdResponder) -> None:
    found = asyncio.run(discover("lo", 0.5, ("127.0.0.1", responder.port)))
    assert [f.endpoint for f in found] == [
        "urn:uuid:sim-CAM-A",
        "urn:uuid:sim-CAM-B",
        "urn:uuid:sim-ODD-C",
    ]
    assert found[1].address == "127.0.0.2"
    assert found[1].scope("hardware") == "DS-2CD2143G2-I" and found[1].scope("name") == "Hikvision"
    assert responder.probes >= 1


def test_nobody_answers_gives_an_empty_list(responder: WsdResponder) -> None:
    responder.stop()
    assert asyncio.run(discover("lo", 0.3, ("127.0.0.1", responder.port))) == []


def test_unknown_interface_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no interface 'nope0'"):
        asyncio.run(discover("nope0", 0.3))
    with pytest.raises(UsageError, match="bad interface name"):
        asyncio.run(discover("../etc", 0.3))


def seed(url: str) -> None:
    store = Store(url)
    store.upgrade()
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    live = DeviceStatus.DEPLOYED
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools([SchoolUpsert("S1", {"name": "School One"})], ctx)
        repo.apply_devices(
            [
                DeviceUpsert(
                    "CAM-1",
                    {"school": "S1", "kind": DeviceKind.CAMERA, "ip": "127.0.0.1", "status": live},
                ),
                DeviceUpsert(
                    "PRN-1",
                    {"school": "S1", "kind": DeviceKind.PRINTER, "ip": "127.0.0.3", "status": live},
                ),
                DeviceUpsert(
                    "CAM-9",
                    {"school": "S1", "kind": DeviceKind.CAMERA, "ip": "127.0.0.9", "status": live},
                ),
            ],
            ctx,
        )
    store.dispose()


def test_discover_onvif_diffs_with_inventory(responder: WsdResponder, sqlite_url: str) -> None:
    seed(sqlite_url)
    args = ["-i", "lo", "--timeout", "0.5", "--to", f"127.0.0.1:{responder.port}"]
    r = CliRunner().invoke(discover_onvif, [*args, "--json"], obj=_app(sqlite_url))
    assert r.exit_code == 1, r.output
    doc = json.loads(r.output)
    assert [k["asset_tag"] for k in doc["known"]] == ["CAM-1"]
    assert [u["address"] for u in doc["unknown"]] == ["127.0.0.2"]
    assert [m["asset_tag"] for m in doc["missing"]] == ["CAM-9"]
    assert [n["asset_tag"] for n in doc["not_cameras"]] == ["PRN-1"]
    r = CliRunner().invoke(discover_onvif, args, obj=_app(sqlite_url))
    assert "UNKNOWN" in r.output and "MISSING" in r.output and "CAM-9" in r.output


def test_discover_onvif_bad_directed_address(sqlite_url: str) -> None:
    r = CliRunner().invoke(discover_onvif, ["-i", "lo", "--to", "nowhere"], obj=_app(sqlite_url))
    assert r.exit_code == 2
    assert "--to expects IPV4:PORT" in r.output


def _app(url: str) -> object:
    from kape_itops.cli.app import App, make_settings

    return App(make_settings(url, None, "tester"))


MULTICAST_SCRIPT = """
import asyncio, json
from kape_itops.lab.onvif_sim import SimEndpoint, WsdResponder
from kape_itops.discovery.wsdiscovery import discover
r = WsdResponder([SimEndpoint(port=8080, serial="M1")], bind=("127.0.0.1", 3702), group="239.255.255.250")
try:
    found = asyncio.run(discover("lo", 0.5))
finally:
    r.stop()
print(json.dumps([f.endpoint for f in found]))
"""


@pytest.mark.netns
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2 (netns)"
)
def test_multicast_probe_inside_a_private_namespace() -> None:
    """The real multicast group and port, on the namespace's own loopback only."""
    ns = f"itops-wsd-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    try:
        for cmd in (
            ["link", "set", "lo", "up"],
            ["link", "set", "lo", "multicast", "on"],
            ["route", "add", "224.0.0.0/4", "dev", "lo"],
        ):
            subprocess.run(["ip", "-n", ns, *cmd], check=True, timeout=10)
        out = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-c", MULTICAST_SCRIPT],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
        assert json.loads(out.stdout.strip().splitlines()[-1]) == ["urn:uuid:sim-M1"]
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=10)


def test_itops_discover_onvif_goes_through_the_main_command(
    responder: WsdResponder, sqlite_url: str
) -> None:
    from kape_itops.cli import cli

    seed(sqlite_url)
    args = ["--db", sqlite_url, "discover", "--onvif", "--interface", "lo", "--window", "0.5"]
    r = CliRunner().invoke(cli, [*args, "--to", f"127.0.0.1:{responder.port}", "--json"])
    assert r.exit_code == 1, r.output
    assert [m["asset_tag"] for m in json.loads(r.stdout)["missing"]] == ["CAM-9"]
    r = CliRunner().invoke(cli, [*args, "--accept"])
    assert r.exit_code == 2 and "--onvif takes" in r.stderr
    r = CliRunner().invoke(cli, ["--db", sqlite_url, "discover"])
    assert r.exit_code == 2 and "--school is required" in r.stderr


def test_onvif_sweep_is_stored_and_reported_escaped(sqlite_url: str) -> None:
    from kape_itops.cli import cli

    seed(sqlite_url)
    store = Store(sqlite_url)
    ctx = ChangeContext("tester", "seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        InventoryRepo(s).apply_schools([SchoolUpsert("S1", {"subnets": ("127.0.0.0/29",)})], ctx)
    evil = "<b>Evil&Co</b>"
    r = WsdResponder(
        [
            SimEndpoint(address="127.0.0.1", port=8080, serial="CAM-A"),
            SimEndpoint(address="127.0.0.2", port=8080, serial="EVIL", manufacturer=evil),
        ]
    )
    try:
        args = ["--db", sqlite_url, "discover", "--onvif", "--interface", "lo", "--window", "0.5"]
        args += ["--to", f"127.0.0.1:{r.port}", "--json"]
        got = CliRunner().invoke(cli, [*args, "--no-record"])
        assert got.exit_code == 1 and json.loads(got.stdout)["sweep_ids"] == []
        got = CliRunner().invoke(cli, args)
        assert got.exit_code == 1, got.output
        doc = json.loads(got.stdout)
    finally:
        r.stop()
    assert len(doc["sweep_ids"]) == 1 and doc["notes"] == []
    with store.session() as s:
        (sweep,) = DiscoveryRepo(s).sweeps()
    assert (sweep.school, sweep.method, sweep.interface) == ("S1", "onvif", "lo")
    states = sorted((h.state.value, h.asset_tag or h.ip) for h in sweep.hosts)
    assert states == [
        ("known", "CAM-1"),
        ("missing", "CAM-9"),
        ("unknown", "127.0.0.2"),
    ]
    now = dt.datetime.now(dt.UTC)
    rep = build_report(store, Period(now - dt.timedelta(hours=1), now))
    (unknown,) = [p for p in rep.problems if p.kind == ProblemKind.UNKNOWN_DEVICE]
    assert unknown.part == "127.0.0.2" and unknown.since == sweep.started_at
    assert unknown.detail.startswith(f"at 127.0.0.2 (onvif sweep); name {evil}")
    html = render_html(rep)
    assert "<b>Evil" not in html and "&lt;b&gt;Evil&amp;Co&lt;/b&gt;" in html
    assert "<b>" not in render_md(rep)
    missing = [p.asset_tag for p in rep.problems if p.kind == ProblemKind.MISSING_FROM_NETWORK]
    assert missing == ["CAM-9"]
    store.dispose()
