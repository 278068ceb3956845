"""The request-body guard in front of every route: size limits, gzip with a cap, stalls."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import zlib
from typing import Any

import pytest

from kape_itops.server.bodies import BodyGuard, BodyLimits, Refused, gunzip

LIMITS = BodyLimits(max_body=64 * 1024, max_unzipped=256 * 1024, read_timeout=0.5)


class Echo:
    """An app that answers with the body it got and the headers it saw."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        message = await receive()
        body = json.dumps(
            {"n": len(message["body"]), "headers": [k.decode() for k, _ in scope["headers"]]}
        ).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def call(
    chunks: list[bytes], headers: list[tuple[bytes, bytes]], *, stall: bool = False
) -> tuple[int, dict[str, Any], Echo]:
    """Run the guard over one request sent as ``chunks``; (status, JSON answer, app)."""
    app = Echo()
    pending = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not pending:
            if stall:
                await asyncio.sleep(30)
            return {"type": "http.disconnect"}
        piece = pending.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(pending) or stall}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(BodyGuard(app, LIMITS)(scope, receive, send))  # type: ignore[arg-type]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), app


def test_a_gzip_body_reaches_the_route_decoded_without_its_encoding_header() -> None:
    data = b'{"a": 1}' * 10_000  # 80 kB: above the wire limit unless compressed
    packed = gzip.compress(data)
    status, got, _ = call([packed], [(b"content-encoding", b"gzip")])
    assert status == 200
    assert got["n"] == len(data)
    assert "content-encoding" not in got["headers"]


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    status, got, app = call([b""], [(b"content-length", str(10**9).encode())])
    assert status == 413 and "too large" in got["error"]
    assert app.calls == 0


def test_a_chunked_body_is_counted_as_it_streams() -> None:
    chunks = [os.urandom(16 * 1024) for _ in range(8)]  # 128 kB, no Content-Length
    status, _got, app = call(chunks, [])
    assert status == 413
    assert app.calls == 0


def test_a_gzip_bomb_is_refused_without_expanding_it() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    packed = bomb.compress(b"\0" * (50 * 1024 * 1024)) + bomb.flush()
    assert len(packed) < LIMITS.max_body
    status, got, app = call([packed], [(b"content-encoding", b"gzip")])
    assert status == 413 and "decoded" in got["error"]
    assert app.calls == 0


@pytest.mark.parametrize(
    ("body", "encoding", "status"),
    [
        (b"not gzip at all", b"gzip", 400),
        (gzip.compress(b"x" * 1000)[:-9], b"gzip", 400),
        (gzip.compress(b"x") + b"trailing", b"gzip", 400),
        (b"{}", b"br", 415),
    ],
)
def test_bad_encodings_are_refused(body: bytes, encoding: bytes, status: int) -> None:
    got_status, got, app = call([body], [(b"content-encoding", encoding)])
    assert got_status == status and got["error"]
    assert app.calls == 0


def test_a_stalled_body_gets_408() -> None:
    status, _got, app = call([b"{"], [], stall=True)
    assert status == 408
    assert app.calls == 0


def test_gunzip_allows_exactly_the_limit() -> None:
    data = os.urandom(1000)
    assert gunzip(gzip.compress(data), 1000) == data
    with pytest.raises(Refused):
        gunzip(gzip.compress(data), 999)
