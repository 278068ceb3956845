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

from kape_itops.atomic import write_text
from kape_itops.config import load_zone
from kape_itops.domain.text import reveal_value
from kape_itops.reports import charts, fmt
from kape_itops.reports.model import HealthReport

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def environment(tz: dt.tzinfo = dt.UTC) -> Environment:
    """The template environment (autoescape always on, control and bidi characters shown as
    escapes; times shown in ``tz``)."""
    env = Environment(
        loader=PackageLoader("kape_itops.reports", "templates"),
        autoescape=True,
        finalize=reveal_value,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=fmt.pct,
        ms=fmt.ms,
        num=fmt.num,
        when=functools.partial(fmt.stamp, tz=tz),
        day=functools.partial(fmt.day, tz=tz),
    )
    return env


def render_html(report: HealthReport) -> str:
    """The report as an HTML document (times in the report's zone, named once per table)."""
    t = report.trends
    zone = load_zone(report.tz)
    pages_total = {school: sum(p.v or 0 for p in pts) for school, pts in sorted(t.pages.items())}
    figures = {
        "availability": charts.line_chart(
            t.availability,
            title="Availability per school (%)",
            unit="%",
            y_min=min(
                [90.0, *(p.v for pts in t.availability.values() for p in pts if p.v is not None)]
            ),
            y_max=100,
            step_s=t.step_s,
            tz=zone,
        ),
        "latency": charts.line_chart(
            t.latency,
            title="Mean round-trip time per school (ms)",
            unit=" ms",
            y_min=0,
            step_s=t.step_s,
            tz=zone,
        ),
        "toner": charts.line_chart(
            t.toner,
            title="Lowest supply level per printer (%)",
            unit="%",
            y_min=0,
            y_max=100,
            step_s=t.step_s,
            tz=zone,
        ),
        "pages": charts.bar_chart(
            list(pages_total.items()), title="Pages printed in the period per school"
        ),
        "school_availability": charts.bar_chart(
            [(s.code, s.availability.pct_up) for s in report.schools],
            title="Availability per school over the period",
            unit=" %",
            max_value=100,
        ),
    }
    sparks: dict[str, object] = {
        code: charts.sparkline(pts) for code, pts in t.availability.items()
    }
    return (
        environment(zone)
        .get_template("health.html.j2")
        .render(
            r=report,
            figures=figures,
            sparks=sparks,
            kinds=sorted({k for c in report.inventory.by_school_kind.values() for k in c}),
            csp=CSP,
            changes_limit=300,
            tzl=fmt.zone_label(zone, report.period.end),
            tz_caption=fmt.zone_caption(zone, report.period.end),
        )
    )


def write_html(report: HealthReport, path: Path) -> Path:
    """Write the report to ``path`` (UTF-8), atomically."""
    write_text(path, render_html(report))
    return path


__all__ = ["CSP", "environment", "render_html", "write_html"]
