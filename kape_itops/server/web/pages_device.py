"""The device pages (filled in by their area; see the package docstring)."""

from __future__ import annotations

from kape_itops.server.web.auth import web_router

router = web_router()
