"""The FastAPI application of ``itops server``: services, routes, limits, errors, access log.

Built by :func:`create_app` from a database URL alone (no click), so tests and ``itops server``
make it the same way. OpenAPI: ``/api/openapi.json``, browsable at ``/api/docs``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from kape_itops import __version__
from kape_itops.admin.service import Database
from kape_itops.limits import Limits
from kape_itops.notify import loop as notify_loop
from kape_itops.notify import report_loop
from kape_itops.server import api, errors, rest, web
from kape_itops.server.bodies import ASGIApp, BodyGuard, BodyLimits, Message, Receive, Scope, Send
from kape_itops.sync.server import SyncServer

access = logging.getLogger("kape_itops.server.access")
_MB = 1024 * 1024
READ_TIMEOUT_S = 60.0
"""How long a request body may stall before the server answers 408 and hangs up."""


def body_limits(limits: Limits | None = None) -> BodyLimits:
    """Request-body bounds from :class:`~kape_itops.limits.Limits` (``ITOPS_MAX_SYNC_MB``)."""
    got = limits or Limits.from_env()
    size = got.max_sync_mb * _MB
    return BodyLimits(max_body=size, max_unzipped=size, read_timeout=READ_TIMEOUT_S)


class AccessLog:
    """One log line per request: client, method, path, status, bytes sent, time, site uid.

    Never a header (the credential travels in ``Authorization``) nor a query string.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        state = scope.setdefault("state", {})
        seen = {"status": 0, "bytes": 0}

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            client = scope.get("client") or ("-", 0)
            access.info(
                "%s %s %s %d %dB %.0fms site=%s",
                client[0],
                scope["method"],
                scope["path"][:200],
                seen["status"],
                seen["bytes"],
                (time.monotonic() - started) * 1000,
                state.get("site", "-"),
            )


def create_app(
    db_url: str,
    *,
    secrets_path: Path | None = None,
    limits: Limits | None = None,
    prepare: bool = True,
    secure_cookies: bool = False,
) -> FastAPI:
    """The API and the web pages over the database at ``db_url``; ``prepare`` checks (SQLite:
    makes) its schema.

    ``secrets_path`` is kept for the server's own secrets (alert channels, the session key);
    the sync API needs none. ``secure_cookies``: the server runs TLS (HTTPS-only cookies).
    """
    database = Database(db_url)
    if prepare and (note := database.prepare()):
        logging.getLogger("kape_itops.server").info("%s", note)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:  # alerts: a notify round every ITOPS_NOTIFY_INTERVAL s when [alerts.*] is set up
            async with (
                notify_loop.background(database.store, secrets_path),
                report_loop.background(database.store, secrets_path),  # [reports.mail]
            ):
                yield
        finally:
            database.close()

    app = FastAPI(
        lifespan=lifespan,
        title="kape-itops server",
        version=__version__,
        docs_url=None,  # /api/docs: server/rest_docs.py (no CDN, no inline script)
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.database = database
    app.state.sync = SyncServer(database.store)
    app.state.secrets_path = secrets_path
    app.include_router(api.router)
    rest.install(app)
    errors.install(app)
    web.install(app, secrets_path=secrets_path, secure=secure_cookies)
    app.add_middleware(BodyGuard, limits=body_limits(limits))
    app.add_middleware(AccessLog)
    return app
