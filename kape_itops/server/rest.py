"""The REST API for scripts under ``/api/v1``: inventory, problems, health reports, quotations
and every site's sync status, over the same services as the pages and the CLI.

Callers are server users: HTTP Basic with a name and password (``itops server user add``) or
the web session (writes then send ``X-CSRF-Token``); roles as on the pages (viewer reads,
it_staff changes the inventory, reviewer reads quotations, admin all). Answers are JSON;
refusals are ``{"error": "..."}`` with 400, 401 (``WWW-Authenticate: Basic``), 403, 404, 422
or 429. The site sync API (``/api/sync``) keeps its own bearer credential. Documented at
``/api/docs`` and ``/api/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from kape_itops.server import rest_auth, rest_docs, rest_inventory, rest_quotes, rest_reports
from kape_itops.server.rest_models import Error

PREFIX = "/api/v1"
AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Error, "description": "no or wrong credentials (`WWW-Authenticate: Basic`)"},
    403: {"model": Error, "description": "the role does not allow this"},
    422: {"model": Error, "description": "a parameter's value is refused (named)"},
    429: {"model": Error, "description": "too many password checks from this address"},
}

router = APIRouter(prefix=PREFIX, responses=AUTH_ERRORS)
router.include_router(rest_inventory.router)
router.include_router(rest_reports.router)
router.include_router(rest_quotes.router)


def install(app: FastAPI) -> None:
    """Add ``/api/v1``, its JSON refusals and the ``/api/docs`` page to ``app``."""
    app.include_router(router)
    app.include_router(rest_docs.router)
    rest_auth.install(app)
