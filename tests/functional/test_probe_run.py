"""``itops probe run`` against real devices on loopback (real ICMP via PingProbe), both backends."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from kape_itops.cli import cli
from kape_itops.cli.probe_run import Live
from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus, RunStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.profiles import load_profiles
from kape_itops.probes.registry import ProbeRegistry
from kape_itops.probes.runner import Check, Job
from kape_itops.probes.selection import Plan
from kape_itops.probes.service import ProbeService, RunReport, RunRequest, run_rounds
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.models import ProbeRunRow
from kape_itops.store.probe_repo import ProbeRepo
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[2]
PROBES = REPO / "probes"


def seed(
    store: Store, devices: list[tuple[str, str, DeviceKind, str | None, DeviceStatus]]
) -> None:
    """Schools S1, S2 and the given (tag, school, kind, ip, status) devices."""
    ctx = ChangeContext("tester", "test seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [
                SchoolUpsert("S1", {"name": "School One"}),
                SchoolUpsert("S2", {"name": "School Two"}),
            ],
            ctx,
        )
        repo.apply_devices(
            [
                DeviceUpsert(tag, {"school": school, "kind": kind, "ip": ip, "status": status})
                for tag, school, kind, ip, status in devices
            ],
            ctx,
        )


LIVE = DeviceStatus.DEPLOYED
LOOPBACK_FLEET = [
    ("T-1", "S1", DeviceKind.PRINTER, "127.0.0.2", LIVE),
    ("T-2", "S1", DeviceKind.DESKTOP, "127.0.0.3", LIVE),
    ("T-3", "S2", DeviceKind.SWITCH, "127.0.0.4", LIVE),
    ("T-4", "S2", DeviceKind.CAMERA, "127.0.0.5", LIVE),
    ("T-OLD", "S2", DeviceKind.DESKTOP, "127.0.0.6", DeviceStatus.RETIRED),
    ("T-DHCP", "S2", DeviceKind.LAPTOP, None, LIVE),
]


def probes_copy(tmp_path: Path, overrides: str | None = None) -> Path:
    dest = tmp_path / "probes"
    shutil.copytree(PROBES / "kinds", dest / "kinds")
    shutil.copytree(PROBES / "schema", dest / "schema")
    if overrides is not None:
        (dest / "overrides.yaml").write_text(overrides)
    return dest


def invoke(runner: CliRunner, url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """``itops probe run`` with the shipped profiles and no lab unless ``env`` names one."""
    full: dict[str, str | None] = {"ITOPS_DATA": str(REPO), "ITOPS_LAB_STATE": None, **(env or {})}
    return runner.invoke(cli, ["--db", url, "probe", "run", *args], env=full)


def test_probe_run_only_ping_stores_every_result(store: Store, runner: CliRunner) -> None:
    seed(store, LOOPBACK_FLEET)
    got = invoke(runner, store.url, "--only", "ping", "--json")
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    results = doc["results"]
    assert sorted(r["asset_tag"] for r in results) == ["T-1", "T-2", "T-3", "T-4"]
    assert {r["status"] for r in results} == {"ok"}
    assert all(r["method"].startswith("icmp") or r["method"] == "tcp-connect" for r in results)
    assert all(r["metrics"]["received"] == 3 for r in results)
    assert [(s["asset_tag"], s["reason"]) for s in doc["skipped"]] == [
        ("T-DHCP", "no IP address or host name in the inventory")
    ]
    assert doc["run"]["status"] == "completed"
    assert doc["run"]["counts"] == {"ok": 4, "warn": 0, "crit": 0, "unknown": 0}
    with store.session() as s:
        repo = ProbeRepo(s)
        (run,) = repo.runs()
        assert run.status == RunStatus.COMPLETED
        assert run.finished_at is not None
        assert run.counts == {"ok": 4, "warn": 0, "crit": 0, "unknown": 0, "results": 4}
        assert run.selection["only"] == ["ping"]
        stored = repo.results(run.id)
    assert sorted((r.asset_tag, r.probe, r.status) for r in stored) == [
        (t, "ping", ProbeStatus.OK) for t in ("T-1", "T-2", "T-3", "T-4")
    ]
    assert {r.target for r in stored} == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}


def test_second_run_sees_the_previous_result(store: Store, runner: CliRunner) -> None:
    seed(store, LOOPBACK_FLEET[:2])
    assert invoke(runner, store.url, "--only", "ping").exit_code == 0
    service = ProbeService(store, "tester", load_profiles(PROBES))
    plan, _devices, ids = service.prepare(RunRequest(only=("ping",)))
    assert set(ids) == {"T-1", "T-2"}
    for job in plan.jobs:
        prev = job.checks[0].target.previous
        assert prev is not None
        assert (prev.asset_tag, prev.probe, prev.status) == (job.key, "ping", ProbeStatus.OK)


class Counting:
    """A probe double that reports a counter per target (to tell runs apart)."""

    name = "count"
    calls = 0

    async def start(self, ctx: ProbeContext) -> None:
        pass

    async def check(self, target: Target) -> ProbeResult:
        Counting.calls += 1
        seen = target.previous.metrics["n"] if target.previous else 0
        return ProbeResult(
            "count",
            target.address,
            ProbeStatus.OK,
            "counted",
            dt.datetime.now(dt.UTC),
            0.1,
            {"n": seen + 1},
        )

    async def stop(self) -> None:
        pass


def test_latest_results_per_device_and_probe(store: Store, tmp_path: Path) -> None:
    seed(store, LOOPBACK_FLEET)
    profiles = load_profiles(probes_copy(tmp_path, "devices:\n  T-1: {deadline_s: 5}\n"))
    reg = ProbeRegistry(paths={}, factories={"count": Counting})
    service = ProbeService(store, "tester", profiles, registry=reg)
    counted = RunRequest(tags=("T-1", "T-2"))
    # devices get the probe 'count' through their own probes field
    with store.session() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert(t, {"probes": ("count",)}) for t in ("T-1", "T-2")],
            ChangeContext("tester", "test", dt.datetime.now(dt.UTC)),
        )
    for _ in range(3):
        report = asyncio.run(service.run(counted))
        assert report.status == RunStatus.COMPLETED
    asyncio.run(service.run(RunRequest(tags=("T-1",))))
    with store.session() as s:
        latest = ProbeRepo(s).latest_results(["count", "ping"])
        runs = ProbeRepo(s).runs()
    assert {k: v.metrics["n"] for k, v in latest.items()} == {
        ("T-1", "count"): 4,
        ("T-2", "count"): 3,
    }
    assert [r.id for r in runs] == sorted((r.id for r in runs), reverse=True)
    assert len(runs) == 4
    assert {(r.asset_tag, r.probe) for r, _d in service.latest(["count"])} == {
        ("T-1", "count"),
        ("T-2", "count"),
    }


def test_thresholds_from_overrides_give_nagios_exit_codes(
    sqlite_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store, LOOPBACK_FLEET[:3])
    slow = probes_copy(
        tmp_path,
        "devices:\n"
        "  T-1: {ping: {thresholds: {rtt_avg_ms: {warn: 0.000001, crit: 100000}}}}\n"
        "  T-2: {ping: {thresholds: {rtt_avg_ms: {warn: 0.000001, crit: 0.000002}}}}\n",
    )
    args = ("--only", "ping", "--profiles", str(slow))
    warn = invoke(runner, sqlite_url, *args, "--tag", "T-1", "--tag", "T-3")
    assert warn.exit_code == 1, warn.output
    assert "warn" in warn.stdout and "T-1" in warn.stdout and "Problems" in warn.stdout
    crit = invoke(runner, sqlite_url, *args)
    assert crit.exit_code == 2, crit.output
    assert "CRIT" in crit.stdout
    ok = invoke(runner, sqlite_url, *args, "--tag", "T-3")
    assert ok.exit_code == 0, ok.output
    assert "Problems" not in ok.stdout
    store.dispose()


def test_lab_map_redirects_and_unmapped_addresses_are_not_probed(
    sqlite_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(
        store,
        [
            ("P-1", "S1", DeviceKind.PRINTER, "10.30.1.20", LIVE),
            ("P-2", "S1", DeviceKind.DESKTOP, "10.30.1.100", LIVE),
        ],
    )
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {"address_map": {"10.30.1.20": {"address": "127.0.0.1", "ports": {"snmp": 16161}}}}
        )
    )
    got = invoke(
        runner, sqlite_url, "--only", "ping", "--json", env={"ITOPS_LAB_STATE": str(state)}
    )
    assert got.exit_code == 3, got.output
    by_tag = {r["asset_tag"]: r for r in json.loads(got.stdout)["results"]}
    assert by_tag["P-1"]["status"] == "ok"
    assert by_tag["P-1"]["target"] == "127.0.0.1"
    assert by_tag["P-2"]["status"] == "unknown"
    assert by_tag["P-2"]["reason"] == (
        f"address 10.30.1.100 is not in the lab address map ({state}); not probed"
    )
    assert by_tag["P-2"]["metrics"] == {}
    # --lab reads the default state file under ITOPS_DATA
    lab_dir = tmp_path / "data"
    (lab_dir / ".itops-lab").mkdir(parents=True)
    shutil.copy(state, lab_dir / ".itops-lab" / "state.json")
    got = runner.invoke(
        cli,
        [
            "--db",
            sqlite_url,
            "probe",
            "run",
            "--lab",
            "--tag",
            "P-1",
            "--only",
            "ping",
            "--profiles",
            str(PROBES),
        ],
        env={"ITOPS_DATA": str(lab_dir), "ITOPS_LAB_STATE": None},
    )
    assert got.exit_code == 0, got.output
    store.dispose()


def test_prom_textfile_holds_the_latest_results(
    sqlite_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store, LOOPBACK_FLEET[:2])
    out = tmp_path / "textfile" / "itops.prom"
    out.parent.mkdir()
    got = invoke(runner, sqlite_url, "--only", "ping", "--prom", str(out))
    assert got.exit_code == 0, got.output
    text = out.read_text()
    assert (
        'itops_probe_status{asset_tag="T-1",kind="printer",probe="ping",school="S1",target="127.0.0.2"} 0'
        in text
    )
    assert "# TYPE itops_ping_rtt_avg_ms gauge" in text
    store.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--school", "NOPE"], "error: no school with code NOPE"),
        (["--tag", "T-1", "--tag", "GHOST"], "error: no device with asset tag GHOST"),
        (
            ["--only", "ping,telnet"],
            "error: unknown probe kind(s) telnet; choose from onvif, ping, snmp, ssh",
        ),
        (["--lab", "--profiles", str(PROBES)], "start the lab with 'itops lab up' first"),
        (
            ["--profiles", "/nonexistent/probes"],
            "no probe profiles: no kinds/*.yaml in /nonexistent/probes",
        ),
        (["--every", "soon"], "'soon' is not a duration"),
        (["--kind", "toaster"], "Invalid value for '--kind'"),
        (["--concurrency", "0"], "Invalid value for '--concurrency'"),
        (["--bogus"], "No such option '--bogus'"),
    ],
)
def test_usage_errors_exit_3(
    sqlite_url: str, runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store, LOOPBACK_FLEET[:1])
    got = runner.invoke(
        cli,
        ["--db", sqlite_url, "probe", "run", *args],
        env={"ITOPS_DATA": str(tmp_path if "--lab" in args else REPO), "ITOPS_LAB_STATE": None},
    )
    assert got.exit_code == 3, got.output
    assert message in got.stderr or message in got.output
    with store.session() as s:
        assert ProbeRepo(s).runs() == []
    store.dispose()


@pytest.mark.postgres
def test_unmigrated_database_is_unknown(runner: CliRunner, postgres: PostgresServer) -> None:
    url = postgres.create_database("itops_probe_run_unmigrated")  # SQLite would be created
    got = runner.invoke(cli, ["--db", url, "probe", "run"])
    postgres.drop_database("itops_probe_run_unmigrated")
    assert got.exit_code == 3
    assert "has no schema; run 'itops init'" in got.stderr


def test_nothing_to_probe_is_unknown(sqlite_url: str, runner: CliRunner) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store, LOOPBACK_FLEET[4:])
    got = invoke(runner, sqlite_url)
    assert got.exit_code == 3
    assert "no devices to probe in this selection" in got.stderr
    assert "1 device(s) not probed" in got.stdout
    store.dispose()


def test_live_progress_shows_running_counts() -> None:
    buf = io.StringIO()
    live = Live(True, Console(file=buf, force_terminal=True, width=150))
    target = Target("127.0.0.1")
    job = Job("D1", tuple(Check("ping", target) for _ in range(3)))
    live.plan(Plan(jobs=[job]))
    for status in (ProbeStatus.OK, ProbeStatus.CRIT, ProbeStatus.UNKNOWN):
        res = ProbeResult("ping", "127.0.0.1", status, "x", dt.datetime.now(dt.UTC), 1.0)
        live.result(res, job)
    live.stop()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    assert "ok 1 warn 0 crit 1 unknown 1" in text
    assert "3/3" in text
    assert live.counts[ProbeStatus.CRIT] == 1


def test_rounds_repeat_until_the_limit(store: Store, tmp_path: Path) -> None:
    seed(store, LOOPBACK_FLEET[:2])
    with store.session() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert(t, {"probes": ("count",)}) for t in ("T-1", "T-2")],
            ChangeContext("tester", "test", dt.datetime.now(dt.UTC)),
        )
    reg = ProbeRegistry(paths={}, factories={"count": Counting})
    service = ProbeService(store, "tester", load_profiles(PROBES), registry=reg)
    seen: list[tuple[int | None, int]] = []

    def on_round(report: RunReport | None, run_id: int | None) -> None:
        assert report is not None
        seen.append((run_id, len(report.results)))

    rounds = asyncio.run(
        run_rounds(service, RunRequest(), every_s=0.05, max_rounds=3, on_round=on_round)
    )
    assert rounds == 3
    assert [n for _id, n in seen] == [2, 2, 2]
    with store.session() as s:
        runs = ProbeRepo(s).runs()
        latest = ProbeRepo(s).latest_results(["count"])
    assert sorted(r.id for r in runs) == sorted(i for i, _n in seen if i is not None)
    assert all(r.status == RunStatus.COMPLETED for r in runs)
    assert {v.metrics["n"] for v in latest.values()} == {3}


def test_only_runs_of_dead_processes_on_this_host_are_closed(store: Store) -> None:
    with store.session() as s:
        repo = ProbeRepo(s)
        mine = repo.start_run("tester", {})
        other = repo.start_run("tester", {})
        elsewhere = repo.start_run("tester", {})
    with store.session() as s:
        # pretend the other runs belong to process 999999 here and on another host
        for run_id, host in ((other, None), (elsewhere, "another-host")):
            row = s.get(ProbeRunRow, run_id)
            assert row is not None
            proc = dict(row.selection["process"], pid=999999)
            if host:
                proc["host"] = host
            row.selection = {**row.selection, "process": proc}
    with store.session() as s:
        assert ProbeRepo(s).close_orphans(alive=lambda pid: True) == []
    with store.session() as s:
        assert ProbeRepo(s).close_orphans(alive=lambda pid: False) == [other]
    with store.session() as s:
        repo = ProbeRepo(s)
        statuses = {r.id: r.status for r in repo.runs()}
    assert statuses == {
        mine: RunStatus.RUNNING,
        other: RunStatus.INTERRUPTED,
        elsewhere: RunStatus.RUNNING,
    }


def test_every_with_rounds_stops_by_itself(sqlite_url: str, runner: CliRunner) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    seed(store, LOOPBACK_FLEET[:1])
    got = invoke(runner, sqlite_url, "--only", "ping", "--every", "1s", "--rounds", "2")
    assert got.exit_code == 0, got.output
    with store.session() as s:
        runs = ProbeRepo(s).runs()
    assert len(runs) == 2 and all(r.status == RunStatus.COMPLETED for r in runs)
    bad = invoke(runner, sqlite_url, "--only", "ping", "--rounds", "2")
    assert bad.exit_code == 3 and "--rounds goes with --every" in bad.stderr
    store.dispose()
