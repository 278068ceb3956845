"""A real ``itops server`` process on a free loopback port, started and stopped by PID.

Also a self-signed certificate for 127.0.0.1 (pinning tests) and a helper that runs ``itops``
as a child process with its own database, secrets file and environment.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.postgres import free_port

START_S = 30.0
STOP_S = 25.0


def itops_env(db: str, secrets: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of an ``itops`` child: its database and secrets, nothing inherited that
    could point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITOPS_")}
    env["ITOPS_DB"] = db
    env["ITOPS_ACTOR"] = "test"
    env["COLUMNS"] = "200"
    if secrets is not None:
        env["ITOPS_SECRETS"] = str(secrets)
    env.update(extra)
    return env


def itops(
    *args: str, db: str, secrets: Path | None = None, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run ``itops ARGS`` in a child process; its output and exit code."""
    return subprocess.run(
        [sys.executable, "-m", "kape_itops", *args],
        env=itops_env(db, secrets, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class ItopsServer:
    """``itops server serve`` on 127.0.0.1 over ``db``; ``cert``/``key`` for TLS."""

    db: str
    log: Path
    cert: Path | None = None
    key: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    command: tuple[str, ...] = ("server", "serve")
    """``("server",)``: the group alone serves too."""

    @property
    def url(self) -> str:
        scheme = "https" if self.cert else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> ItopsServer:
        args = [*self.command, "--host", "127.0.0.1", "--port", str(self.port)]
        if self.cert and self.key:
            args += ["--cert", str(self.cert), "--key", str(self.key)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kape_itops", *args],
                env=itops_env(self.db, **self.env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"itops server exited {self.proc.returncode}:\n{self.text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"itops server did not listen in {START_S} s:\n{self.text()}")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after a bounded wait; the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, trust_env=False, **kwargs)  # type: ignore[arg-type]


def self_signed(folder: Path, ip: str = "127.0.0.1", name: str = "server") -> tuple[Path, Path]:
    """A self-signed certificate for ``ip`` (SAN) and its key: (cert.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"itops {name}")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(ski, False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / f"{name}-cert.pem"
    key_path = folder / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class JoinedSite:
    """A collector joined to a server: its own SQLite database and secrets file."""

    db: str
    secrets: Path
    uid: str
    school: str

    def itops(
        self, *args: str, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return itops(*args, db=self.db, secrets=self.secrets, timeout=timeout, **extra)

    def popen(self, *args: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "kape_itops", *args],
                env=itops_env(self.db, self.secrets, **extra),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def credential(self) -> str:
        import tomllib

        doc = tomllib.loads(self.secrets.read_text(encoding="utf-8"))
        return str(doc["server"]["sync"]["credential"])

    def tags(self) -> list[str]:
        from sqlalchemy import text

        from kape_itops.store.db import Store

        store = Store(self.db)
        try:
            with store.session() as s:
                return sorted(r[0] for r in s.execute(text("SELECT asset_tag FROM devices")))
        finally:
            store.dispose()


def enroll(server_db: str, school: str) -> str:
    """``itops server enroll SCHOOL``: the one-time token (second line of its output)."""
    done = itops("server", "enroll", school, db=server_db)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[1].strip()


def join(
    server: ItopsServer,
    folder: Path,
    school: str,
    *,
    url: str | None = None,
    cafile: Path | None = None,
    name: str = "collector",
) -> JoinedSite:
    """Enrol ``school`` and join a new collector (``folder/NAME.db``) with the token."""
    import tomllib

    token = enroll(server.db, school)
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{folder / (name + '.db')}"
    secrets = folder / f"{name}.toml"
    args = ["sync", "join", url or server.url, token, "--name", name]
    if cafile is not None:
        args += ["--cafile", str(cafile)]
    done = itops(*args, db=db, secrets=secrets)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = tomllib.loads(secrets.read_text(encoding="utf-8"))["server"]["sync"]
    return JoinedSite(db, secrets, str(doc["site"]), school)
