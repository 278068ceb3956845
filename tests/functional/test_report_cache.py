"""Kept monthly reports (both database backends): served byte for byte while the data is
unchanged, built anew after a new run in the month, a change-log edit or a late result of the
previous month; bounded per key; the open month for a minute at most; the warm-up."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from kape_itops.domain.inventory import ChangeContext, DeviceUpsert
from kape_itops.domain.reports import epoch
from kape_itops.notify import report_loop
from kape_itops.notify.report_mail import ReportMailer
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.cache import ReportCache, Served, html_of, json_of, page_options, warm
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.report_cache_repo import CacheKey, ReportCacheRepo
from kape_itops.store.rollup_repo import mark_redo
from tests.functional.test_report_month import DEC, NOV, NOW, OCT, history
from tests.support.report_data import ping, write_run

H6 = dt.timedelta(hours=6)
OPTS = ReportOptions(interval=H6, tz="Asia/Phnom_Penh")
MONTH = dt.date(2026, 11, 1)


def _html(cache: ReportCache, now: dt.datetime = NOW, lang: str = "en") -> Served:
    return cache.one(MONTH, OPTS, lang, "html", html_of(lang), now)


def _json(cache: ReportCache) -> tuple[Served, dict[str, object]]:
    got = cache.one(MONTH, OPTS, "", "json", json_of, NOW)
    return got, json.loads(got.body)


def _ids(store: Store) -> dict[str, int]:
    from kape_itops.store.report_repo import ReportRepo

    with store.session() as s:
        return {r.asset_tag: r.id for r in ReportRepo(s).device_refs()}


def _edit(store: Store, note: str) -> None:
    with store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert("AAA-SW01", {"funding": note})], ChangeContext("dara", "web", NOW)
        )


def _aaa_previous(doc: dict[str, object]) -> float:
    comparison = doc["comparison"]
    assert isinstance(comparison, dict)
    row = comparison["schools"][0]
    assert row["code"] == "KPT-AAA"
    return float(row["previous"]["availability_pct"])


@pytest.mark.slow
def test_kept_until_the_data_changes(store: Store) -> None:
    history(store)
    cache = ReportCache(store)
    first = _html(cache)
    again = _html(cache)
    assert not first.hit and again.hit and again.body == first.body
    js, doc = _json(cache)
    assert not js.hit and _json(cache)[0].body == js.body

    # a run after the month changes nothing of it
    ids = _ids(store)
    write_run(store, DEC + dt.timedelta(days=2), [(ids["AAA-SW01"], "ping", "ok", ping(1.0))])
    assert _html(cache).hit

    # a new run in the month (a site's batch: with its redo mark, as the ingest stores it)
    batch = NOV + dt.timedelta(days=3, hours=1)
    write_run(store, batch, [(ids["AAA-SW01"], "ping", "crit", ping(None))])
    with store.write() as s:
        mark_redo(s, epoch(batch))
    rebuilt = _html(cache)
    assert not rebuilt.hit and rebuilt.body != first.body
    assert _html(cache).hit

    # an inventory edit (change log)
    _edit(store, "USAID 2026")
    edited = _html(cache)
    assert not edited.hit and edited.body != rebuilt.body
    assert _html(cache).body == edited.body

    # a late result of the previous month, stored as the sync ingest stores it (redo mark)
    assert _aaa_previous(doc) == pytest.approx(100.0)
    late = OCT + dt.timedelta(days=3, hours=1)
    write_run(store, late, [(ids["AAA-SW01"], "ping", "crit", ping(None))])
    with store.write() as s:
        mark_redo(s, epoch(late))
    js2, doc2 = _json(cache)
    assert not js2.hit and _aaa_previous(doc2) < 100.0
    assert not _html(cache).hit
    assert _json(cache)[0].body == js2.body


@pytest.mark.slow
def test_bounded_per_key(store: Store) -> None:
    history(store)
    cache = ReportCache(store, keep=2)
    for n in range(4):
        _edit(store, f"note {n}")
        assert not _html(cache).hit
        assert not _html(cache, lang="km").hit
    with store.session() as s:
        repo = ReportCacheRepo(s)
        for lang in ("en", "km"):
            assert len(repo.kept(CacheKey(MONTH, "", lang, "html"))) == 2
        assert len(repo.kept(CacheKey(MONTH, "", "", "model"))) == 2  # the built reports
        assert repo.count() == 6
    # the newest is the one served
    assert _html(cache).hit and _html(cache, lang="km").hit
    # and no more than ``total`` in all: the oldest go
    small = ReportCache(store, keep=2, total=3)
    assert not small.one(MONTH, OPTS, "", "json", json_of, NOW).hit
    with store.session() as s:
        repo = ReportCacheRepo(s)
        assert repo.count() == 3 and len(repo.kept(CacheKey(MONTH, "", "", "json"))) == 1
        assert [len(repo.kept(CacheKey(MONTH, "", x, "html"))) for x in ("en", "km")] == [1, 1]
    assert small.one(MONTH, OPTS, "", "json", json_of, NOW).hit and _html(cache).hit


@pytest.mark.slow
def test_open_month_for_a_minute(store: Store) -> None:
    history(store)
    cache = ReportCache(store)

    def december(now: dt.datetime) -> Served:
        return cache.one(DEC.date(), OPTS, "en", "html", html_of("en"), now)

    start = NOW.replace(second=0)
    assert not december(start).hit
    assert december(start + dt.timedelta(seconds=30)).hit
    assert not december(start + dt.timedelta(seconds=61)).hit


@pytest.mark.slow
def test_warm_up(store: Store) -> None:
    history(store)
    now = dt.datetime(2026, 12, 4, 3, tzinfo=dt.UTC)
    got = warm(store, now)
    assert sorted(got) == [("en", "html"), ("km", "html")]
    assert all(not s.hit for s in got.values())
    assert all(s.hit for s in warm(store, now).values())

    async def loop() -> None:
        async with report_loop.background(store, None, warm_every=0.05):
            for _ in range(200):
                await asyncio.sleep(0.05)
                with store.session() as s:
                    if ReportCacheRepo(s).count() >= 2:  # last month (by the clock), en and km
                        return
            raise AssertionError("no warm-up within 10 s")

    with store.write() as s:
        ReportCacheRepo(s).clear()
    asyncio.run(loop())


def test_the_mail_sends_the_kept_report(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from email.message import EmailMessage

    from tests.functional.test_report_khmer import fill
    from tests.functional.test_report_mail import DUE, PP, attachment, reports, with_schedule
    from tests.support.notify_peers import smtp_server

    monkeypatch.setenv("ITOPS_TZ", "Asia/Phnom_Penh")
    fill(store)
    page = ReportCache(store).one(MONTH, page_options(), "km", "html", html_of("km"))
    with smtp_server() as (box, port):
        mailer = ReportMailer(store, with_schedule(tmp_path / "s.toml", port), tz=PP)
        done = mailer.run_once(DUE)
        assert done is not None and done.sent
        ((_, msg),) = reports(box)
        assert isinstance(msg, EmailMessage)
        assert attachment(msg) == ("health-2026-11.html", page.body)
    with store.session() as s:
        repo = ReportCacheRepo(s)
        assert len(repo.kept(CacheKey(MONTH, "", "km", "html"))) == 1  # not built again
        assert len(repo.kept(CacheKey(MONTH, "", "km", "mail"))) == 1
