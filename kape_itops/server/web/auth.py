"""Who is asking: signed session cookies, CSRF tokens, roles, and log-in with a rate limit.

The session is Starlette's signed cookie (itsdangerous; HttpOnly, SameSite=Lax, Secure over
TLS) holding the user name, when they logged in and a CSRF token. Every request re-reads the
account, so a disabled account or a changed password ends its sessions at once.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from kape_itops.accounts.service import Accounts
from kape_itops.admin.service import Database
from kape_itops.atomic import write_text
from kape_itops.domain.users import Action, Role, allowed
from kape_itops.errors import ConfigError, NotFoundError

log = logging.getLogger("kape_itops.server.web")

SESSION_COOKIE = "itops_session"
SESSION_MAX_AGE = 12 * 3600
"""A session lasts a working day; then the user logs in again."""
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_ENV = "ITOPS_SESSION_KEY"


@dataclass(frozen=True, slots=True)
class WebUser:
    """The logged-in user as the pages see them."""

    name: str
    role: Role

    def may(self, action: Action | str) -> bool:
        """Whether this user's role allows ``action``."""
        return allowed(self.role, Action(action))


class LoginRequired(Exception):
    """No (valid) session: the page sends the browser to the log-in form."""


class Forbidden(Exception):
    """Logged in, but the role does not allow this (403)."""


class CsrfRefused(Exception):
    """A write without the session's CSRF token (403)."""


def session_key(secrets_path: Path | None) -> str:
    """The key that signs session cookies.

    ``ITOPS_SESSION_KEY``, else ``<secrets file>.session-key`` (0600, made on first use), else
    a fresh key for this process only (sessions then end when the server restarts).
    """
    if key := os.environ.get(KEY_ENV, "").strip():
        if len(key) < 32:
            raise ConfigError(f"{KEY_ENV} must be at least 32 characters")
        return key
    if secrets_path is None:
        log.info("no secrets file: log-in sessions end when the server restarts")
        return secrets.token_urlsafe(48)
    path = secrets_path.with_name(secrets_path.name + ".session-key")
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot read the session key {path}: {exc}") from exc
    if len(key) < 32:
        key = secrets.token_urlsafe(48)
        write_text(path, key + "\n", perms=0o600)
    return key


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use, also for the log-in form)."""
    session: dict[str, Any] = request.session
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        if request.method in UNSAFE:  # another site's form comes without the (SameSite) cookie:
            return token  # a session made for the answer would replace the user's (a log-out)
        session["csrf"] = token
    return token


async def csrf_guard(request: Request) -> None:
    """Refuse a write whose form field ``csrf`` or header ``X-CSRF-Token`` is not the session's."""
    if request.method not in UNSAFE:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get("csrf")
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRefused


def web_router(**kwargs: Any) -> APIRouter:
    """An APIRouter for pages: every write on it passes the CSRF check."""
    deps = list(kwargs.pop("dependencies", []))
    kwargs.setdefault("include_in_schema", False)
    return APIRouter(dependencies=[Depends(csrf_guard), *deps], **kwargs)


def database(request: Request) -> Database:
    """The application's database (services are built on ``database(request).store``)."""
    found: Database = request.app.state.database
    return found


def current_user(request: Request) -> WebUser | None:
    """The user of a valid session, or None (cached on the request)."""
    if hasattr(request.state, "web_user"):
        cached: WebUser | None = request.state.web_user
        return cached
    found = _session_user(request)
    request.state.web_user = found
    if found is not None:
        request.state.site = f"user:{found.name}"  # the access log's last column
    return found


def _session_user(request: Request) -> WebUser | None:
    session: dict[str, Any] = request.session
    name, since = session.get("user"), session.get("since")
    if not isinstance(name, str) or not isinstance(since, int | float):
        return None
    try:
        user = Accounts(database(request).store, "web").get(name)
    except NotFoundError:
        user = None
    if user is None or user.disabled or user.password_changed_at.timestamp() > since + 1:
        session.pop("user", None)
        return None
    return WebUser(user.name, user.role)


def require(action: Action) -> Callable[[Request], WebUser]:
    """A dependency: the logged-in user whose role allows ``action``."""

    def dependency(request: Request) -> WebUser:
        user = current_user(request)
        if user is None:
            raise LoginRequired
        if not user.may(action):
            raise Forbidden
        return user

    dependency.__name__ = f"require_{action.value}"
    return dependency


ReadUser = Annotated[WebUser, Depends(require(Action.READ))]
InventoryUser = Annotated[WebUser, Depends(require(Action.INVENTORY_WRITE))]
ProbesUser = Annotated[WebUser, Depends(require(Action.PROBES_BACKUPS))]
QuotesUser = Annotated[WebUser, Depends(require(Action.QUOTATIONS))]
AdminUser = Annotated[WebUser, Depends(require(Action.ADMIN_USERS))]


def start_session(request: Request, name: str) -> None:
    """A fresh session for ``name`` after a good log-in (new CSRF token: no fixation)."""
    request.session.clear()
    request.session["user"] = name
    request.session["since"] = int(time.time())
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


class LoginLimiter:
    """At most ``attempts`` log-in tries per client address per ``window`` seconds.

    On top of the per-account lock (5 failures lock an account for 15 min) this slows a
    guesser trying many names from one address. Memory is bounded (oldest addresses dropped).
    """

    def __init__(self, attempts: int = 10, window: float = 300.0, max_clients: int = 10_000):
        self.attempts, self.window, self.max_clients = attempts, window, max_clients
        self._seen: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one try from ``client``; False when it is over the limit."""
        at = time.monotonic() if now is None else now
        with self._lock:
            tries = [t for t in self._seen.pop(client, []) if at - t < self.window]
            allowed_now = len(tries) < self.attempts
            if allowed_now:
                tries.append(at)
            self._seen[client] = tries
            while len(self._seen) > self.max_clients:
                self._seen.popitem(last=False)
            return allowed_now


def safe_next(target: str | None) -> str:
    """A local path to go to after log-in (never another site: no ``//host`` or scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
