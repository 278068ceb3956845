"""``itops lab up --two-tier``: a real server process, a link per school, collectors syncing
through them; ``itops lab link`` cuts, degrades and restores one school's link (loopback only)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kape_itops.lab.netns import pid_alive

REPO = Path(__file__).resolve().parents[2]
SCHOOLS = ("KEP-DCP", "KEP-KHS")


def _inventory(folder: Path, per_school: int = 6) -> None:
    """The sample inventory cut down to two schools and a few deployed devices each."""
    folder.mkdir(parents=True)
    with (REPO / "inventory" / "schools.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    with (folder / "schools.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0], *(r for r in rows[1:] if r[0] in SCHOOLS)])
    with (REPO / "inventory" / "devices.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        devices = [d for d in reader if d["school"] in SCHOOLS and d["status"] == "deployed"]
    kept = [d for s in SCHOOLS for d in [x for x in devices if x["school"] == s][:per_school]]
    with (folder / "devices.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(kept)


class Lab:
    """``itops`` processes in a scratch folder holding a two-school inventory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / ".itops-lab" / "state.json"
        self.env = {
            **os.environ,
            "ITOPS_DATA": str(root),
            "ITOPS_DB": str(root / "laptop.db"),
            "COLUMNS": "200",
        }
        for name in ("ITOPS_SECRETS", "ITOPS_LAB_STATE", "ITOPS_KNOWN_HOSTS"):
            self.env.pop(name, None)

    def itops(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kape_itops", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> str:
        proc = self.itops(*args)
        assert proc.returncode == 0, f"itops {' '.join(args)}: {proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def links(self) -> dict[str, dict[str, object]]:
        return {d["school"]: d for d in json.loads(self.ok("lab", "link", "--json"))}

    def tiers(self) -> dict[str, object]:
        return dict(json.loads(self.state.read_text())["tiers"])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    _inventory(tmp_path / "inventory")
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        pids = json.loads(lab.state.read_text())["pids"] if lab.state.exists() else []
        down = lab.itops("lab", "down")
        assert down.returncode == 0, down.stderr
        assert not [p for p in pids if pid_alive(p)], "lab down left processes running"


def _get_time(url: str) -> float:
    start = time.monotonic()
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{url}/api/docs").status_code == 200
    return time.monotonic() - start


def test_link_cut_delay_restore_per_school(lab: Lab) -> None:
    out = lab.ok("lab", "up", "--mode", "loopback", "--no-simulators", "--two-tier")
    assert "two tiers started: server http://127.0.0.1:" in out
    tiers = lab.tiers()
    server = tiers["server"]
    assert isinstance(server, dict) and pid_alive(int(server["pid"]))
    links = lab.links()
    assert sorted(links) == sorted(SCHOOLS)
    assert all(d["mode"] == "up" and d["applied"] for d in links.values())
    dcp, khs = str(links["KEP-DCP"]["url"]), str(links["KEP-KHS"]["url"])
    assert _get_time(dcp) < 1.0
    assert "two tiers: server http://127.0.0.1:" in lab.ok("lab", "status")

    assert "KEP-DCP link: cut" in lab.ok("lab", "link", "KEP-DCP", "cut")
    port = int(dcp.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert _get_time(khs) < 1.0  # the other school's link is untouched
    table = lab.ok("lab", "link")
    assert "KEP-DCP" in table and "cut" in table

    lab.ok("lab", "link", "KEP-DCP", "restore")
    lab.ok("lab", "link", "KEP-DCP", "--delay", "250", "--loss", "0")
    assert links["KEP-DCP"]["url"] == lab.links()["KEP-DCP"]["url"]  # same port after a cut
    assert lab.links()["KEP-DCP"]["delay_ms"] == 250
    assert _get_time(dcp) >= 0.5  # request and answer each wait 250 ms
    lab.ok("lab", "link", "KEP-DCP", "restore")
    assert _get_time(dcp) < 0.5

    bad = lab.itops("lab", "link", "NOPE", "cut")
    assert bad.returncode == 2 and "not a lab school" in bad.stderr
    env = lab.ok("lab", "env", "KEP-DCP")
    assert "ITOPS_DB=sqlite:///" in env and "KEP-DCP/secrets.toml" in env
    assert f"ITOPS_LAB_URL={dcp}" in env


def test_lab_down_stops_server_and_links(lab: Lab) -> None:
    lab.ok("lab", "up", "--mode", "loopback", "--no-simulators", "--two-tier")
    tiers = lab.tiers()
    pids = [int(tiers[k]["pid"]) for k in ("server", "links")]  # type: ignore[index]
    again = lab.ok("lab", "up", "--mode", "loopback", "--no-simulators", "--two-tier")
    assert "two tiers already up" in again and lab.tiers() == tiers
    lab.ok("lab", "down")
    assert not any(pid_alive(p) for p in pids)
    assert lab.itops("lab", "link").returncode == 2


def test_collector_syncs_through_its_link_and_catches_up_after_a_cut(db_url: str, lab: Lab) -> None:
    """On both server backends (db_url first: its database outlives the lab's server)."""
    lab.ok(
        "lab", "up", "--mode", "loopback", "--no-simulators", "--two-tier", "--server-db", db_url
    )
    assert lab.tiers()["server"]["db"] == db_url  # type: ignore[index]
    joined = lab.ok("lab", "join")
    assert "2 of 2 collectors joined" in joined
    again = lab.itops("lab", "join", "KEP-DCP", "--json")  # a joined site does not join twice
    assert again.returncode == 1 and json.loads(again.stdout)["KEP-DCP"] != 0
    unknown = lab.itops("lab", "join", "NOPE")
    assert unknown.returncode == 2 and "not a lab school" in unknown.stderr
    for school in SCHOOLS:
        lab.ok("lab", "on", school, "sync")
        lab.ok("lab", "on", school, "probe", "run", "--lab", "--only", "ping")
        lab.ok("lab", "on", school, "sync")

    lab.ok("lab", "link", "KEP-DCP", "cut")
    lab.itops("lab", "on", "KEP-DCP", "probe", "run", "--lab", "--only", "ping")
    offline = lab.itops("lab", "on", "KEP-DCP", "sync")
    assert offline.returncode == 3, offline.stderr  # the link is down: retry later
    assert "connection refused" in offline.stderr.lower() and "still to send" in offline.stderr
    status = json.loads(lab.ok("lab", "on", "server", "server", "status", "--json"))
    by_school = {s["school"]: s for s in status}
    assert set(by_school) == set(SCHOOLS)

    site = json.loads(lab.ok("lab", "on", "KEP-DCP", "sync", "status", "--json"))
    assert site["backlog"]["runs"] == 1  # the round measured while cut waits in its database
    held = {s["school"]: s["records"]["runs"] for s in status}
    assert held == {"KEP-DCP": 1, "KEP-KHS": 1}

    lab.ok("lab", "link", "KEP-DCP", "restore")
    lab.ok("lab", "on", "KEP-DCP", "sync")
    site = json.loads(lab.ok("lab", "on", "KEP-DCP", "sync", "status", "--json"))
    assert sum(site["backlog"].values()) == 0 and site["cursors"]["runs"] == 2
    status = json.loads(lab.ok("lab", "on", "server", "server", "status", "--json"))
    held = {s["school"]: s["records"]["runs"] for s in status}
    assert held == {"KEP-DCP": 2, "KEP-KHS": 1}  # caught up: nothing lost, nothing twice
    links = lab.links()
    assert int(links["KEP-DCP"]["stats"]["accepted"]) >= 4  # type: ignore[index]
