"""Errors as pages for browsers, as JSON under ``/api``.

Anonymous → 303 to the log-in form (htmx: ``HX-Redirect``); a role without the right → 403
page; a write without the CSRF token → 403; our own errors keep their status and message.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from kape_itops.errors import ItopsError
from kape_itops.server import errors as api_errors
from kape_itops.server.web.auth import CsrfRefused, Forbidden, LoginRequired
from kape_itops.server.web.render import page_error, tr

log = logging.getLogger("kape_itops.server.web")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


async def _login(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    where = "/login?next=" + quote(target, safe="/")
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": where})
    if request.method != "GET":
        return page_error(request, 401, tr(request, "Your session has ended: log in again."))
    return RedirectResponse(where, status_code=303)


async def _forbidden(request: Request, _exc: Exception) -> Response:
    return page_error(request, 403, tr(request, "Your role does not allow this."))


async def _csrf(request: Request, _exc: Exception) -> Response:
    log.warning("%s %s refused: no valid CSRF token", request.method, request.url.path)
    return page_error(
        request, 403, tr(request, "The form was stale or came from another site: reload the page.")
    )


async def _ours(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await api_errors._ours(request, exc)
    assert isinstance(exc, ItopsError)
    status = api_errors.status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return page_error(request, status, tr(request, "The server could not do this."))
    return page_error(request, status, str(exc))


async def _http(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await api_errors._http(request, exc)
    assert isinstance(exc, HTTPException)
    message = tr(request, "There is no such page.") if exc.status_code == 404 else str(exc.detail)
    return page_error(request, exc.status_code, message)


async def _invalid(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await api_errors._invalid(request, exc)
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "form", "body"))
    return page_error(request, 400, f"{where}: {first.get('msg', 'invalid')}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await api_errors._unexpected(request, exc)
    log.exception("%s %s: unexpected error", request.method, request.url.path, exc_info=exc)
    return page_error(request, 500, tr(request, "The server could not do this."))


def install(app: FastAPI) -> None:
    """Register the page-aware handlers (after :func:`kape_itops.server.errors.install`)."""
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(ItopsError, _ours)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
