"""E-mail alerts over SMTP: one UTF-8 message per round listing the new problems.

``security`` is ``starttls`` (default, port 587), ``ssl`` (port 465) or ``none`` (port 25; a
password is only sent that way to a loopback server, as in the tests). The server certificate is
checked against the system store, or ``cafile`` for a private one. smtplib's errors are turned
into :class:`~kape_itops.errors.NotifyError` here; none of them holds the password.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid, parseaddr

from kape_itops.errors import ConfigError, NotifyError
from kape_itops.notify.message import Notice, body, subject
from kape_itops.secrets import Credential, Secret

__all__ = ["SECURITY", "Smtp", "SmtpConfig"]

log = logging.getLogger(__name__)

SECURITY = {"starttls": 587, "ssl": 465, "none": 25}
"""Security modes and their default ports."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address(value: str, what: str) -> str:
    _name, addr = parseaddr(value)
    if "@" not in addr or any(ord(c) < 32 or c == "\x7f" for c in value) or "<" in addr:
        raise ConfigError(f"[alerts.smtp] {what} '{value[:80]}' is not an e-mail address")
    return value.strip()


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """``[alerts.smtp]``: host, port, security, username, password (secret), sender, to."""

    host: str
    port: int
    security: str
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: Secret | None = None
    cafile: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_credential(cls, cred: Credential) -> SmtpConfig:
        """Checked settings; ConfigError naming the key."""
        where = f"[{cred.name}.smtp]"
        host = (cred.get("host") or "").strip()
        if not host:
            raise ConfigError(f"{where} host is missing")
        security = (cred.get("security") or "starttls").strip().lower()
        if security not in SECURITY:
            raise ConfigError(f"{where} security must be one of {', '.join(SECURITY)}")
        raw_port = cred.get("port") or str(SECURITY[security])
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise ConfigError(f"{where} port must be a number (1-65535)")
        sender = _address(cred.get("sender") or "", "sender")
        to = tuple(_address(a, "to") for a in (cred.get("to") or "").split(",") if a.strip())
        if not to:
            raise ConfigError(f"{where} to needs at least one address")
        password = cred.secret("password")
        if security == "none" and password is not None and not _loopback(host):
            raise ConfigError(
                f'{where} security = "none" would send the password unencrypted to {host}: '
                "use starttls or ssl (none is for a loopback relay)"
            )
        try:
            timeout = float(cred.get("timeout") or 30)
        except ValueError:
            timeout = 0.0
        if not 0 < timeout <= 600:
            raise ConfigError(f"{where} timeout must be seconds (0-600)")
        return cls(
            host=host,
            port=int(raw_port),
            security=security,
            sender=sender,
            to=to,
            username=cred.get("username") or None,
            password=password,
            cafile=cred.get("cafile") or None,
            timeout=timeout,
        )


class Smtp:
    """One relay, one sender, its recipients."""

    name = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, notices: Sequence[Notice], tz: dt.tzinfo, dropped: int = 0) -> None:
        """One e-mail with every notice; all or nothing (NotifyError with delivered=0)."""
        self._deliver(subject(notices, dropped), body(notices, tz, dropped))

    def send_text(self, text: str) -> None:
        """One plain message (``itops report notify --test``)."""
        self._deliver("[kape-itops] test message", text)

    def message(self, subj: str, text: str) -> EmailMessage:
        """The MIME message: UTF-8 text, encoded headers, a Date and a Message-ID."""
        cfg = self.config
        msg = EmailMessage(policy=SMTP_POLICY)
        msg["From"] = cfg.sender
        msg["To"] = ", ".join(cfg.to)
        msg["Subject"] = subj
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        domain = parseaddr(cfg.sender)[1].rpartition("@")[2] or None
        msg["Message-ID"] = make_msgid("itops", domain=domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(text, charset="utf-8", cte="base64")
        return msg

    def _tls(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.config.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"[alerts.smtp] cafile {self.config.cafile}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "ssl":
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self._tls())
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        if cfg.security == "starttls":
            try:
                client.starttls(context=self._tls())
            except BaseException:
                client.close()
                raise
        return client

    def _deliver(self, subj: str, text: str) -> None:
        self.deliver(self.message(subj, text))

    def deliver(self, msg: EmailMessage) -> None:
        """Send one prepared message (see :meth:`message`); NotifyError when it did not go."""
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        try:
            with self._connect() as client:
                if cfg.username and cfg.password is not None:
                    _login(client, cfg.username, cfg.password.reveal())
                refused = client.send_message(msg)
        except smtplib.SMTPNotSupportedError as exc:
            raise NotifyError(f"smtp: {where} does not offer {_what(exc)}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifyError(
                f"smtp: {where} refused the login of {cfg.username} ({_said(exc)})"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            who = ", ".join(sorted(exc.recipients))
            raise NotifyError(f"smtp: {where} refused every recipient ({who})") from None
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(f"smtp: {where} refused the message ({_said(exc)})") from None
        except smtplib.SMTPException as exc:
            raise NotifyError(f"smtp: {where}: {type(exc).__name__}: {exc}") from None
        except ssl.SSLError as exc:
            raise NotifyError(f"smtp: TLS with {where} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise NotifyError(
                f"smtp: cannot reach {where}: {exc.strerror or type(exc).__name__}"
            ) from None
        if refused:
            log.warning("smtp: %s refused %s", where, ", ".join(sorted(refused)))


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """``login``, but a non-ASCII name or password goes as UTF-8 in AUTH PLAIN (RFC 4954),
    which smtplib cannot encode."""
    if (user + password).isascii():
        client.login(user, password)
        return
    client.ehlo_or_helo_if_needed()
    if "PLAIN" not in client.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("AUTH PLAIN (needed for a non-ASCII password)")
    blob = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, resp = client.docmd("AUTH", "PLAIN " + blob)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def _said(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {text[:200]}".strip()


def _what(exc: smtplib.SMTPNotSupportedError) -> str:
    text = str(exc)
    if "PLAIN" in text:
        return text[:100]
    upper = text.upper()
    return "STARTTLS" if "STARTTLS" in upper else "AUTH (login)" if "AUTH" in upper else text[:100]
