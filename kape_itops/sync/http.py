"""The HTTP :class:`~kape_itops.sync.transport.Transport`: a site talking to ``itops server``.

Request bodies go gzip-compressed. TLS is verified against the system's CAs, or against only the
certificate file ``cafile`` when given (a pinned, possibly self-signed, server certificate).
Failures are translated here, in one place: anything that leaves the outcome unknown (no
connection, reset, timeout, a cut or unreadable answer, 5xx, 408, 429) is
:class:`~kape_itops.errors.LinkError`, always safe to retry; 401 is ``AuthError``, 403
``ForbiddenError``, other 4xx ``PayloadError`` with the server's own message. A certificate
that does not verify is a plain ``SyncError``: a wrong server or pin, not a bad link.
"""

from __future__ import annotations

import gzip
import json
import ssl
from pathlib import Path
from typing import Any

import httpx

from kape_itops import __version__
from kape_itops.domain.text import reveal
from kape_itops.errors import (
    AuthError,
    ConfigError,
    ForbiddenError,
    LinkError,
    PayloadError,
    SyncError,
    UsageError,
)

CONNECT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 120.0
"""A batch's ingest can take a while on a busy server; a stall longer than this is a link error."""
MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""Largest answer read (a school's inventory is far below)."""
GZIP_LEVEL = 6
RETRYABLE = frozenset({408, 425, 429})
SAID_CHARS = 300


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """The system's trust store, or only ``cafile`` (any certificate in it is trusted as is)."""
    if cafile is None:
        return ssl.create_default_context()
    try:
        context = ssl.create_default_context(cafile=str(cafile))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the certificate file {cafile}: {exc}") from exc
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # pin a leaf, not only a CA
    return context


def check_url(url: str) -> str:
    """``url`` without a trailing slash; UsageError unless it is http(s)://host[:port][/path]."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UsageError(f"{url!r} is not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"{url!r} is not an http:// or https:// URL of the server")
    if parsed.query or parsed.fragment or parsed.userinfo:
        raise UsageError(f"{url!r}: give the server's URL without user, query or fragment")
    return url.rstrip("/")


class HttpTransport:
    """:class:`~kape_itops.sync.transport.Transport` over one HTTP connection pool (httpx)."""

    def __init__(
        self,
        url: str,
        credential: str | None = None,
        *,
        cafile: Path | None = None,
        timeout: float = READ_TIMEOUT_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.url = check_url(url)
        headers = {"User-Agent": f"kape-itops/{__version__}", "Accept-Encoding": "gzip"}
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        self._client = httpx.Client(
            base_url=self.url + "/api/",
            headers=headers,
            verify=tls_context(cafile) if self.url.startswith("https:") else True,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            trust_env=False,
        )

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def join(self, token: str, public_key: str, name: str, version: str) -> dict[str, Any]:
        """POST /api/sync/join."""
        body = {"token": token, "public_key": public_key, "name": name, "version": version}
        return self._call("POST", "sync/join", json.dumps(body).encode())

    def hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /api/sync/hello."""
        return self._call("POST", "sync/hello", json.dumps(payload).encode())

    def push(self, batch: bytes) -> dict[str, Any]:
        """POST /api/sync/push (one batch)."""
        return self._call("POST", "sync/push", batch)

    def pull(self) -> dict[str, Any]:
        """GET /api/sync/inventory."""
        return self._call("GET", "sync/inventory", None)

    def conflicts(self, include_resolved: bool = False) -> dict[str, Any]:
        """GET /api/sync/conflicts (the school's, as the server holds them)."""
        return self._call("GET", "sync/conflicts" + ("?all=true" if include_resolved else ""), None)

    def status(self) -> dict[str, Any]:
        """GET /api/status: this site's line of the server's status."""
        return self._call("GET", "status", None)

    def _call(self, method: str, path: str, body: bytes | None) -> dict[str, Any]:
        headers = {}
        content = None
        if body is not None:
            content = gzip.compress(body, GZIP_LEVEL, mtime=0)
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        where = f"{self.url}/api/{path}"
        try:
            with self._client.stream(method, path, content=content, headers=headers) as answer:
                raw = _read(answer, where)
        except httpx.TimeoutException as exc:
            raise LinkError(f"{where}: no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if _untrusted(exc):  # not a bad link: a wrong server or pin, retrying will not help
                raise SyncError(
                    f"{where}: the server's certificate is not trusted ({_said(exc)}); "
                    "give the server's certificate with --cafile when joining"
                ) from exc
            raise LinkError(f"{where}: {_said(exc)}") from exc
        return _decode(answer.status_code, raw, where)


def _read(answer: httpx.Response, where: str) -> bytes:
    data = bytearray()
    for piece in answer.iter_bytes():
        data += piece
        if len(data) > MAX_ANSWER_BYTES:
            raise LinkError(f"{where}: the answer is larger than {MAX_ANSWER_BYTES:,} bytes")
    return bytes(data)


def _untrusted(exc: BaseException) -> bool:
    """Whether TLS failed because the server's certificate did not verify."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _said(exc: BaseException) -> str:
    return reveal(str(exc) or type(exc).__name__, newlines=False)[:SAID_CHARS]


def _decode(status: int, raw: bytes, where: str) -> dict[str, Any]:
    message: str | None = None
    value: Any = None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        message = reveal(value["error"], newlines=False)[:SAID_CHARS]
    if status >= 500 or status in RETRYABLE:
        raise LinkError(f"{where}: server answered {status}" + (f": {message}" if message else ""))
    said = message or f"HTTP {status}"
    if status == 401:
        raise AuthError(f"the server refused the credential: {said}")
    if status == 403:
        raise ForbiddenError(f"the server refused: {said}")
    if status >= 400:
        raise PayloadError(f"the server refused the request ({status}): {said}")
    if status != 200 or not isinstance(value, dict):
        raise LinkError(f"{where}: unreadable answer (HTTP {status}, {len(raw)} bytes)")
    return value
