"""Log-in and log-out, and the language switch."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kape_itops.accounts.service import Accounts
from kape_itops.errors import AuthError
from kape_itops.server.web.auth import (
    LoginLimiter,
    current_user,
    database,
    end_session,
    safe_next,
    start_session,
    web_router,
)
from kape_itops.server.web.render import render, tr

router = web_router()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The log-in form (a logged-in user goes straight on)."""
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html.j2", {"next": safe_next(next), "error": None, "name": ""})


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password (argon2 in the thread pool); at most 10 tries per address in 5 min."""
    limiter: LoginLimiter = request.app.state.login_limiter
    client = request.client.host if request.client else "-"
    target = safe_next(next)
    if not limiter.allow(client):
        message = tr(request, "Too many log-in attempts from this address: wait a few minutes.")
        context = {"next": target, "error": message, "name": name}
        return render(request, "login.html.j2", context, status=429)
    accounts = Accounts(database(request).store, "web")
    try:
        user = await run_in_threadpool(
            accounts.authenticate, name.strip(), password, dt.datetime.now(dt.UTC)
        )
    except AuthError:
        message = tr(request, "Wrong name or password, or the account is locked or disabled.")
        context = {"next": target, "error": message, "name": name}
        return render(request, "login.html.j2", context, status=401)
    start_session(request, user.name)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session."""
    end_session(request)
    return RedirectResponse("/login", status_code=303)
