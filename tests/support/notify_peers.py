"""Real peers for the alert tests on loopback: a fake Telegram Bot API and an SMTP server."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN = "123456789:AAE-test_token-for-the-fake-bot-api"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Recorded:
    """One request the fake Bot API received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


class FakeBotApi(http.server.ThreadingHTTPServer):
    """Answers ``POST /bot<token>/sendMessage`` like Telegram; ``script`` holds canned answers
    (status, JSON) used first, in order; every request is recorded."""

    def __init__(self, port: int = 0, token: str = TOKEN) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.token = token
        self.requests: list[Recorded] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.delay = 0.0
        """Seconds to wait before answering (widens races)."""
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def texts(self) -> list[str]:
        """The text of every message accepted so far."""
        with self.lock:
            return [r.body["text"] for r in self.requests if r.status == 200]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeBotApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        size = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(size) or b"{}")
        srv = self.server
        time.sleep(srv.delay)
        with srv.lock:
            status, answer = srv.script.pop(0) if srv.script else (0, {})
            if not status:
                if self.path != f"/bot{srv.token}/sendMessage":
                    status, answer = (
                        404,
                        {"ok": False, "error_code": 404, "description": "Not Found"},
                    )
                else:
                    status = 200
                    answer = {"ok": True, "result": {"message_id": len(srv.requests) + 1}}
            srv.requests.append(Recorded(self.path, dict(self.headers), body, status))
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def bot_api(port: int = 0) -> Iterator[FakeBotApi]:
    """A fake Bot API serving in a thread until the block ends."""
    srv = FakeBotApi(port)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(timeout=10)


@dataclass
class Mailbox:
    """What the SMTP server received: messages and logins."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        msg = message_from_bytes(raw, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope, msg))
        return "250 OK"


def _authenticator(box: Mailbox, user: str, password: str) -> Any:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, pw = auth_data.login.decode(), auth_data.password.decode()
        box.logins.append((login, pw))
        ok = (login, pw) == (user, password)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    return check


@contextmanager
def smtp_server(
    *,
    user: str = "itops",
    password: str = "s3cret-pässword",
    starttls: Path | None = None,
    implicit_tls: Path | None = None,
    port: int = 0,
) -> Iterator[tuple[Mailbox, int]]:
    """An aiosmtpd server on 127.0.0.1 with AUTH (plain loopback allowed unless TLS is given):
    ``starttls``/``implicit_tls`` name a folder holding ``cert.pem`` and ``key.pem``."""
    import ssl

    box = Mailbox()
    port = port or free_port()
    kwargs: dict[str, Any] = {
        "authenticator": _authenticator(box, user, password),
        "auth_require_tls": starttls is not None,
        "decode_data": False,
    }
    if starttls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(starttls / "cert.pem", starttls / "key.pem")
        kwargs |= {"tls_context": ctx, "require_starttls": True}
    if implicit_tls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(implicit_tls / "cert.pem", implicit_tls / "key.pem")
        kwargs["ssl_context"] = ctx
    ctl = Controller(box, hostname="127.0.0.1", port=port, **kwargs)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


def self_signed(folder: Path) -> Path:
    """``cert.pem`` and ``key.pem`` for 127.0.0.1 and localhost in ``folder``; returns the cert."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "itops-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem"
