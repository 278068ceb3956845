"""The web pages of ``itops server``: log-in, overview, schools, devices, inventory,
quotations, reports and users, in English and Khmer.

:func:`install` adds them to the FastAPI application: sessions, security headers, static
files (htmx and the Khmer font, vendored: no CDN), the page routers and HTML error pages.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from kape_itops.server.web import (
    errors,
    pages_admin,
    pages_device,
    pages_inventory,
    pages_login,
    pages_overview,
    pages_quotes,
    pages_reports,
)
from kape_itops.server.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, LoginLimiter, session_key
from kape_itops.server.web.headers import SecurityHeaders

STATIC = Path(__file__).with_name("static")
FONTS = Path(__file__).resolve().parent.parent.parent / "fonts"

PAGES = (
    pages_login,
    pages_overview,
    pages_device,
    pages_inventory,
    pages_quotes,
    pages_reports,
    pages_admin,
)


def install(app: FastAPI, *, secrets_path: Path | None = None, secure: bool = False) -> None:
    """Add the pages to ``app``; ``secure`` marks cookies HTTPS-only (the server runs TLS)."""
    app.state.login_limiter = LoginLimiter()
    for module in PAGES:
        app.include_router(module.router)
    app.mount("/static/fonts", StaticFiles(directory=FONTS), name="fonts")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(secrets_path),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=secure,
    )
