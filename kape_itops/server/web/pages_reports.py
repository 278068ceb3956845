"""The reports pages: choose a month, all schools or one, and a language; read the monthly
health report (compared with the month before) as its self-contained HTML page, or download it
as an A4 PDF. Every role may read them.

The report is built by :meth:`Reports.monthly <kape_itops.reports.service.Reports.monthly>`
from the rollups and kept (:class:`~kape_itops.reports.cache.ReportCache`: served again while
its data is unchanged); the PDF is printed by headless Chromium (:mod:`kape_itops.reports.pdf`), at
most :data:`PDF_AT_ONCE` at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from kape_itops import i18n
from kape_itops.config import DEFAULT_TZ, load_zone
from kape_itops.domain.timespan import parse_month
from kape_itops.errors import ConfigError, ItopsError, UsageError
from kape_itops.inventory.service import Inventory
from kape_itops.reports import pdf as printing
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.cache import ReportCache, html_of, page_options
from kape_itops.reports.pdf import PdfError, TooLong, html_to_pdf
from kape_itops.reports.render_html import render_html
from kape_itops.server.web.auth import ReadUser, WebUser, database, web_router
from kape_itops.server.web.render import lang_of, page_error, render, tr

router = web_router()

MONTHS_BACK = 24
"""Months offered in the form (the current one and those before)."""
PDF_AT_ONCE = 2
"""PDFs printed at the same time (each runs a Chromium)."""
PDF_WAIT_S = 120.0
_printing = threading.BoundedSemaphore(PDF_AT_ONCE)


class Busy(ItopsError):
    """Too many PDFs are being printed."""


def _zone() -> dt.tzinfo:
    return load_zone(os.environ.get("ITOPS_TZ") or DEFAULT_TZ)


def _months(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    out = [first]
    for _ in range(MONTHS_BACK - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return out


def _month(text: str | None, today: dt.date) -> dt.date:
    """The first day of ``YYYY-MM`` (default: the last complete month); 400 otherwise."""
    try:
        return parse_month(text or "last", today)[0]
    except ValueError as exc:
        raise UsageError(f"month: {exc}") from exc


def _lang(request: Request, asked: str | None) -> str:
    if asked is None or not asked.strip():
        return lang_of(request)
    if asked not in i18n.LANGS:
        raise UsageError(f"lang: '{asked[:8]}' is not one of {', '.join(i18n.LANGS)}")
    return asked


def _report(
    request: Request, user: WebUser, month: str | None, school: str | None
) -> tuple[dt.date, ReportOptions, ReportCache]:
    """The month, the options and the kept reports (built when their data changed)."""
    zone = _zone()
    first = _month(month, dt.datetime.now(zone).date())
    opts = page_options(school.strip().upper() or None if school else None)
    del user  # read access only: the report changes nothing
    return first, opts, ReportCache(database(request).store)


def _print(page: str) -> bytes:
    if not _printing.acquire(timeout=PDF_WAIT_S):
        raise Busy("other reports are being printed; try again in a minute")
    try:
        return html_to_pdf(page)
    finally:
        _printing.release()


def _name(first: dt.date, opts: ReportOptions) -> str:
    where = f"-{opts.school}" if opts.school else ""
    return f"health-{first:%Y-%m}{where}"


Month = Annotated[str | None, Query(max_length=16)]
School = Annotated[str | None, Query(max_length=32)]
Lang = Annotated[str | None, Query(max_length=8)]


@router.get("/reports")
def reports_page(
    request: Request, user: ReadUser, month: Month = None, school: School = None
) -> Response:
    """The form: month, school (or all), language; links to the HTML and the PDF."""
    zone = _zone()
    today = dt.datetime.now(zone).date()
    chosen = _month(month, today)
    schools = sorted(Inventory(database(request).store, user.name).schools(), key=lambda s: s.code)
    lang = lang_of(request)
    months = [(m, i18n.format_month(m, lang)) for m in _months(today)]
    return render(
        request,
        "reports/index.html.j2",
        {
            "months": months,
            "chosen": chosen,
            "schools": schools,
            "school": (school or "").strip().upper(),
        },
    )


@router.get("/reports/health.html")
def health_html(
    request: Request, user: ReadUser, month: Month = None, school: School = None, lang: Lang = None
) -> Response:
    """The monthly report as one self-contained page (inline CSS and SVG, the Khmer font)."""
    language = _lang(request, lang)
    first, opts, cache = _report(request, user, month, school)
    return HTMLResponse(cache.one(first, opts, language, "html", html_of(language)).body)


@router.get("/reports/health.pdf")
def health_pdf(
    request: Request, user: ReadUser, month: Month = None, school: School = None, lang: Lang = None
) -> Response:
    """The monthly report as an A4 PDF download."""
    language = _lang(request, lang)
    first, opts, cache = _report(request, user, month, school)
    try:
        # the page's HTML (kept, or kept now) tells first whether it can be printed at all
        size = len(cache.one(first, opts, language, "html", html_of(language)).body)
        if size > printing.MAX_HTML_BYTES:
            raise TooLong(size, printing.MAX_HTML_BYTES)
        data = cache.one(
            first, opts, language, "pdf", lambda r: _print(render_html(r, language))
        ).body
    except TooLong as exc:  # thousands of A4 pages (all schools of a large fleet): refused
        text = tr(
            request,
            "This report is too long for a PDF: %(mb)s MB of HTML, about %(pages)s A4 pages "
            "(the limit is %(limit)s MB). Choose one school, or open the HTML report: a "
            "browser can print or save it.",
        )
        sizes = {"mb": f"{exc.size / 1e6:.1f}", "pages": f"{exc.pages:,.0f}"}
        return page_error(request, 413, text % {**sizes, "limit": f"{exc.limit / 1e6:g}"})
    except (ConfigError, PdfError, Busy) as exc:  # no Chromium, it failed, or too many at once
        return page_error(request, 503, str(exc)[:300])
    name = f"{_name(first, opts)}-{language}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
