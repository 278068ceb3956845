"""Who calls ``/api/v1``: a server user by HTTP Basic (name and password), or the web session.

Scripts send ``Authorization: Basic`` with a server user's name and password, checked by
:meth:`~kape_itops.accounts.service.Accounts.authenticate` in the thread pool (the same
refusal message, failure count and account lock as the log-in form). Each password check
counts against the web log-in's per-address :class:`~kape_itops.server.web.auth.LoginLimiter`
(the same instance); a good name and password are remembered for :data:`REMEMBER_S` (keyed by
an HMAC with a per-process key, never the password itself) so a script's many requests cost
one argon2 check, and every request still re-reads the account: a disabled or locked account
or a changed password is refused at once.

Without an ``Authorization`` header the web session counts; its writes need the session's
``X-CSRF-Token`` header. A site's bearer credential is not a user: 401 here, as a user's
password is on ``/api/sync``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from kape_itops.accounts.service import REFUSED, Accounts
from kape_itops.domain.text import reveal
from kape_itops.domain.users import Action, Role, allowed
from kape_itops.errors import AuthError, NotFoundError
from kape_itops.server.web.auth import (
    SESSION_COOKIE,
    UNSAFE,
    CsrfRefused,
    LoginLimiter,
    csrf_guard,
    current_user,
    database,
)

REMEMBER_S = 300.0
"""How long a verified name and password skip the argon2 check."""
MAX_REMEMBERED = 1000
MAX_HEADER = 4096
NEEDS = "this needs a server user's name and password (HTTP Basic) or a web session"


class ApiRefused(Exception):
    """A refusal as JSON ``{"error": ...}``; 401 names the Basic scheme."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiRefused)
    headers = {"WWW-Authenticate": 'Basic realm="itops", charset="UTF-8"'}
    if exc.status == 429:
        headers = {"Retry-After": "60"}
    elif exc.status != 401:
        headers = {}
    body = {"error": reveal(exc.message, newlines=False)[:500]}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def install(app: FastAPI) -> None:
    """Answer :class:`ApiRefused` as JSON (the page handlers never see it); keep the
    remembered credentials of this application."""
    app.add_exception_handler(ApiRefused, _refused)
    app.state.api_remembered = Remembered()


@dataclass(frozen=True, slots=True)
class ApiUser:
    """The caller: a server user, by Basic credentials (``basic``) or session (``session``)."""

    name: str
    role: Role
    via: str

    def may(self, action: Action) -> bool:
        return allowed(self.role, action)


class Remembered:
    """Name and password pairs verified in the last :data:`REMEMBER_S` seconds (bounded).

    Kept as an HMAC under a key of this process, with the account's password time: a new
    password makes the entry useless.
    """

    def __init__(self, ttl: float = REMEMBER_S, size: int = MAX_REMEMBERED) -> None:
        self.ttl, self.size = ttl, size
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[bytes, tuple[float, str, dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, name: str, password: str) -> bytes:
        text = name.lower().encode() + b"\0" + password.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, text, hashlib.sha256).digest()

    def get(self, name: str, password: str) -> tuple[str, dt.datetime] | None:
        """(account name, password time) of a recent good check, or None."""
        key = self._digest(name, password)
        with self._lock:
            found = self._seen.get(key)
            if found is None or time.monotonic() - found[0] > self.ttl:
                self._seen.pop(key, None)
                return None
            return found[1], found[2]

    def put(self, name: str, password: str, canonical: str, changed: dt.datetime) -> None:
        key = self._digest(name, password)
        with self._lock:
            self._seen.pop(key, None)
            self._seen[key] = (time.monotonic(), canonical, changed)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)

    def forget(self, name: str, password: str) -> None:
        with self._lock:
            self._seen.pop(self._digest(name, password), None)


def _remembered(request: Request) -> Remembered:
    found: Remembered = request.app.state.api_remembered
    return found


class BasicScheme(HTTPBasic):
    """HTTP Basic for the OpenAPI document; credentials decoded as UTF-8 (RFC 7617), and
    never an automatic refusal (the dependency below decides)."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        if len(header) > MAX_HEADER:
            raise ApiRefused(401, REFUSED)
        try:
            text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ApiRefused(401, REFUSED) from None
        name, colon, password = text.partition(":")
        if not colon:
            raise ApiRefused(401, REFUSED)
        return HTTPBasicCredentials(username=name, password=password)


basic = BasicScheme(
    scheme_name="Basic",
    auto_error=False,
    realm="itops",
    description="A server user's name and password (`itops server user add`).",
)
cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="Session",
    auto_error=False,
    description="The web log-in's session; writes also need the `X-CSRF-Token` header.",
)
BasicDep = Annotated[HTTPBasicCredentials | None, Depends(basic)]
CookieDep = Annotated[str | None, Depends(cookie)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _check_account(request: Request, name: str, changed: dt.datetime) -> ApiUser | None:
    """The account of a remembered pair, if it may still log in with that password."""
    try:
        user = Accounts(database(request).store, "api").get(name)
    except NotFoundError:
        return None
    now = dt.datetime.now(dt.UTC)
    if user.disabled or user.locked(now) or user.password_changed_at != changed:
        return None
    return ApiUser(user.name, user.role, "basic")


def _verify(request: Request, name: str, password: str) -> ApiUser:
    """The user of Basic credentials (blocking: argon2 and the store)."""
    remembered = _remembered(request)
    if (seen := remembered.get(name, password)) is not None:
        if (user := _check_account(request, *seen)) is not None:
            return user
        remembered.forget(name, password)
    limiter: LoginLimiter = request.app.state.login_limiter
    if not limiter.allow(_client(request)):
        raise ApiRefused(429, "too many log-in attempts from this address: wait a few minutes")
    accounts = Accounts(database(request).store, "api")
    try:
        found = accounts.authenticate(name.strip(), password, dt.datetime.now(dt.UTC))
    except AuthError:
        raise ApiRefused(401, REFUSED) from None
    remembered.put(name, password, found.name, found.password_changed_at)
    return ApiUser(found.name, found.role, "basic")


async def api_user(request: Request, creds: BasicDep, _session: CookieDep) -> ApiUser:
    """The caller of an ``/api/v1`` route, or 401 (``WWW-Authenticate: Basic``)."""
    if creds is not None:
        user = await run_in_threadpool(_verify, request, creds.username, creds.password)
    elif request.headers.get("authorization"):
        raise ApiRefused(401, NEEDS + " (a site credential is for /api/sync only)")
    else:
        seen = await run_in_threadpool(current_user, request)
        if seen is None:
            raise ApiRefused(401, NEEDS)
        if request.method in UNSAFE:
            try:
                await csrf_guard(request)
            except CsrfRefused:
                raise ApiRefused(
                    403, "a write with the web session needs the X-CSRF-Token header"
                ) from None
        user = ApiUser(seen.name, seen.role, "session")
    request.state.site = f"user:{user.name}"  # the access log's last column
    return user


def caller(action: Action) -> Callable[[Request, BasicDep, CookieDep], Awaitable[ApiUser]]:
    """A dependency: the caller, whose role must allow ``action`` (else 403)."""

    async def dependency(request: Request, creds: BasicDep, session: CookieDep) -> ApiUser:
        user = await api_user(request, creds, session)
        if not user.may(action):
            raise ApiRefused(403, f"the role {user.role.value} does not allow this")
        return user

    dependency.__name__ = f"api_{action.value}"
    return dependency


Reader = Annotated[ApiUser, Depends(caller(Action.READ))]
InventoryWriter = Annotated[ApiUser, Depends(caller(Action.INVENTORY_WRITE))]
QuotesReader = Annotated[ApiUser, Depends(caller(Action.QUOTATIONS))]
