"""The monthly report mail in the background of the server, beside the alert rounds.

In the server's lifespan::

    async with report_loop.background(store, settings.secrets_path):
        yield

checks every ``ITOPS_NOTIFY_INTERVAL`` seconds (default 60) in a worker thread whether the
month's report is due (:class:`~kape_itops.notify.report_mail.ReportMailer`), only when the
secrets file has ``[reports.mail]``. A failing check is logged; leaving the block stops it.

Whether or not mail is set up, it also keeps last month's all-schools report ready
(:func:`~kape_itops.reports.cache.warm`, in a worker thread): :data:`WARM_AFTER_S` seconds after
start-up, then every ``ITOPS_REPORT_WARM_S`` seconds (default :data:`WARM_EVERY_S`; 0: never),
so the month's first reader is served the kept copy. Only a changed fingerprint builds anew.

With ``ITOPS_ROLLUP_S`` set (seconds; default 0: off), it also rolls the raw results up that
often, so the school pages' availability and trends include what the collectors just sent. It is
off by default: a rollup holds the database's write lock (sync ingest and log-ins wait), which
takes seconds on a large fleet; schedule ``itops db prune`` at a quiet time instead, or set it.
The first round comes one interval after start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from kape_itops.errors import ConfigError, ItopsError
from kape_itops.notify.loop import STOP_WAIT_S, interval_from_env
from kape_itops.notify.report_mail import ReportMailer
from kape_itops.reports import cache, retention
from kape_itops.store.db import Store

__all__ = ["background", "rolling", "rounds", "warming"]

log = logging.getLogger(__name__)

WARM_AFTER_S = 20.0
"""Seconds after start-up before the first warm-up (a short-lived server never builds)."""
WARM_EVERY_S = 900.0
"""Default seconds between warm-ups (each only computes the fingerprint when nothing changed)."""
ROLLUP_EVERY_S = 0.0
"""Default seconds between rollup rounds: off (see the module docstring)."""


def warm_every_from_env() -> float:
    """``ITOPS_REPORT_WARM_S`` (seconds between warm-ups, 0: none), default 900."""
    return _seconds_from_env("ITOPS_REPORT_WARM_S", WARM_EVERY_S)


def rollup_every_from_env() -> float:
    """``ITOPS_ROLLUP_S`` (seconds between rollup rounds, 0: none), default 0."""
    return _seconds_from_env("ITOPS_ROLLUP_S", ROLLUP_EVERY_S)


def _seconds_from_env(var: str, default: float) -> float:
    raw = (os.environ.get(var) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{var}={raw[:20]!r} is not a number of seconds") from None
    if not 0 <= value < 1e7:
        raise ConfigError(f"{var}={raw[:20]!r} must be 0 or more seconds")
    return value


async def warming(store: Store, every: float, stop: asyncio.Event, first: float) -> None:
    """Keep last month's report ready: after ``first`` seconds, then every ``every`` seconds,
    one warm-up at a time in a worker thread, until ``stop`` is set."""
    wait = first
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
        if stop.is_set():
            return
        try:
            await asyncio.to_thread(cache.warm, store)
        except ItopsError as exc:
            log.error("report cache: warm-up: %s", exc)
        except Exception:
            log.exception("report cache: warm-up failed")
        wait = every


async def rolling(store: Store, every: float, stop: asyncio.Event) -> None:
    """Every ``every`` seconds roll up what arrived, in a worker thread, until ``stop``."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            await asyncio.to_thread(retention.rollup, store)
        except ItopsError as exc:
            log.error("rollup: %s", exc)
        except Exception:
            log.exception("rollup round failed")


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
    store: Store,
    secrets_path: Path | None,
    *,
    interval: float | None = None,
    warm_every: float | None = None,
    rollup_every: float | None = None,
) -> AsyncIterator[ReportMailer | None]:
    """Run :func:`rounds` while the block runs when ``[reports.mail]`` is set up, and
    :func:`warming` (``warm_every`` seconds, default from the environment; 0: none) and
    :func:`rolling` (``rollup_every`` seconds, likewise); yields the
    mailer (None when it is not set up). Broken settings raise here, at startup."""
    mailer = ReportMailer(store, secrets_path)
    configured = mailer.configured()
    every = (interval if interval is not None else interval_from_env()) if configured else 0.0
    warm_every = warm_every_from_env() if warm_every is None else warm_every
    rollup_every = rollup_every_from_env() if rollup_every is None else rollup_every
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if warm_every > 0:
        warm = warming(store, warm_every, stop, min(WARM_AFTER_S, warm_every))
        tasks.append(asyncio.create_task(warm, name="itops-report-warm"))
    if rollup_every > 0:
        tasks.append(asyncio.create_task(rolling(store, rollup_every, stop), name="itops-rollup"))
    if configured:
        tasks.append(asyncio.create_task(rounds(mailer, every, stop), name="itops-report-mail"))
    try:
        yield mailer if configured else None
    finally:
        stop.set()
        for task in tasks:
            try:
                await asyncio.wait_for(task, timeout=STOP_WAIT_S)
            except TimeoutError:
                log.warning("reports: %s was still at work at shutdown", task.get_name())
