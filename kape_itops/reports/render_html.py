"""The health report as ONE self-contained HTML file: inline CSS and SVG, no scripts, no fetch.

Jinja2 autoescaping is on for every template, so device-supplied strings (names, reasons,
supply labels) are escaped; a Content-Security-Policy meta tag forbids any request the page
could make.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from kape_itops import fonts, i18n
from kape_itops.atomic import write_text
from kape_itops.config import load_zone
from kape_itops.domain.text import reveal_value
from kape_itops.errors import UsageError
from kape_itops.reports import charts, fmt, words
from kape_itops.reports.compare import delta
from kape_itops.reports.model import HealthReport

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
DEFAULT_TITLE = "Health report"
"""The title :func:`~kape_itops.reports.build.build_report` gives; shown translated."""


def _stamp(v: dt.datetime | None, tz: dt.tzinfo, lang: str) -> str:
    return "—" if v is None else i18n.format_datetime(fmt.aware(v), lang, tz)


def caption(zone: dt.tzinfo, at: dt.datetime, lang: str) -> str:
    """``times in Asia/Phnom_Penh (+07)`` in ``lang``."""
    name, label = fmt.zone_name(zone), fmt.zone_label(zone, at)
    text = i18n.gettext(lang, "times in %(zone)s") % {"zone": name}
    return text + ("" if name == label else f" ({label})")


def environment(tz: dt.tzinfo = dt.UTC, lang: str = "en") -> Environment:
    """The template environment (autoescape always on, control and bidi characters shown as
    escapes; times shown in ``tz``; text in ``lang``)."""
    env = Environment(
        loader=PackageLoader("kape_itops.reports", "templates"),
        autoescape=True,
        finalize=reveal_value,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(lang), newstyle=True
    )
    env.filters.update(
        pct=fmt.pct,
        ms=fmt.ms,
        num=fmt.num,
        when=functools.partial(_stamp, tz=tz, lang=lang),
        day=functools.partial(_stamp, tz=tz, lang=lang),
        date=functools.partial(i18n.format_date, lang=lang),
        word=functools.partial(words.word, lang=lang),
        delta=delta,
    )
    return env


def render_html(report: HealthReport, lang: str = "en") -> str:
    """The report as an HTML document in ``lang`` (``en`` or ``km``; times in the report's
    zone, named once per table; the Khmer font embedded when the page holds Khmer)."""
    if lang not in i18n.LANGS:
        raise UsageError(f"language '{lang}' is not one of {', '.join(i18n.LANGS)}")
    t = report.trends
    zone = load_zone(report.tz)
    pages_total = {school: sum(p.v or 0 for p in pts) for school, pts in sorted(t.pages.items())}

    def _(message: str) -> str:
        return i18n.gettext(lang, message)

    line = functools.partial(
        charts.line_chart, step_s=t.step_s, tz=zone, empty=_("no data in the period")
    )
    bars = functools.partial(charts.bar_chart, empty=_("no data"))
    figures = {
        "availability": line(
            t.availability,
            title=_("Availability per school (%)"),
            unit="%",
            y_min=min(
                [90.0, *(p.v for pts in t.availability.values() for p in pts if p.v is not None)]
            ),
            y_max=100,
        ),
        "latency": line(
            t.latency, title=_("Mean round-trip time per school (ms)"), unit=" ms", y_min=0
        ),
        "toner": line(
            t.toner, title=_("Lowest supply level per printer (%)"), unit="%", y_min=0, y_max=100
        ),
        "pages": bars(list(pages_total.items()), title=_("Pages printed in the period per school")),
        "school_availability": bars(
            [(s.code, s.availability.pct_up) for s in report.schools],
            title=_("Availability per school over the period"),
            unit=" %",
            max_value=100,
        ),
    }
    sparks: dict[str, object] = {
        code: charts.sparkline(pts) for code, pts in t.availability.items()
    }
    env = environment(zone, lang)
    title = report.title
    if title == DEFAULT_TITLE:
        title = i18n.gettext(lang, i18n.marker("Health report"))
    month = _whole_month(report)
    context = {
        "lang": lang,
        "title": title,
        "month_name": i18n.format_month(month, lang) if month else "",
        "tz_caption": caption(zone, report.period.end, lang),
        "font_family": fonts.FAMILY,
    }
    page = env.get_template("health.html.j2").render(
        r=report,
        figures=figures,
        sparks=sparks,
        kinds=sorted({k for c in report.inventory.by_school_kind.values() for k in c}),
        csp=CSP,
        changes_limit=300,
        tzl=fmt.zone_label(zone, report.period.end),
        **context,
    )
    return fonts.embed_font(page)  # the Khmer glyphs the page's own text needs


def _whole_month(report: HealthReport) -> dt.date | None:
    """The month a monthly report covers (None for any other period)."""
    start = report.period.start
    if report.comparison is None or start.day != 1 or start.time() != dt.time():
        return None
    return start.date()


def write_html(report: HealthReport, path: Path, lang: str = "en") -> Path:
    """Write the report to ``path`` (UTF-8), atomically."""
    write_text(path, render_html(report, lang))
    return path


__all__ = ["CSP", "delta", "environment", "render_html", "write_html"]
