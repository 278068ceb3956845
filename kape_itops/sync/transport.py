"""How a site talks to the server: one small interface, two implementations.

:class:`Transport` is what :class:`kape_itops.sync.site.SyncSite` calls; the HTTP one
(:mod:`kape_itops.sync.http`) speaks to ``itops server`` over HTTPS, the local one calls a
:class:`kape_itops.sync.server.SyncServer` in the same process (tests, ``sync import``).
Every method raises :class:`~kape_itops.errors.LinkError` when the server could not be reached
or the answer was lost (a retry is always safe), and ``AuthError``, ``ForbiddenError`` or
``PayloadError`` (:mod:`kape_itops.errors`) when the server refused.
"""

from __future__ import annotations

from typing import Any, Protocol

from kape_itops.errors import LinkError

__all__ = ["LinkError", "Transport"]


class Transport(Protocol):
    """The four calls a site makes; payloads are the JSON documents of :mod:`..wire`."""

    def join(self, token: str, public_key: str, name: str, version: str) -> dict[str, Any]:
        """Exchange a one-time enrolment token for the site's credential (no auth)."""
        ...

    def hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Greet the server: it answers with its marks per stream and its time."""
        ...

    def push(self, batch: bytes) -> dict[str, Any]:
        """Send one encoded batch (JSON bytes); the server answers with its ack."""
        ...

    def pull(self) -> dict[str, Any]:
        """The server's inventory and probe settings for this site's school."""
        ...
