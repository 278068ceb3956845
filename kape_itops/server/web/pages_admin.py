"""User accounts for admins (filled in with the admin page)."""

from __future__ import annotations

from kape_itops.server.web.auth import web_router

router = web_router()
