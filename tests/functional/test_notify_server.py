"""The server's lifespan runs alert rounds in the background (``kape_itops.server.app``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from kape_itops.store.db import Store
from tests.functional.test_notify import History, khmer_school, secrets_file
from tests.support.notify_peers import FakeBotApi, bot_api


def test_the_server_sends_alerts_in_the_background(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server app's lifespan runs notify rounds (the ASGI lifespan, without a socket)."""
    from kape_itops.server.app import create_app

    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    h.run(**{"KPT-PSP-SW01": True})
    h.run(**{"KPT-PSP-SW01": True})
    monkeypatch.setenv("ITOPS_NOTIFY_INTERVAL", "0.1")

    async def live(secrets: Path | None, api: FakeBotApi) -> None:
        app = create_app(sqlite_url, secrets_path=secrets)
        async with app.router.lifespan_context(app):
            deadline = time.monotonic() + 20
            while secrets and not api.texts() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)

    with bot_api() as api:
        asyncio.run(live(None, api))  # no secrets file: no alerts, starts fine
        assert api.requests == []
        asyncio.run(live(secrets_file(tmp_path / "s.toml", telegram=api.url), api))
        assert len(api.texts()) == 1 and "KPT-PSP-SW01" in api.texts()[0]
    store.dispose()
