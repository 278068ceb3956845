"""Our error tree as HTTP answers: a status and a JSON ``{"error": "..."}`` body.

The status tells a site what to do: 401/403/4xx mean "refused, do not retry as is"; 5xx and
503 mean "try again later" (the HTTP transport maps them to :class:`~kape_itops.errors.LinkError`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kape_itops.domain.text import reveal
from kape_itops.errors import (
    AuthError,
    BundleError,
    DataError,
    ForbiddenError,
    ItopsError,
    NotFoundError,
    PayloadError,
    StoreError,
    SyncError,
    UsageError,
)

log = logging.getLogger("kape_itops.server")

STATUS: tuple[tuple[type[ItopsError], int], ...] = (
    (AuthError, 401),
    (ForbiddenError, 403),
    (PayloadError, 400),
    (BundleError, 400),
    (NotFoundError, 404),
    (SyncError, 400),
    (DataError, 400),
    (UsageError, 400),
    (StoreError, 503),
)
"""First match wins: subclasses before their bases."""
MESSAGE_CHARS = 500


def status_of(exc: ItopsError) -> int:
    """The HTTP status for one of our errors (500 for anything unexpected)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def error_response(status: int, message: str) -> JSONResponse:
    """``{"error": message}`` with ``status`` (a 401 names the Bearer scheme)."""
    text = reveal(message, newlines=False)[:MESSAGE_CHARS]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": text}, status_code=status, headers=headers)


async def _ours(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ItopsError)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
        message = "the server's database is unavailable" if status == 503 else "internal error"
        return error_response(status, message)
    return error_response(status, str(exc))


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail))


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(422, f"invalid request: {where}: {first.get('msg', 'invalid')}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s: unexpected error", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ItopsError, _ours)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
