"""Telegram alerts: the Bot API's ``sendMessage`` over httpx, plain text (no parse mode).

The bot token sits in the URL path (``/bot<token>/sendMessage``), so it never appears in an
error of ours, and httpx's request log line has it replaced by ``***``. A 429 answer is retried
after its ``retry_after`` when that fits in ``max_wait`` seconds; anything else is a
:class:`~kape_itops.errors.NotifyError` with Telegram's own description.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from kape_itops.errors import ConfigError, NotifyError
from kape_itops.notify.message import Notice, chunks
from kape_itops.secrets import Credential, Secret

__all__ = ["DEFAULT_API", "TEXT_LIMIT", "Telegram", "TelegramConfig"]

DEFAULT_API = "https://api.telegram.org"
TEXT_LIMIT = 4000
"""Characters per message (Telegram allows 4096 after parsing)."""
_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{10,200}$")
_CHAT = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{4,64})$")
_IN_PATH = re.compile(r"/bot[^/]+/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Redact(logging.Filter):
    """Replaces ``/bot<token>/`` in httpx's log records by ``/bot***/``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _IN_PATH.sub("/bot***/", str(a)) if "/bot" in str(a) else a for a in record.args
            )
        if isinstance(record.msg, str) and "/bot" in record.msg:
            record.msg = _IN_PATH.sub("/bot***/", record.msg)
        return True


def _install_redaction() -> None:
    log = logging.getLogger("httpx")
    if not any(isinstance(f, _Redact) for f in log.filters):
        log.addFilter(_Redact())


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """``[alerts.telegram]``: token (secret), chat_id, optional api_url, timeout, max_wait."""

    token: Secret
    chat_id: str
    api_url: str = DEFAULT_API
    timeout: float = 15.0
    max_wait: float = 30.0

    @classmethod
    def from_credential(cls, cred: Credential) -> TelegramConfig:
        """Checked settings; ConfigError naming the key (never showing the token)."""
        where = f"[{cred.name}.telegram]"
        token = cred.secret("token")
        if token is None or not _TOKEN.match(token.reveal()):
            raise ConfigError(
                f"{where} token is missing or not a bot token (digits:letters, from @BotFather)"
            )
        chat = (cred.get("chat_id") or "").strip()
        if not _CHAT.match(chat):
            raise ConfigError(f"{where} chat_id must be a chat number or @channelname")
        api = (cred.get("api_url") or DEFAULT_API).rstrip("/")
        parts = urlsplit(api)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"{where} api_url must be an https:// URL")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ConfigError(f"{where} api_url over plain http is allowed on loopback only")
        return cls(
            token=token,
            chat_id=chat,
            api_url=api,
            timeout=_number(cred, "timeout", 15.0),
            max_wait=_number(cred, "max_wait", 30.0),
        )


def _number(cred: Credential, key: str, default: float) -> float:
    raw = cred.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ConfigError(f"[{cred.name}.{cred.protocol}] {key} must be seconds (0-3600)")
    return value


class Telegram:
    """One chat of one bot."""

    name = "telegram"

    def __init__(
        self,
        config: TelegramConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._transport = transport
        _install_redaction()

    def send(self, notices: Sequence[Notice], tz: dt.tzinfo, dropped: int = 0) -> None:
        """Send the notices in as few messages as fit; NotifyError says how many went out."""
        done = 0
        with self._client() as client:
            for text, count in chunks(notices, tz, TEXT_LIMIT, dropped):
                try:
                    self._post(client, text)
                except NotifyError as exc:
                    raise NotifyError(str(exc), delivered=done) from exc
                done += count

    def send_text(self, text: str) -> None:
        """One plain message (``itops report notify --test``)."""
        with self._client() as client:
            self._post(client, text[:TEXT_LIMIT])

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.config.timeout, transport=self._transport)

    def _scrub(self, text: str) -> str:
        return text.replace(self.config.token.reveal(), "***")

    def _post(self, client: httpx.Client, text: str) -> None:
        cfg = self.config
        url = f"{cfg.api_url}/bot{cfg.token.reveal()}/sendMessage"
        payload = {"chat_id": cfg.chat_id, "text": text, "disable_web_page_preview": True}
        waited = 0.0
        for _ in range(10):  # bounded: at most a few 429s fit in max_wait anyway
            try:
                resp = client.post(url, json=payload)
            except httpx.HTTPError as exc:
                host = urlsplit(cfg.api_url).netloc
                raise NotifyError(
                    f"telegram: cannot reach {host}: {type(exc).__name__}: "
                    f"{self._scrub(str(exc)) or 'no answer'}"
                ) from None
            answer = _json(resp)
            if resp.status_code == 200 and answer.get("ok") is True:
                return
            if resp.status_code == 429:
                wait = _retry_after(resp, answer)
                if waited + wait <= cfg.max_wait:
                    self._sleep(wait)
                    waited += wait
                    continue
                raise NotifyError(
                    f"telegram: rate limited; Telegram asks to wait {wait:g} s "
                    f"(more than max_wait {cfg.max_wait:g} s): retried next round"
                )
            raise NotifyError(self._refusal(resp.status_code, answer))
        raise NotifyError("telegram: still rate limited after 10 attempts: retried next round")

    def _refusal(self, status: int, answer: dict[str, Any]) -> str:
        said = self._scrub(str(answer.get("description") or "")[:300]) or "no description"
        if status == 401 or status == 404:
            return f"telegram: the bot token was refused ({status} {said})"
        if status in (400, 403):
            return f"telegram: chat {self.config.chat_id} refused the message ({status} {said})"
        return f"telegram: HTTP {status} ({said})"


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        value = resp.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(resp: httpx.Response, answer: dict[str, Any]) -> float:
    params = answer.get("parameters")
    raw: object = params.get("retry_after") if isinstance(params, dict) else None
    if raw is None:
        raw = resp.headers.get("retry-after")
    try:
        value = float(str(raw))
    except ValueError:
        return 1.0
    return min(max(value, 0.0), 86_400.0) if math.isfinite(value) else 1.0
