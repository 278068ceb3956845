"""One build per month, school and data fingerprint (both database backends): the built report
is kept (lossless JSON, :mod:`kape_itops.reports.codec`), and every other language and format is
rendered from it, byte for byte what a fresh build renders."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from kape_itops.domain.inventory import ChangeContext, SchoolUpsert
from kape_itops.reports import codec, retention
from kape_itops.reports.cache import MODEL, Render, ReportCache, html_of, json_of
from kape_itops.reports.model import HealthReport
from kape_itops.reports.render_md import render_md
from kape_itops.reports.service import Reports
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.report_cache_repo import CacheKey, ReportCacheRepo
from tests.functional.test_report_cache import MONTH, OPTS, _edit
from tests.functional.test_report_khmer import fill
from tests.functional.test_report_month import NOW, history


def _md(lang: str) -> Render:
    return lambda r: render_md(r, lang).encode("utf-8")


def _renders() -> dict[tuple[str, str], Render]:
    return {
        ("en", "html"): html_of("en"),
        ("km", "html"): html_of("km"),
        ("en", "md"): _md("en"),
        ("km", "md"): _md("km"),
        ("", "json"): json_of,
    }


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dt.date]]:
    """The months Reports.monthly built (the real build, counted)."""
    done: list[dt.date] = []
    real = Reports.monthly

    def counted(self: Reports, month: dt.date, *a: object, **kw: object) -> HealthReport:
        done.append(month)
        return real(self, month, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Reports, "monthly", counted)
    yield done


def _fresh(store: Store) -> HealthReport:
    return Reports(store).monthly(MONTH, dataclasses.replace(OPTS, rollup_first=False), NOW)


@pytest.mark.parametrize("data", [history, fill])
def test_codec_gives_the_same_report(store: Store, data: object) -> None:
    data(store)  # type: ignore[operator]
    report = _fresh(store)
    again = codec.load(codec.dump(report))
    assert again == report
    assert report.comparison is not None and report.schools and report.trends.availability
    for lang in ("en", "km"):
        assert html_of(lang)(again) == html_of(lang)(report)
        assert render_md(again, lang) == render_md(report, lang)
    assert json_of(again) == json_of(report)


def test_codec_refuses_what_it_cannot_read() -> None:
    with pytest.raises(codec.CodecError):
        codec.load(b"not zlib")
    import json
    import zlib

    with pytest.raises(codec.CodecError):
        codec.load(zlib.compress(json.dumps({"format": 99, "report": {}}).encode()))


@pytest.mark.slow
def test_one_build_for_every_language_and_format(store: Store, builds: list[dt.date]) -> None:
    history(store)
    cache = ReportCache(store)
    renders = _renders()
    got: dict[tuple[str, str], bytes] = {}
    for want, render in renders.items():  # one at a time, as the pages and the API ask
        served = cache.one(MONTH, OPTS, want[0], want[1], render, NOW)
        assert not served.hit
        got[want] = served.body
    assert len(builds) == 1  # the first built; the others rendered the kept model
    with store.session() as s:
        repo = ReportCacheRepo(s)
        (kept,) = repo.kept(CacheKey(MONTH, "", "", MODEL))
        body = repo.body(kept.id)
    assert body is not None
    # build + render, as before the model was kept (at the same wall-clock "generated at")
    fresh = dataclasses.replace(_fresh(store), generated_at=codec.load(body).generated_at)
    for want, render in renders.items():
        assert got[want] == render(fresh), want
    builds.clear()

    # kept renderings are served as before; a changed fingerprint builds once more
    assert cache.one(MONTH, OPTS, "km", "html", html_of("km"), NOW).hit
    _edit(store, "USAID 2026")
    after = cache.one(MONTH, OPTS, "km", "html", html_of("km"), NOW)
    assert not after.hit and "USAID 2026" in after.body.decode()
    js = cache.one(MONTH, OPTS, "", "json", json_of, NOW)
    assert not js.hit and b"USAID 2026" in js.body
    assert len(builds) == 1
    with store.session() as s:
        assert len(ReportCacheRepo(s).kept(CacheKey(MONTH, "", "", MODEL))) == 2


@pytest.mark.slow
def test_an_unreadable_model_builds_anew(store: Store, builds: list[dt.date]) -> None:
    history(store)
    cache = ReportCache(store)
    first = cache.one(MONTH, OPTS, "en", "html", html_of("en"), NOW)
    from sqlalchemy import update

    from kape_itops.store.models import ReportCacheRow

    with store.write() as s:
        s.execute(update(ReportCacheRow).where(ReportCacheRow.fmt == MODEL).values(body=b"broken"))
    km = cache.one(MONTH, OPTS, "km", "html", html_of("km"), NOW)
    assert not km.hit and len(builds) == 2
    assert b"<html" in km.body and first.body != km.body


@pytest.mark.slow
def test_codec_gives_the_same_sample_report(sqlite_url: str) -> None:
    """The sample history holds one of every problem (outage, gap, toner, NVR disk, drift,
    camera not recording, HTML in a device string), discovery sweeps and backups."""
    from kape_itops.reports import sample

    store = Store(sqlite_url)
    store.upgrade()
    try:
        sample.seed_inventory(store, 3, 20, MONTH)
        end = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)
        sample.generate_history(store, end - dt.timedelta(days=2), end, dt.timedelta(minutes=20))
        sample.generate_discovery(store, end - dt.timedelta(days=2), end)
        with store.write() as s:  # a change-log entry in the month, with a Khmer name
            InventoryRepo(s).apply_schools(
                [SchoolUpsert(sample.SCHOOLS[0][0], {"name_km": "សាលា <b>"})],
                ChangeContext("dara", "web", end - dt.timedelta(days=1)),
            )
        retention.rollup(store)
        report = _fresh(store)
        assert report.discovery and report.problems and report.inventory.changes
        devices = [d for s in report.schools for d in s.devices]
        assert any(d.supplies for d in devices) and any(d.disk_used_pct for d in devices)
        assert any(d.recording is False for d in devices) and report.trends.toner
        again = codec.load(codec.dump(report))
        assert again == report
        for lang in ("en", "km"):
            assert html_of(lang)(again) == html_of(lang)(report)
            assert render_md(again, lang) == render_md(report, lang)
        assert json_of(again) == json_of(report)
    finally:
        store.dispose()


@pytest.mark.slow
def test_a_closed_month_is_not_rolled_up_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its rollups are final: a build skips the rollup (most of a build's time with a large
    fleet); a late result in the month (the ingest's redo mark) is rolled up first."""
    from kape_itops.domain.reports import epoch
    from kape_itops.store.rollup_repo import mark_redo
    from tests.functional.test_report_cache import _ids
    from tests.functional.test_report_month import DEC, NOV
    from tests.support.report_data import ping, write_run

    history(store)
    ids = _ids(store)
    write_run(store, DEC + dt.timedelta(days=1), [(ids["AAA-SW01"], "ping", "ok", ping(1.0))])
    retention.rollup(store)  # as the server does after each round: past the month's end
    rolled: list[int] = []
    real = retention.rollup

    def counted(s: Store) -> object:
        rolled.append(1)
        return real(s)

    monkeypatch.setattr(retention, "rollup", counted)
    cache = ReportCache(store)
    assert OPTS.rollup_first
    first = cache.one(MONTH, OPTS, "en", "html", html_of("en"), NOW)
    assert not first.hit and rolled == []
    late = NOV + dt.timedelta(days=3, hours=1)
    write_run(store, late, [(ids["AAA-SW01"], "ping", "crit", ping(None))])
    with store.write() as s:
        mark_redo(s, epoch(late))
    again = cache.one(MONTH, OPTS, "en", "html", html_of("en"), NOW)
    assert not again.hit and rolled == [1] and again.body != first.body
