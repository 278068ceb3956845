"""User accounts for admins: list, add, change role, disable/enable, set a new password.

Every change is in the change log with the admin's name (source ``web: users``); the last
admin who can log in keeps the role and stays enabled (the service refuses).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kape_itops.accounts.service import Accounts
from kape_itops.domain.users import Role
from kape_itops.errors import DataError, UsageError
from kape_itops.server.web.auth import AdminUser, WebUser, database, web_router
from kape_itops.server.web.render import flash, render, tr

router = web_router(prefix="/admin")
SOURCE = "web: users"
BACK = "/admin/users"


def _accounts(request: Request, user: WebUser) -> Accounts:
    return Accounts(database(request).store, user.name)


def _back() -> Response:
    return RedirectResponse(BACK, status_code=303)


@router.get("/users")
def users(request: Request, user: AdminUser) -> Response:
    """Every account with its role and state."""
    found = _accounts(request, user).list()
    return render(request, "admin/users.html.j2", {"users": found, "roles": list(Role)})


@router.post("/users")
async def add(
    request: Request,
    user: AdminUser,
    name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=2000)],
) -> Response:
    """A new account (the name and password rules are the CLI's)."""
    accounts = _accounts(request, user)
    try:
        await run_in_threadpool(accounts.add, name.strip(), role, password, SOURCE)
    except (UsageError, DataError) as exc:
        flash(request, str(exc), "crit")
        return _back()
    flash(request, tr(request, "Account added."))
    return _back()


@router.post("/users/{name}/role")
def set_role(
    request: Request, user: AdminUser, name: str, role: Annotated[str, Form(max_length=40)]
) -> Response:
    """Give the account another role."""
    try:
        _accounts(request, user).set_role(name, role, SOURCE)
    except (UsageError, DataError) as exc:
        flash(request, str(exc), "crit")
        return _back()
    flash(request, tr(request, "Role changed."))
    return _back()


@router.post("/users/{name}/disable")
def disable(request: Request, user: AdminUser, name: str) -> Response:
    """Refuse the account's log-ins from now on (its open sessions end too)."""
    try:
        _accounts(request, user).disable(name, SOURCE)
    except (UsageError, DataError) as exc:
        flash(request, str(exc), "crit")
        return _back()
    flash(request, tr(request, "Account disabled."))
    return _back()


@router.post("/users/{name}/enable")
def enable(request: Request, user: AdminUser, name: str) -> Response:
    """Allow the account to log in again."""
    _accounts(request, user).enable(name, SOURCE)
    flash(request, tr(request, "Account enabled."))
    return _back()


@router.post("/users/{name}/password")
async def password(
    request: Request,
    user: AdminUser,
    name: str,
    password: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Set a new password (the account's other sessions end)."""
    accounts = _accounts(request, user)
    try:
        await run_in_threadpool(accounts.set_password, name, password, SOURCE)
    except (UsageError, DataError) as exc:
        flash(request, str(exc), "crit")
        return _back()
    flash(request, tr(request, "Password changed."))
    return _back()
