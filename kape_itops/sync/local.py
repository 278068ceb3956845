"""A :class:`~kape_itops.sync.transport.Transport` over a :class:`SyncServer` in this process.

It answers with the same JSON documents the HTTP API carries (times as ISO text), so a site
cannot tell it from the network: used by tests and by ``itops sync import`` style flows.
"""

from __future__ import annotations

import json
from typing import Any

from kape_itops.errors import AuthError
from kape_itops.sync.server import SyncServer, ack_json, grant_json, hello_json


class LocalTransport:
    """Calls ``server`` directly; ``credential`` is the site's (set by :meth:`join` too)."""

    def __init__(self, server: SyncServer, credential: str | None = None) -> None:
        self.server = server
        self.credential = credential

    def _site(self) -> Any:
        if not self.credential:
            raise AuthError("this needs the site credential (join first)")
        return self.server.authenticate(self.credential)

    def join(self, token: str, public_key: str, name: str, version: str) -> dict[str, Any]:
        """Exchange a one-time token; keeps the credential for the next calls."""
        grant = self.server.join(token, public_key, name, version)
        self.credential = grant.credential
        return grant_json(grant)

    def hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The server's marks and time."""
        return hello_json(self.server.hello(self._site(), _roundtrip(payload)))

    def push(self, batch: bytes) -> dict[str, Any]:
        """Commit one encoded batch; the ack as JSON."""
        return ack_json(self.server.ingest(self._site(), batch))

    def pull(self) -> dict[str, Any]:
        """The school's inventory as JSON."""
        doc: dict[str, Any] = _roundtrip(self.server.pull(self._site()))
        return doc


def _roundtrip(doc: Any) -> Any:
    """``doc`` through JSON text, as it would cross the wire (no shared objects)."""
    return json.loads(json.dumps(doc))
