"""The server rolls up what the collectors sent, in the background, so the pages' availability
and trends are current without a scheduled `db prune`."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from kape_itops.errors import ConfigError
from kape_itops.notify import report_loop
from kape_itops.reports import sample
from kape_itops.store.db import Store
from kape_itops.store.rollup_repo import RollupRepo


def _watermark(store: Store) -> int | None:
    with store.session() as s:
        return RollupRepo(s, frozenset()).watermark()


def test_the_background_rolls_up_new_results(store: Store) -> None:
    sample.seed_inventory(store, 1, 5)
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    sample.generate_history(store, end - dt.timedelta(hours=3), end)
    assert _watermark(store) is None

    async def loop() -> int | None:
        async with report_loop.background(store, None, warm_every=0, rollup_every=0.05):
            for _ in range(200):
                await asyncio.sleep(0.05)
                if (mark := _watermark(store)) is not None:
                    return mark
        return None

    mark = asyncio.run(loop())
    assert mark is not None and mark >= int((end - dt.timedelta(hours=2)).timestamp())


def test_rollup_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITOPS_ROLLUP_S", raising=False)
    assert report_loop.rollup_every_from_env() == 0.0  # off: a rollup holds the write lock
    monkeypatch.setenv("ITOPS_ROLLUP_S", "300")
    assert report_loop.rollup_every_from_env() == 300.0
    monkeypatch.setenv("ITOPS_ROLLUP_S", "soon")
    with pytest.raises(ConfigError, match="ITOPS_ROLLUP_S"):
        report_loop.rollup_every_from_env()
