"""The lab's two tiers: one ``itops server`` and a collector per school behind its own bad link.

``itops lab up --two-tier`` adds to a running lab (all on loopback, in the root namespace,
where the lab's devices answer in both lab modes):

- a **server**: ``itops server serve`` on a free 127.0.0.1 port over its own database (SQLite
  ``<lab>/server/itops.db`` unless ``--server-db`` names one, e.g. PostgreSQL), with the
  inventory imported so every school can be enrolled;
- a **link** per school: one :mod:`~kape_itops.lab.linkproxy` process serves a proxy port per
  school in front of the server, each following ``<lab>/schools/<CODE>/link.json``;
- a **collector** per school: a folder ``<lab>/schools/<CODE>/`` with its SQLite file and its
  secrets file (the lab's simulator logins; ``sync join`` adds ``[server.sync]``). A collector
  is the environment :func:`site_env` gives an ``itops`` process (``itops lab on CODE ...``).

Everything started is recorded in the lab state (``tiers`` and ``pids``), so ``lab down`` stops
it by PID like the rest of the lab; the folders stay to look at, and the next ``up --two-tier``
starts afresh (the collectors' folders and the lab's own server database are recreated).
Collectors run in the root namespace in both lab modes: the lab keeps every school in one
namespace, reachable from there, so a school's own namespace would add nothing to its link.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.atomic import write_text
from kape_itops.errors import ConfigError, ProbeError, UsageError
from kape_itops.lab.linkproxy import LinkMode, read_control, write_control
from kape_itops.lab.netns import pid_alive, stop_pid
from kape_itops.lab.state import LabState, read_state, write_state

SERVER = "server"
"""The site name of the server in :func:`site_env` (any other name is a school code)."""
READY_S = 60.0
APPLY_S = 3.0


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One school's link as ``itops lab link`` lists it."""

    school: str
    url: str
    mode: LinkMode
    applied: bool
    """The proxy reports the mode of the control file (False: not yet, or the proxy is gone)."""
    stats: dict[str, int] = field(default_factory=dict)


def _itops(python: str) -> list[str]:
    return [python, "-m", "kape_itops"]


def lab_schools(state: LabState) -> list[str]:
    """The schools the lab simulates devices for, sorted."""
    return sorted({str(d["school"]) for d in state.devices.values() if d.get("school")})


def _running(state_path: Path) -> dict[str, Any]:
    state = read_state(state_path)
    if state is None:
        raise UsageError("the lab is down: start it with 'itops lab up --two-tier'")
    if not state.tiers:
        raise UsageError("the lab runs without its two tiers: 'itops lab up --two-tier'")
    return state.tiers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Callable[[], bool], what: str, pid: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not pid_alive(pid):
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise ProbeError(f"{what} exited at start (see {log}):\n{tail}")
        time.sleep(0.05)
    raise ProbeError(f"{what} did not start within {timeout:g} s (see {log})")


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _spawn(cmd: list[str], env: Mapping[str, str], log: Path) -> int:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    return proc.pid


def _run(cmd: list[str], env: Mapping[str, str], what: str, log: Path) -> None:
    with log.open("ab") as out:
        proc = subprocess.run(
            cmd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            timeout=300,
            check=False,
        )
    if proc.returncode != 0:
        raise ProbeError(f"{what} failed (exit {proc.returncode}; see {log})")


def tiers_up(
    state_path: Path,
    *,
    inventory: Path,
    server_db: str | None = None,
    python: str = sys.executable,
    timeout: float = READY_S,
) -> tuple[LabState, bool]:
    """Start the server, the links and the collectors' folders; whether they were started.

    ``inventory`` is the folder imported into the server's database (schools and devices).
    """
    state = read_state(state_path)
    if state is None:
        raise UsageError("the lab is down: start it first ('itops lab up')")
    if state.tiers and all(pid_alive(p) for p in _tier_pids(state.tiers)):
        return state, False
    if state.tiers:
        tiers_down(state_path)
        state = read_state(state_path) or state
    schools = lab_schools(state)
    if not schools:
        raise UsageError("the lab simulates no school's devices")
    work = state_path.parent.resolve()
    server_dir, schools_dir = work / "server", work / "schools"
    db = server_db or f"sqlite:///{server_dir / 'itops.db'}"
    if server_db is None:
        shutil.rmtree(server_dir, ignore_errors=True)
    shutil.rmtree(schools_dir, ignore_errors=True)
    server_dir.mkdir(parents=True, exist_ok=True)
    started: list[int] = []
    try:
        env = {"ITOPS_DB": db, "ITOPS_ACTOR": "lab"}
        log = server_dir / "server.log"
        _run([*_itops(python), "init"], env, "itops init (server database)", log)
        _run(
            [*_itops(python), "inventory", "import", str(inventory)],
            env,
            f"importing {inventory} into the server database",
            log,
        )
        port = _free_port()
        pid = _spawn(
            [*_itops(python), "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            log,
        )
        started.append(pid)
        _wait(lambda: _accepts(port), "the lab server", pid, log, timeout)
        server = {"pid": pid, "url": f"http://127.0.0.1:{port}", "db": db, "log": str(log)}
        links, link_pid = _start_links(work, schools, port, python, timeout)
        started.append(link_pid)
        secrets = work / "secrets.toml"
        for school in schools:
            folder = Path(links[school]["folder"])
            if secrets.exists():
                shutil.copyfile(secrets, folder / "secrets.toml")
                (folder / "secrets.toml").chmod(0o600)
        state.tiers = {
            "server": server,
            "links": {"pid": link_pid, "file": str(work / "links.json")},
            "schools": links,
        }
        state.pids.extend(started)
        write_state(state_path, state)
    except BaseException:
        for p in started:
            stop_pid(p)
        raise
    return state, True


def _start_links(
    work: Path, schools: Sequence[str], server_port: int, python: str, timeout: float
) -> tuple[dict[str, dict[str, str]], int]:
    specs, out = [], {}
    for school in schools:
        folder = work / "schools" / school
        folder.mkdir(parents=True, exist_ok=True)
        write_control(folder / "link.json", LinkMode())
        specs.append(
            {
                "listen": "127.0.0.1:0",
                "upstream": f"127.0.0.1:{server_port}",
                "control": str(folder / "link.json"),
                "status": str(folder / "link.status"),
            }
        )
        out[school] = {"folder": str(folder)}
    write_text(work / "links.json", json.dumps(specs, indent=1) + "\n")
    log = work / "links.log"
    pid = _spawn(
        [python, "-m", "kape_itops.lab.linkproxy", "--links", str(work / "links.json")], {}, log
    )
    statuses = [Path(s["status"]) for s in specs]
    _wait(lambda: all(p.exists() for p in statuses), "the lab links", pid, log, timeout)
    for school, status in zip(schools, statuses, strict=True):
        port = json.loads(status.read_text())["port"]
        out[school]["url"] = f"http://127.0.0.1:{port}"
    return out, pid


def _tier_pids(tiers: Mapping[str, Any]) -> list[int]:
    return [int(tiers[k]["pid"]) for k in ("server", "links") if k in tiers]


def tiers_down(state_path: Path) -> list[str]:
    """Stop the server and the links (the collectors' folders stay, to look at)."""
    state = read_state(state_path)
    if state is None or not state.tiers:
        return []
    done = []
    pids = _tier_pids(state.tiers)
    for pid in pids:
        if pid_alive(pid):
            stop_pid(pid)
            done.append(f"stopped process {pid}")
    state.pids = [p for p in state.pids if p not in pids]
    state.tiers = {}
    write_state(state_path, state)
    return done


def site_env(state_path: Path, site: str) -> dict[str, str]:
    """The environment of an ``itops`` process acting as ``site`` (a school code or server)."""
    tiers = _running(state_path)
    work = state_path.parent.resolve()
    base = {"ITOPS_LAB_STATE": str(state_path.resolve())}
    if (work / "known_hosts").exists():
        base["ITOPS_KNOWN_HOSTS"] = str(work / "known_hosts")
    if site == SERVER:
        return {
            **base,
            "ITOPS_DB": str(tiers["server"]["db"]),
            "ITOPS_SERVER_URL": str(tiers["server"]["url"]),
            "ITOPS_ACTOR": "lab-server",
        }
    school = tiers["schools"].get(site)
    if school is None:
        known = ", ".join(sorted(tiers["schools"]))
        raise UsageError(f"'{site}' is not a lab school ({known}) nor '{SERVER}'")
    folder = Path(school["folder"])
    return {
        **base,
        "ITOPS_DB": f"sqlite:///{folder / 'itops.db'}",
        "ITOPS_SECRETS": str(folder / "secrets.toml"),
        "ITOPS_ACTOR": f"collector-{site}",
        "ITOPS_LAB_URL": str(school["url"]),
    }


def run_on(state_path: Path, site: str, args: Sequence[str], python: str = sys.executable) -> int:
    """Run ``itops ARGS`` as ``site`` (output to this terminal); its exit code."""
    env = {**os.environ, **site_env(state_path, site)}
    return subprocess.run([*_itops(python), *args], env=env, check=False).returncode


def join(
    state_path: Path,
    schools: Sequence[str] = (),
    python: str = sys.executable,
    echo: Callable[[str], None] = print,
    workers: int = 2,
) -> dict[str, int]:
    """Enrol each school on the server and join its collector through its link (exit codes).

    Runs the real commands (``itops server enroll`` as the server, ``itops sync join`` as the
    collector), ``workers`` schools at a time; one line per school, the output on failure.
    """
    tiers = _running(state_path)
    codes = list(schools) or sorted(tiers["schools"])
    for code in codes:
        site_env(state_path, code)  # unknown schools refused before anything runs
    with ThreadPoolExecutor(max(1, workers)) as pool:
        done = list(pool.map(lambda c: (c, *_join_one(state_path, c, python)), codes))
    for code, _rc, line in done:
        echo(f"{code}: {line}")
    return {code: rc for code, rc, _line in done}


def _join_one(state_path: Path, code: str, python: str) -> tuple[int, str]:
    server_env = {**os.environ, **site_env(state_path, SERVER)}
    url = site_env(state_path, code)["ITOPS_LAB_URL"]
    enrol = subprocess.run(
        [*_itops(python), "server", "enroll", code, "--url", url, "--json"],
        env=server_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        token = str(json.loads(enrol.stdout)["token"]) if enrol.returncode == 0 else ""
    except (ValueError, KeyError, TypeError):
        token = ""
    if not token:
        return enrol.returncode or 1, f"enrolment failed: {enrol.stderr.strip()}"
    args = ["sync", "join", url, token, "--name", f"lab collector {code}"]
    joined = subprocess.run(
        [*_itops(python), *args],
        env={**os.environ, **site_env(state_path, code)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if joined.returncode != 0:
        return joined.returncode, f"join failed: {(joined.stderr or joined.stdout).strip()}"
    return 0, f"enrolled, joined through its link {url}"


def set_link(state_path: Path, school: str, **changes: Any) -> LinkRow:
    """Change a school's link (``mode``, ``delay_ms``, ...; ``restore=True``: a clean link).

    Waits (briefly) until the proxy reports the new mode.
    """
    restore = bool(changes.pop("restore", False))
    tiers = _running(state_path)
    if school not in tiers["schools"]:
        raise UsageError(f"'{school}' is not a lab school ({', '.join(sorted(tiers['schools']))})")
    folder = Path(tiers["schools"][school]["folder"])
    mode = (LinkMode() if restore else read_control(folder / "link.json")).changed(**changes)
    write_control(folder / "link.json", mode)
    deadline = time.monotonic() + APPLY_S
    row = _row(school, tiers["schools"][school])
    while not row.applied and time.monotonic() < deadline:
        time.sleep(0.02)
        row = _row(school, tiers["schools"][school])
    if not row.applied:
        raise ProbeError(f"the link of {school} did not take the new mode (see lab links.log)")
    return row


def _row(school: str, entry: Mapping[str, Any]) -> LinkRow:
    folder = Path(entry["folder"])
    mode = read_control(folder / "link.json")
    try:
        status = json.loads((folder / "link.status").read_text())
        alive = pid_alive(int(status["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        status, alive = {}, False
    applied = alive and status.get("mode") == mode.to_json()
    stats = {k: int(v) for k, v in dict(status.get("stats", {})).items()} if alive else {}
    return LinkRow(school, str(entry["url"]), mode, applied, stats)


def link_rows(state_path: Path) -> list[LinkRow]:
    """Every school's link."""
    tiers = _running(state_path)
    try:
        return [_row(code, entry) for code, entry in sorted(tiers["schools"].items())]
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"lab state {state_path}: bad two-tier entry ({exc})") from exc
