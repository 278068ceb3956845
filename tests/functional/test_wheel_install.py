"""The built wheel, installed into a new venv, does the main jobs from an empty folder.

This is the README's first run for a pipx/wheel install: nothing here may rely on the checkout
(no repository folders on the path, the current folder empty, no editable install).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNMPSIM = REPO / ".venv-snmpsim" / "bin" / "snmpsim-command-responder"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv with the wheel built from this checkout installed (dependencies from PyPI)."""
    root = tmp_path_factory.mktemp("wheel")
    had_build = (REPO / "build").exists()
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root), str(REPO)],
            check=True,
            timeout=600,
        )
    finally:
        if not had_build:
            shutil.rmtree(REPO / "build", ignore_errors=True)
    wheels = sorted(root.glob("kape_itops-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run(
        [str(env_dir / "bin" / "pip"), "install", "-q", str(wheels[0])], check=True, timeout=900
    )
    yield env_dir / "bin"


def _env(bin_dir: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ITOPS_", "PYTHON", "VIRTUAL"))}
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    env["HOME"] = str(home)
    env["COLUMNS"] = "80"
    if SNMPSIM.is_file():
        env["ITOPS_SNMPSIM"] = str(SNMPSIM)
    return env


def _itops(
    bin_dir: Path, cwd: Path, *args: str, env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> str:
    proc = subprocess.run(
        [str(bin_dir / "itops"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode in ok, (
        f"itops {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


def test_installed_wheel_works_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _env(installed, home)
    # the package comes from the venv, not from this checkout
    where = subprocess.run(
        [str(installed / "python"), "-c", "import kape_itops; print(kape_itops.__file__)"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(REPO) not in where and "site-packages" in where

    _itops(installed, home, "init", env=env)
    out = _itops(installed, home, "data", "where", "--json", "probes/onvif.yaml", env=env)
    doc = json.loads(out)
    assert doc["local"] is None and doc["files"][0]["origin"] == "shipped"

    # an editable copy of the defaults, somewhere else; the current folder stays without data
    samples = tmp_path / "samples"
    _itops(installed, home, "data", "init", str(samples), env=env)
    assert (samples / "probes" / "kinds" / "camera.yaml").is_file()
    assert (samples / "quotes" / "laptop" / "rfq.yaml").is_file()
    _itops(installed, home, "inventory", "import", str(samples / "inventory"), env=env)

    _itops(installed, home, "spec", "check", env=env)
    # an SNMP profile and its schema come from the shipped defaults (no agent: UNKNOWN, exit 3)
    out = _itops(
        installed,
        home,
        "probe",
        "snmp",
        "127.0.0.1:9",
        "--profile",
        "printer",
        "--community",
        "public",
        "--timeout",
        "0.2",
        "--retries",
        "0",
        "--json",
        env=env,
        ok=(3,),
    )
    assert json.loads(out)["probe"] == "snmp"
    _itops(installed, home, "quote", "template", "--spec", "laptop", "-o", "form.xlsx", env=env)
    assert (home / "form.xlsx").stat().st_size > 0
    shutil.copytree(samples / "quotes" / "laptop", home / "rfq-laptop")
    scored = json.loads(_itops(installed, home, "quote", "score", "rfq-laptop", "--json", env=env))
    assert scored["spec_id"] == "laptop"
    assert scored["lots"][0]["award_vendor"]

    _itops(installed, home, "lab", "up", "--mode", "loopback", env=env)
    try:
        lab_env = {
            **env,
            "ITOPS_SECRETS": str(home / ".itops-lab" / "secrets.toml"),
            "ITOPS_KNOWN_HOSTS": str(home / ".itops-lab" / "known_hosts"),
        }
        out = _itops(
            installed,
            home,
            "probe",
            "run",
            "--lab",
            "--school",
            "KPT-PSP",
            "--json",
            env=lab_env,
            ok=(0, 1, 2),
        )
    finally:
        _itops(installed, home, "lab", "down", env=env)
    results = json.loads(out)["results"]
    seen = Counter((r["probe"], r["status"]) for r in results)
    for probe in ("ping", "snmp", "onvif", "ssh"):
        assert seen[(probe, "ok")] + seen[(probe, "warn")] > 0, seen


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_installed_wheel_runs_a_server_and_a_site_syncs_to_it(
    installed: Path, tmp_path: Path
) -> None:
    """Server and collector from the wheel, each in its own empty 0700 folder: enrol, join,
    pull the school's inventory, edit at the site, sync, and the server holds the edit."""
    import time
    import urllib.request

    office, school = tmp_path / "office", tmp_path / "school"
    for home in (office, school):
        home.mkdir(mode=0o700)
    env_o, env_s = _env(installed, office), _env(installed, school)
    _itops(installed, office, "init", env=env_o)
    _itops(installed, office, "data", "init", str(office / "data"), env=env_o)
    _itops(installed, office, "inventory", "import", str(office / "data" / "inventory"), env=env_o)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (office / "server.log").open("wb")
    server = subprocess.Popen(
        [str(installed / "itops"), "server", "--port", str(port)],
        cwd=office,
        env=env_o,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/openapi.json", timeout=2) as got:
                    assert got.status == 200
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.2)
        token = json.loads(
            _itops(
                installed, office, "server", "enroll", "KPT-PSP", "--url", url, "--json", env=env_o
            )
        )["token"]
        site = [str(installed / "itops"), "--secrets", "secrets.toml"]
        join = subprocess.run(
            [*site, "sync", "join", url, token],
            cwd=school,
            env=env_s,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert join.returncode == 0, join.stderr
        assert (school / "secrets.toml").stat().st_mode & 0o777 == 0o600
        assert token not in (school / "secrets.toml").read_text()
        first = subprocess.run(
            [*site, "sync", "--json"],
            cwd=school,
            env=env_s,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["pull"]["created"] > 0
        _itops(
            installed,
            school,
            "inventory",
            "set",
            "KPT-PSP-001",
            "notes=moved to library",
            env=env_s,
        )
        again = subprocess.run(
            [*site, "sync", "--json"],
            cwd=school,
            env=env_s,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["pushed"]["changes"] == 1
        shown = json.loads(
            _itops(installed, office, "inventory", "show", "KPT-PSP-001", "--json", env=env_o)
        )
        assert shown["device"]["notes"] == "moved to library"
        (line,) = json.loads(_itops(installed, office, "server", "status", "--json", env=env_o))
        assert line["school"] == "KPT-PSP" and line["backlog"] == 0
        _web_pages_from_the_wheel(installed, office, env_o, url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _web_pages_from_the_wheel(installed: Path, office: Path, env: dict[str, str], url: str) -> None:
    """The installed server's pages: log in, the school's device in Khmer (with the site's edit),
    the vendored htmx and Khmer font, and a PDF report — templates, catalogues and static files
    all come from the wheel."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    password = "a long enough passphrase"
    user_env = {**env, "ITOPS_USER_PASSWORD": password}
    _itops(installed, office, "server", "user", "add", "manager", "--role", "viewer", env=user_env)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path: str) -> tuple[int, str, bytes]:
        with opener.open(url + path, timeout=30) as got:
            return got.status, got.headers.get("content-type", ""), got.read()

    _s, _t, login = get("/login")
    token = re.search(rb'name="csrf" value="([^"]+)"', login)
    assert token, login[:500]
    form = {"name": "manager", "password": password, "next": "/", "csrf": token.group(1).decode()}
    with opener.open(url + "/login", urllib.parse.urlencode(form).encode(), timeout=30) as got:
        assert got.url.rstrip("/") == url, got.url  # logged in, back on the overview
        assert b"KPT-PSP" in got.read()
    status, kind, page = get("/devices/KPT-PSP-001?lang=km")
    assert status == 200 and kind.startswith("text/html")
    text = page.decode()
    assert '<html lang="km">' in text and "moved to library" in text
    assert "ចាកចេញ" in text  # "Log out" from the Khmer catalogue in the wheel
    assert get("/static/htmx.min.js")[0] == 200
    assert get("/static/fonts/KhmerOS.ttf")[2][:4] == b"\x00\x01\x00\x00"
    status, kind, pdf = get("/reports/health.pdf")
    assert status == 200 and kind == "application/pdf" and pdf.startswith(b"%PDF")
