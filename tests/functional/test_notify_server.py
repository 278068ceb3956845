"""The server's lifespan runs alert rounds in the background (``kape_itops.server.app``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kape_itops.store.db import Store
from tests.support.notify_data import History, khmer_school, secrets_file
from tests.support.notify_peers import TOKEN, FakeBotApi, bot_api, free_port


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


def test_a_real_server_process_sends_alerts_and_logs_no_token(
    sqlite_url: str, tmp_path: Path
) -> None:
    """``itops server serve`` (uvicorn) with alerts configured: a round every 0.2 s tells the
    fake Bot API once; the server's log (INFO, httpx's request lines included) has no token."""
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    h.run(**{"KPT-PSP-SW01": True})
    h.run(**{"KPT-PSP-SW01": True})
    store.dispose()
    port = free_port()
    log = tmp_path / "server.log"
    with bot_api() as api:
        secrets = secrets_file(tmp_path / "s.toml", telegram=api.url)
        env = {**os.environ, "ITOPS_NOTIFY_INTERVAL": "0.2", "ITOPS_TZ": "UTC"}
        cmd = [sys.executable, "-m", "kape_itops", "--db", sqlite_url, "--secrets", str(secrets)]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*cmd, "server", "serve", "--port", str(port)], stdout=out, stderr=out, env=env
            )
            try:
                deadline = time.monotonic() + 60
                while not api.texts() and time.monotonic() < deadline and proc.poll() is None:
                    time.sleep(0.1)
                time.sleep(1.0)  # several more rounds: nothing new to tell
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
        assert len(api.texts()) == 1 and "CRIT down KPT-PSP" in api.texts()[0], log.read_text()
    text = log.read_text(encoding="utf-8")
    assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in text  # uvicorn
    assert "telegram sent 1 problem(s)" in text  # re-raises the SIGTERM it handled gracefully
    assert "/bot***/sendMessage" in text and TOKEN not in text and TOKEN.split(":")[1] not in text
