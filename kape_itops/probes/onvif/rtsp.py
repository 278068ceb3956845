"""A minimal RTSP client: ``OPTIONS`` and ``DESCRIBE`` over asyncio TCP, with digest or basic auth.

It proves a stream answers (the server lists its methods and describes a video track) without
pulling media. Message building and parsing are pure functions; :func:`check_stream` does the I/O.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

USER_AGENT = "kape-itops"
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
URI_DEFAULT_PORT = 554
"""The port an ``rtsp://`` URI without one names (RFC 2326, 3.2): the device's own statement."""


@dataclass(frozen=True, slots=True)
class RtspResponse:
    """One parsed RTSP response."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header value, case-insensitively."""
        return self.headers.get(name.casefold())


@dataclass(frozen=True, slots=True)
class StreamCheck:
    """The outcome of :func:`check_stream`."""

    ok: bool
    reason: str
    status: int | None = None
    methods: tuple[str, ...] = ()
    media: tuple[str, ...] = field(default_factory=tuple)
    auth: str | None = None


class RtspProtocolError(Exception):
    """The peer's answer is not RTSP."""


def split_uri(uri: str) -> tuple[str, int, str, str | None, str | None]:
    """Host, port, the URI without userinfo, and the user/password embedded in the URI."""
    parts = urlsplit(uri)
    if parts.scheme.casefold() not in {"rtsp", "rtspt"} or not parts.hostname:
        raise ValueError(f"not an rtsp:// URI: {uri!r}")
    host = parts.hostname
    port = parts.port or URI_DEFAULT_PORT
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return host, port, clean, user, password


def with_port(uri: str, port: int) -> str:
    """``uri`` with its port set to ``port`` (userinfo, path and query kept)."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return uri
    host = parts.hostname
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def build_request(method: str, uri: str, cseq: int, headers: dict[str, str] | None = None) -> bytes:
    """An RTSP/1.0 request with CSeq and User-Agent."""
    lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    """Status code, reason and headers (keys case-folded) of a response head."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    match = re.match(r"RTSP/\d\.\d\s+(\d{3})\s*(.*)", lines[0])
    if not match:
        raise RtspProtocolError(f"not an RTSP response: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            name = key.strip().casefold()
            headers[name] = (
                f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
            )
    return int(match.group(1)), match.group(2).strip(), headers


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """The scheme and parameters of a ``WWW-Authenticate`` header."""
    scheme, _, rest = value.strip().partition(" ")
    params = {
        m.group(1).casefold(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in re.finditer(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', rest)
    }
    return scheme.casefold(), params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def authorization(
    challenge: str,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """The ``Authorization`` header answering a basic or digest (MD5, optional qop=auth) challenge."""
    scheme, params = parse_challenge(challenge)
    if scheme == "basic":
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return f"Basic {token}"
    if scheme != "digest":
        raise RtspProtocolError(f"unsupported RTSP auth scheme {scheme!r}")
    realm = params.get("realm", "")
    nonce = params.get("nonce", "")
    algorithm = params.get("algorithm", "MD5")
    if algorithm.upper() not in {"MD5", "MD5-SESS"}:
        raise RtspProtocolError(f"unsupported digest algorithm {algorithm!r}")
    ha1 = _md5(f"{username}:{realm}:{password}")
    client_nonce = cnonce or os.urandom(8).hex()
    if algorithm.upper() == "MD5-SESS":
        ha1 = _md5(f"{ha1}:{nonce}:{client_nonce}")
    ha2 = _md5(f"{method}:{uri}")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    fields = [
        f'username="{username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
    ]
    if "auth" in qops:
        count = f"{nc:08x}"
        response = _md5(f"{ha1}:{nonce}:{count}:{client_nonce}:auth:{ha2}")
        fields += [f'response="{response}"', "qop=auth", f"nc={count}", f'cnonce="{client_nonce}"']
    else:
        fields.append(f'response="{_md5(f"{ha1}:{nonce}:{ha2}")}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    if "algorithm" in params:
        fields.append(f"algorithm={algorithm}")
    return "Digest " + ", ".join(fields)


def sdp_media(body: bytes) -> tuple[str, ...]:
    """The media kinds (``video``, ``audio`` …) an SDP body announces."""
    text = body.decode("utf-8", errors="replace")
    return tuple(m.group(1) for m in re.finditer(r"^m=(\w+)\s", text, re.MULTILINE))


async def _read_response(reader: asyncio.StreamReader) -> RtspResponse:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise RtspProtocolError("RTSP response head too large") from exc
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise RtspProtocolError("the server closed the connection without answering") from exc
        raise RtspProtocolError(f"not an RTSP response: {exc.partial[:60]!r}") from exc
    status, reason, headers = parse_head(head[:-4])
    length = int(headers.get("content-length", "0") or 0)
    if length < 0 or length > MAX_BODY_BYTES:
        raise RtspProtocolError(f"RTSP body of {length} bytes refused")
    body = await reader.readexactly(length) if length else b""
    return RtspResponse(status, reason, headers, body)


class _Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.cseq = 0

    async def request(self, method: str, uri: str, headers: dict[str, str]) -> RtspResponse:
        self.cseq += 1
        self.writer.write(build_request(method, uri, self.cseq, headers))
        await self.writer.drain()
        response = await _read_response(self.reader)
        cseq = response.header("cseq")
        if cseq is not None and cseq.strip() != str(self.cseq):
            raise RtspProtocolError(f"CSeq mismatch: sent {self.cseq}, got {cseq}")
        return response


async def check_stream(
    uri: str,
    username: str | None,
    password: str | None,
    timeout_s: float,
) -> StreamCheck:
    """``OPTIONS`` then ``DESCRIBE`` (answering one auth challenge) on ``uri``; never raises."""
    try:
        host, port, clean, uri_user, uri_password = split_uri(uri)
    except ValueError as exc:
        return StreamCheck(False, str(exc))
    user = username or uri_user
    secret = password if password is not None else uri_password
    try:
        async with asyncio.timeout(timeout_s):
            return await _exchange(host, port, clean, user, secret)
    except TimeoutError:
        return StreamCheck(False, f"RTSP {host}:{port} did not answer within {timeout_s:g} s")
    except (ConnectionRefusedError, OSError) as exc:
        why = "refused" if isinstance(exc, ConnectionRefusedError) else (exc.strerror or str(exc))
        return StreamCheck(False, f"RTSP {host}:{port} {why}")
    except (RtspProtocolError, asyncio.IncompleteReadError, ValueError) as exc:
        return StreamCheck(False, f"RTSP {host}:{port}: {exc}")


async def _exchange(
    host: str, port: int, uri: str, user: str | None, secret: str | None
) -> StreamCheck:
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEADER_BYTES)
    try:
        session = _Session(reader, writer)
        options = await session.request("OPTIONS", uri, {})
        methods: tuple[str, ...] = ()
        if options.status == 200:
            methods = tuple(
                m.strip().upper() for m in (options.header("public") or "").split(",") if m.strip()
            )
        elif options.status != 401:
            return StreamCheck(
                False, f"RTSP OPTIONS answered {options.status} {options.reason}", options.status
            )
        accept = {"Accept": "application/sdp"}
        describe = await session.request("DESCRIBE", uri, accept)
        auth_used = None
        if describe.status == 401:
            challenge = describe.header("www-authenticate")
            if not challenge:
                return StreamCheck(
                    False, "RTSP DESCRIBE answered 401 without a challenge", 401, methods
                )
            if not user or secret is None:
                return StreamCheck(
                    False, "RTSP DESCRIBE needs credentials and none are configured", 401, methods
                )
            auth_used = parse_challenge(challenge)[0]
            header = authorization(challenge, "DESCRIBE", uri, user, secret)
            describe = await session.request("DESCRIBE", uri, {**accept, "Authorization": header})
            if describe.status == 401:
                return StreamCheck(
                    False, f"RTSP {auth_used} authentication rejected", 401, methods, auth=auth_used
                )
        if describe.status != 200:
            return StreamCheck(
                False,
                f"RTSP DESCRIBE answered {describe.status} {describe.reason}",
                describe.status,
                methods,
            )
        media = sdp_media(describe.body)
        if "video" not in media:
            return StreamCheck(
                False, "RTSP DESCRIBE announces no video track", 200, methods, media, auth_used
            )
        return StreamCheck(
            True, f"RTSP stream answers ({', '.join(media)})", 200, methods, media, auth_used
        )
    finally:
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await writer.wait_closed()
