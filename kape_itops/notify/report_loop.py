"""The monthly report mail in the background of the server, beside the alert rounds.

In the server's lifespan::

    async with report_loop.background(store, settings.secrets_path):
        yield

checks every ``ITOPS_NOTIFY_INTERVAL`` seconds (default 60) in a worker thread whether the
month's report is due (:class:`~kape_itops.notify.report_mail.ReportMailer`), only when the
secrets file has ``[reports.mail]``. A failing check is logged; leaving the block stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from kape_itops.errors import ItopsError
from kape_itops.notify.loop import STOP_WAIT_S, interval_from_env
from kape_itops.notify.report_mail import ReportMailer
from kape_itops.store.db import Store

__all__ = ["background", "rounds"]

log = logging.getLogger(__name__)


async def rounds(mailer: ReportMailer, interval: float, stop: asyncio.Event) -> None:
    """Check (and send when due), wait ``interval`` seconds or until ``stop`` is set, again."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(mailer.run_once)
        except ItopsError as exc:
            log.error("reports mail: %s", exc)
        except Exception:
            log.exception("reports mail: round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


@contextlib.asynccontextmanager
async def background(
    store: Store, secrets_path: Path | None, *, interval: float | None = None
) -> AsyncIterator[ReportMailer | None]:
    """Run :func:`rounds` while the block runs when ``[reports.mail]`` is set up; yields the
    mailer (None when it is not). Broken settings raise here, at startup."""
    mailer = ReportMailer(store, secrets_path)
    if not mailer.configured():
        yield None
        return
    every = interval if interval is not None else interval_from_env()
    stop = asyncio.Event()
    task = asyncio.create_task(rounds(mailer, every, stop), name="itops-report-mail")
    try:
        yield mailer
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=STOP_WAIT_S)
        except TimeoutError:
            log.warning("reports mail: a report was still being sent at shutdown")
