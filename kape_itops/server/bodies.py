"""Pure-ASGI request-body guard: a size limit, gzip decoding with a cap, and a read deadline.

Every request body is read here, before any route sees it, into memory bounded by the limits:
more than ``max_body`` bytes on the wire (by ``Content-Length`` or counted while a chunked body
streams) is refused with 413 at once; a ``Content-Encoding: gzip`` body is decoded in pieces and
refused with 413 as soon as its decoded size passes ``max_unzipped`` (a gzip bomb never
expands in memory). A body that stops arriving for ``read_timeout`` seconds gets 408. The route
then receives the decoded body with the encoding header removed.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PIECE = 64 * 1024
"""Most decoded bytes produced by one decompression step."""


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Bounds on one request body."""

    max_body: int
    """Bytes on the wire (compressed)."""
    max_unzipped: int
    """Bytes after gzip decoding."""
    read_timeout: float = 60.0
    """Seconds the body may stall between two pieces."""


class Refused(Exception):
    """A body the guard will not pass on: HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def send_error(send: Send, status: int, message: str) -> None:
    """A JSON ``{"error": message}`` response (the connection is closed after it)."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def gunzip(data: bytes, limit: int) -> bytes:
    """``data`` gzip-decoded; :class:`Refused` 413 past ``limit`` bytes, 400 if not gzip."""
    decoder = zlib.decompressobj(wbits=31)
    out = bytearray()
    try:
        piece = decoder.decompress(data, _PIECE)
        while True:
            out += piece
            if len(out) > limit:
                raise Refused(413, f"request body too large when decoded (limit {limit:,} bytes)")
            if decoder.eof or not (piece or decoder.unconsumed_tail):
                break
            piece = decoder.decompress(decoder.unconsumed_tail, _PIECE)
    except zlib.error as exc:
        raise Refused(400, f"request body is not valid gzip ({exc})") from exc
    if not decoder.eof:
        raise Refused(400, "request body is truncated gzip")
    if decoder.unused_data:
        raise Refused(400, "request body has bytes after its gzip stream")
    return bytes(out)


class BodyGuard:
    """ASGI middleware applying :class:`BodyLimits` to every HTTP request."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            encoding = self._encoding(scope)
            self._check_length(scope)
            body = await self._read(receive)
            if encoding == "gzip":
                body = gunzip(body, self.limits.max_unzipped)
            elif len(body) > self.limits.max_unzipped:
                raise Refused(413, f"request body too large (limit {self.limits.max_unzipped:,})")
        except Refused as exc:
            await send_error(send, exc.status, exc.message)
            return
        headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": headers}, replay, send)

    def _encoding(self, scope: Scope) -> str:
        values = [v for k, v in scope["headers"] if k == b"content-encoding"]
        encoding = b",".join(values).decode("latin-1").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            raise Refused(415, "unsupported Content-Encoding (send gzip or none)")
        return "gzip" if encoding == "gzip" else ""

    def _check_length(self, scope: Scope) -> None:
        for key, value in scope["headers"]:
            if key != b"content-length":
                continue
            try:
                length = int(value)
            except ValueError:
                raise Refused(400, "Content-Length is not a number") from None
            if length > self.limits.max_body:
                raise Refused(
                    413,
                    f"request body too large ({length:,} bytes; limit {self.limits.max_body:,})",
                )

    async def _read(self, receive: Receive) -> bytes:
        body = bytearray()
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.limits.read_timeout)
            except TimeoutError:
                raise Refused(408, "request body stalled") from None
            if message["type"] == "http.disconnect":
                raise Refused(400, "client went away before the body ended")
            body += message.get("body", b"")
            if len(body) > self.limits.max_body:
                raise Refused(413, f"request body too large (limit {self.limits.max_body:,} bytes)")
            if not message.get("more_body", False):
                return bytes(body)
