"""Notification rounds in the background of an asyncio server (``itops server``).

In the server's lifespan::

    async with notify_loop.background(store, settings.secrets_path):
        yield

runs :meth:`~kape_itops.notify.service.Notifier.run_once` every ``ITOPS_NOTIFY_INTERVAL``
seconds (default 60) in a worker thread, only when the secrets file configures an alert channel.
A failing round is logged and the next one runs as planned; leaving the block stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator
from pathlib import Path

from kape_itops.errors import ConfigError, ItopsError
from kape_itops.notify.service import Notifier
from kape_itops.store.db import Store

__all__ = ["DEFAULT_INTERVAL_S", "background", "interval_from_env", "rounds"]

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60.0
STOP_WAIT_S = 60.0
"""How long leaving :func:`background` waits for a round in progress."""


def interval_from_env() -> float:
    """``ITOPS_NOTIFY_INTERVAL`` in seconds (default 60); ConfigError when it is not one."""
    raw = os.environ.get("ITOPS_NOTIFY_INTERVAL") or ""
    if not raw:
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 86_400):
        raise ConfigError(f"ITOPS_NOTIFY_INTERVAL '{raw[:20]}' must be seconds (0-86400)")
    return value


async def rounds(notifier: Notifier, interval: float, stop: asyncio.Event) -> None:
    """Run a round, wait ``interval`` seconds or until ``stop`` is set, again."""
    while not stop.is_set():
        try:
            report = await asyncio.to_thread(notifier.run_once)
        except ItopsError as exc:
            log.error("notify: round failed: %s", exc)
        except Exception:
            log.exception("notify: round failed")
        else:
            for c in report.channels:
                if c.sent:
                    log.info("notify: %s sent %d problem(s)", c.name, c.sent)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


@contextlib.asynccontextmanager
async def background(
    store: Store, secrets_path: Path | None, *, interval: float | None = None
) -> AsyncIterator[Notifier | None]:
    """Run :func:`rounds` while the block runs when alerts are configured; yields the notifier
    (None when no channel is set up). A broken secrets file raises here, at startup."""
    notifier = Notifier(store, secrets_path)
    if not notifier.configured():
        log.info("notify: no [alerts.telegram] or [alerts.smtp] in the secrets file: no alerts")
        yield None
        return
    every = interval if interval is not None else interval_from_env()
    stop = asyncio.Event()
    task = asyncio.create_task(rounds(notifier, every, stop), name="itops-notify")
    try:
        yield notifier
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=STOP_WAIT_S)
        except TimeoutError:
            log.warning("notify: a round was still running at shutdown")
