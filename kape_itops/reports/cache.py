"""Finished monthly reports, kept and served again while their data is unchanged.

A monthly report (:meth:`Reports.monthly <kape_itops.reports.service.Reports.monthly>`: the
month and the one before) is built from months of rollups, far too slow for every page view.
:class:`ReportCache` keeps the rendered bytes (HTML and PDF per language, JSON) per month,
school and language with a fingerprint of everything the report reads
(:meth:`ReportCacheRepo.mark <kape_itops.store.report_cache_repo.ReportCacheRepo.mark>`: the
change log, runs, backups and sweeps, the rollups' progress, the sync sites), of the report
options and of the code that renders it. A request computes the fingerprint (index lookups);
when a kept report has it and no run, backup or sweep stored since began before the month's
end, its bytes are served; otherwise the report is built (rolled up first, unless the
month's rollups are final already), kept and served.
The open month is kept at most :data:`OPEN_FOR_S` seconds (its period ends "now").

A build also keeps the built report itself (:mod:`~kape_itops.reports.codec`, lossless JSON,
format :data:`MODEL`): another language or format of the same month, school and fingerprint
is then rendered from it (milliseconds; seconds for a PDF), not built again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kape_itops import __version__, i18n
from kape_itops.config import DEFAULT_TZ, load_zone
from kape_itops.domain.timespan import parse_month
from kape_itops.errors import ItopsError
from kape_itops.reports import codec, retention
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.model import HealthReport, to_dict
from kape_itops.reports.service import Reports
from kape_itops.store.db import Store
from kape_itops.store.report_cache_repo import CacheKey, DataMark, ReportCacheRepo, Seen

__all__ = [
    "KEEP",
    "MODEL",
    "OPEN_FOR_S",
    "TOTAL",
    "ReportCache",
    "Served",
    "html_of",
    "json_of",
    "page_options",
    "warm",
]

log = logging.getLogger(__name__)

KEEP = 2
"""Reports kept per (month, school, language, format): the newest fingerprints."""
OPEN_FOR_S = 60
"""The current month's report is served again for at most this long (its end is "now")."""
TOTAL = 400
"""Reports kept in all (the newest): old months and schools nobody reads again go."""
MODEL = "model"
"""The format (language ``""``) under which the built report itself is kept."""
BUMP_AFTER = 200
"""Stream rows looked through before a kept report's ``seen`` ids are moved up."""

Render = Callable[[HealthReport], bytes]


@dataclass(frozen=True, slots=True)
class Served:
    """A report's bytes; ``hit``: they were kept (built at ``built_at`` in ``build_ms``)."""

    body: bytes
    hit: bool
    built_at: dt.datetime
    build_ms: float


def html_of(lang: str) -> Render:
    """The report's self-contained HTML page in ``lang``, as UTF-8."""
    from kape_itops.reports.render_html import render_html

    return lambda report: render_html(report, lang).encode("utf-8")


def json_of(report: HealthReport) -> bytes:
    """The report as the JSON ``itops report health --json`` prints (compact, UTF-8)."""
    text = json.dumps(to_dict(report), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


@functools.cache
def code_mark() -> str:
    """A digest of the code, templates, catalogues and fonts that shape a report."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(__version__.encode())
    for folder, pattern in (
        ("reports", "*.py"),
        ("reports", "*.j2"),
        ("reports", "*.css"),
        ("i18n", "*.mo"),
        ("fonts", "*.ttf"),
        ("probes", "*.yaml"),
    ):
        for path in sorted((root / folder).rglob(pattern)):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _month_end(first: dt.date) -> dt.datetime:
    nxt = (first + dt.timedelta(days=31)).replace(day=1)
    return dt.datetime.combine(nxt, dt.time(), dt.UTC)


def _digest(key: CacheKey, mark: DataMark, options: ReportOptions, slot: int | None) -> str:
    opts = repr(dataclasses.replace(options, rollup_first=False))  # thresholds read lazily: repr
    doc = {
        "key": [key.month.isoformat(), key.school, key.lang, key.fmt],
        "data": mark.fixed,
        "options": opts,
        "code": code_mark(),
        "open": slot,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


_locks_guard = threading.Lock()
_locks: dict[tuple[str, dt.date, str], threading.Lock] = {}


def _lock(store: Store, first: dt.date, school: str) -> threading.Lock:
    """One build at a time per database, month and school in this process."""
    with _locks_guard:
        return _locks.setdefault((store.url, first, school), threading.Lock())


class ReportCache:
    """Monthly reports of ``store``, served from the kept copy while their data is unchanged."""

    def __init__(self, store: Store, keep: int = KEEP, total: int = TOTAL) -> None:
        self.store = store
        self.keep = max(1, keep)
        self.total = max(1, total)

    def monthly(
        self,
        month: dt.date,
        options: ReportOptions,
        renders: Mapping[tuple[str, str], Render],
        now: dt.datetime | None = None,
    ) -> dict[tuple[str, str], Served]:
        """The month holding ``month`` rendered by each of ``renders`` ((language, format) →
        bytes of the report): kept copies where the data is unchanged, the rest from one build
        of the report (which is rolled up first when ``options.rollup_first``)."""
        now = now or dt.datetime.now(dt.UTC)
        first = month.replace(day=1)
        school = options.school or ""
        got = self._kept(first, options, renders, now)
        if len(got) == len(renders):
            return got
        with _lock(self.store, first, school):
            got = self._kept(first, options, renders, now)  # another request may have built it
            missing = {k: r for k, r in renders.items() if k not in got}
            if missing:
                got.update(self._make(first, options, missing, now))
        return got

    def one(
        self,
        month: dt.date,
        options: ReportOptions,
        lang: str,
        fmt: str,
        render: Render,
        now: dt.datetime | None = None,
    ) -> Served:
        """One rendering of the month's report (see :meth:`monthly`)."""
        return self.monthly(month, options, {(lang, fmt): render}, now)[(lang, fmt)]

    def _keys(
        self, first: dt.date, options: ReportOptions, renders: Mapping[tuple[str, str], Render]
    ) -> dict[tuple[str, str], CacheKey]:
        return {
            (lang, fmt): CacheKey(first, options.school or "", lang, fmt) for lang, fmt in renders
        }

    def _kept(
        self,
        first: dt.date,
        options: ReportOptions,
        renders: Mapping[tuple[str, str], Render],
        now: dt.datetime,
    ) -> dict[tuple[str, str], Served]:
        end = _month_end(first)
        slot = int(now.timestamp()) // OPEN_FOR_S if end > now else None
        out: dict[tuple[str, str], Served] = {}
        bumps: list[int] = []
        with self.store.session() as s:
            repo = ReportCacheRepo(s)
            mark = repo.mark(end)
            for want, key in self._keys(first, options, renders).items():
                digest = _digest(key, mark, options, slot)
                for k in repo.kept(key):
                    if k.digest != digest or repo.news(k.seen, end):
                        continue
                    body = repo.body(k.id)
                    if body is not None:
                        out[want] = Served(body, True, k.built_at, k.build_ms)
                        if _gap(k.seen, mark.seen) > BUMP_AFTER:
                            bumps.append(k.id)
                    break
        if bumps:
            self._bump(bumps, mark.seen)
        return out

    def _bump(self, ids: list[int], seen: Seen) -> None:
        try:
            with self.store.write() as s:
                repo = ReportCacheRepo(s)
                for i in ids:
                    repo.bump(i, seen)
        except ItopsError as exc:  # only an optimisation: the next request looks further
            log.warning("report cache: %s", exc)

    def _model(
        self, first: dt.date, options: ReportOptions, now: dt.datetime
    ) -> tuple[HealthReport, DataMark, float] | None:
        """The kept built report of the current fingerprint (its mark and build ms), if any."""
        end = _month_end(first)
        slot = int(now.timestamp()) // OPEN_FOR_S if end > now else None
        key = CacheKey(first, options.school or "", "", MODEL)
        with self.store.session() as s:
            repo = ReportCacheRepo(s)
            mark = repo.mark(end)
            digest = _digest(key, mark, options, slot)
            for k in repo.kept(key):
                if k.digest != digest or repo.news(k.seen, end):
                    continue
                data = repo.body(k.id)
                if data is None:
                    return None
                try:
                    return codec.load(data), DataMark(mark.fixed, k.seen), k.build_ms
                except codec.CodecError as exc:  # build anew
                    log.warning("report cache: %s", exc)
                    return None
        return None

    def _make(
        self,
        first: dt.date,
        options: ReportOptions,
        renders: Mapping[tuple[str, str], Render],
        now: dt.datetime,
    ) -> dict[tuple[str, str], Served]:
        """Render from the kept built report; build (and keep it) when there is none."""
        kept = self._model(first, options, now)
        if kept is None:
            return self._build(first, options, renders, now)
        report, mark, _built = kept
        return self._render(first, options, renders, now, report, mark, 0.0, None)

    def _build(
        self,
        first: dt.date,
        options: ReportOptions,
        renders: Mapping[tuple[str, str], Render],
        now: dt.datetime,
    ) -> dict[tuple[str, str], Served]:
        end = _month_end(first)
        if options.rollup_first and not self._rolled_up(end):
            retention.rollup(self.store)
        with self.store.session() as s:
            mark = ReportCacheRepo(s).mark(end)  # before the build: newer data rebuilds
        t = time.perf_counter()
        report = Reports(self.store).monthly(
            first, dataclasses.replace(options, rollup_first=False), now
        )
        built = (time.perf_counter() - t) * 1000
        try:
            model: bytes | None = codec.dump(report)
        except codec.CodecError as exc:  # every variant is then built on its own
            log.warning("report cache: %s", exc)
            model = None
        return self._render(first, options, renders, now, report, mark, built, model)

    def _rolled_up(self, end: dt.datetime) -> bool:
        """Whether the rollups before ``end`` are final: the rollup is past ``end`` and no late
        result before it waits (a closed month; rolling up again would change nothing of it,
        and takes most of a build's time with a large fleet)."""
        with self.store.session() as s:
            fixed = ReportCacheRepo(s).mark(end).fixed
        return fixed["rollup"] == "done" and fixed["redo"] is None and not fixed["unfinished"]

    def _render(
        self,
        first: dt.date,
        options: ReportOptions,
        renders: Mapping[tuple[str, str], Render],
        now: dt.datetime,
        report: HealthReport,
        mark: DataMark,
        built: float,
        model: bytes | None,
    ) -> dict[tuple[str, str], Served]:
        """Render ``report`` (built in ``built`` ms) and keep the renderings (and ``model``)."""
        end = _month_end(first)
        slot = int(now.timestamp()) // OPEN_FOR_S if end > now else None
        out: dict[tuple[str, str], Served] = {}
        keys = self._keys(first, options, renders)
        for want, render in renders.items():
            t = time.perf_counter()
            body = render(report)
            ms = built + (time.perf_counter() - t) * 1000
            out[want] = Served(body, False, dt.datetime.now(dt.UTC), ms)
        try:
            with self.store.write() as s:
                repo = ReportCacheRepo(s)
                if model is not None:
                    key = CacheKey(first, options.school or "", "", MODEL)
                    repo.put(
                        key,
                        _digest(key, mark, options, slot),
                        mark.seen,
                        model,
                        build_ms=built,
                        keep=self.keep,
                        total=self.total,
                    )
                for want, served in out.items():
                    key = keys[want]
                    repo.put(
                        key,
                        _digest(key, mark, options, slot),
                        mark.seen,
                        served.body,
                        build_ms=served.build_ms,
                        keep=self.keep,
                        total=self.total,
                        built_at=served.built_at,
                    )
        except ItopsError as exc:  # the report is served all the same
            log.warning("report cache: not kept: %s", exc)
        return out


def _gap(old: Seen, new: Seen) -> int:
    return (new.run - old.run) + (new.backup - old.backup) + (new.sweep - old.sweep)


def page_options(school: str | None = None) -> ReportOptions:
    """The options the report pages, the API and :func:`warm` build with (``ITOPS_TZ``)."""
    return ReportOptions(school=school, tz=os.environ.get("ITOPS_TZ") or DEFAULT_TZ)


def warm(store: Store, now: dt.datetime | None = None) -> dict[tuple[str, str], Served]:
    """Build (when not kept yet) last month's all-schools HTML report in every language, as
    the report pages ask for it, so that the month's first reader does not wait."""
    opts = page_options()
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(load_zone(opts.tz)).date()
    first = parse_month("last", today)[0]
    return ReportCache(store).monthly(
        first, opts, {(lang, "html"): html_of(lang) for lang in i18n.LANGS}, now
    )
