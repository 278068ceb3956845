"""A private OpenSSH server for the SSH tests: own host key and config in a temp dir, loopback.

Runs ``sshd -D -e -f CONFIG -p PORT`` on a free 127.0.0.1 port and stops it by PID. Logins use
the system user ``itops-test`` (created as root when missing; its password is set with
``chpasswd`` on every start so the tests know it). Nothing else of the system is changed,
except that Debian's sshd needs ``/run/sshd`` to exist.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.support.postgres import free_port

SSHD = Path("/usr/sbin/sshd")
TEST_USER = "itops-test"
TEST_PASSWORD = "itops-test-Pw-4412"


def ensure_test_user() -> None:
    """Create ``itops-test`` if missing and (re)set its password (root only)."""
    if os.geteuid() != 0:
        raise RuntimeError("the sshd tests need root to create the test user")
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
    subprocess.run(
        ["chpasswd"],
        input=f"{TEST_USER}:{TEST_PASSWORD}\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    )


def keygen(path: Path, kind: str = "ed25519") -> str:
    """A new key pair at ``path``; returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "itops-test", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return Path(f"{path}.pub").read_text().strip()


class SshServer:
    """One sshd on 127.0.0.1; ``host_key_line()`` pins it in a known_hosts file."""

    def __init__(self, base: Path, port: int | None = None) -> None:
        if not SSHD.exists():
            raise RuntimeError("OpenSSH server not found: run 'make sysdeps' (openssh-server)")
        self.base = base
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.host_key = base / "ssh_host_ed25519_key"
        self.auth_keys = base / "authorized_keys"

    def authorize(self, public_key_line: str) -> None:
        """Let ``itops-test`` log in with this public key."""
        with self.auth_keys.open("a") as fh:
            fh.write(public_key_line + "\n")

    def host_key_line(self) -> str:
        """``[127.0.0.1]:PORT ssh-ed25519 AAAA…``."""
        kind, b64 = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {b64}"

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        ensure_test_user()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        if not self.host_key.exists():
            keygen(self.host_key)
        self.auth_keys.touch()
        # sshd reads AuthorizedKeysFile as the login user: let it through the temp dir.
        self.base.chmod(0o755)
        self.auth_keys.chmod(0o644)
        config = self.base / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.base / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.auth_keys}",
                    "StrictModes no",
                    "UsePAM no",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin no",
                    f"AllowUsers {TEST_USER}",
                    "MaxStartups 200",
                    "MaxSessions 50",
                    "LoginGraceTime 30",
                    "UseDNS no",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        with (self.base / "sshd.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config), "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"sshd exited at start: {(self.base / 'sshd.log').read_text()[-2000:]}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not start listening")

    def stop(self) -> None:
        """Kill sshd (and its session children) by PID; remove the temp dir."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


# -- inventory, secrets and lab-map helpers for the SSH functional tests -------------------
def seed_devices(store: Any, devices: list[dict[str, Any]], credential: str = "lab") -> None:
    """Two schools and the given devices (dicts of DeviceUpsert values plus 'tag')."""
    import datetime as dt

    from kape_itops.domain.enums import DeviceStatus
    from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
    from kape_itops.store.inventory_repo import InventoryRepo

    ctx = ChangeContext("tester", "ssh test seed", dt.datetime.now(dt.UTC))
    with store.session() as s:
        repo = InventoryRepo(s)
        repo.apply_schools(
            [
                SchoolUpsert("KPT-PSP", {"name": "Prey Speu Primary School"}),
                SchoolUpsert("KPT-PSH", {"name": "Prek Sdey High School"}),
            ],
            ctx,
        )
        upserts = []
        for d in devices:
            values = {k: v for k, v in d.items() if k != "tag"}
            values.setdefault("school", "KPT-PSP")
            values.setdefault("status", DeviceStatus.DEPLOYED)
            values.setdefault("credential", credential)
            upserts.append(DeviceUpsert(d["tag"], values))
        repo.apply_devices(upserts, ctx)


def write_secrets(path: Path, name: str, username: str, password: str, secret: str = "") -> Path:
    """A 0600 secrets file with one ``[name.ssh]`` entry."""
    lines = [f"[{name}.ssh]", f'username = "{username}"', f'password = "{password}"']
    if secret:
        lines.append(f'secret = "{secret}"')
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def write_lab_state(path: Path, ports: dict[str, int], address: str = "127.0.0.1") -> Path:
    """A lab state file mapping inventory addresses to ``address`` and an SSH port each."""
    import json

    doc = {
        "version": 1,
        "address_map": {ip: {"address": address, "ports": {"ssh": p}} for ip, p in ports.items()},
    }
    path.write_text(json.dumps(doc))
    return path
