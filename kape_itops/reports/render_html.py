"""The health report as ONE self-contained HTML file: inline CSS and SVG, no scripts, no fetch.

Jinja2 autoescaping is on for every template, so device-supplied strings (names, reasons,
supply labels) are escaped; a Content-Security-Policy meta tag forbids any request the page
could make.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from kape_itops.reports import charts, fmt
from kape_itops.reports.model import HealthReport

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def environment() -> Environment:
    """The template environment (autoescape always on)."""
    env = Environment(
        loader=PackageLoader("kape_itops.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=fmt.pct, ms=fmt.ms, num=fmt.num, when=fmt.when, day=fmt.day)
    return env


def render_html(report: HealthReport) -> str:
    """The report as an HTML document."""
    t = report.trends
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
        ),
        "latency": charts.line_chart(
            t.latency,
            title="Mean round-trip time per school (ms)",
            unit=" ms",
            y_min=0,
            step_s=t.step_s,
        ),
        "toner": charts.line_chart(
            t.toner,
            title="Lowest supply level per printer (%)",
            unit="%",
            y_min=0,
            y_max=100,
            step_s=t.step_s,
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
        environment()
        .get_template("health.html.j2")
        .render(
            r=report,
            figures=figures,
            sparks=sparks,
            kinds=sorted({k for c in report.inventory.by_school_kind.values() for k in c}),
            csp=CSP,
            changes_limit=300,
        )
    )


def write_html(report: HealthReport, path: Path) -> Path:
    """Write the report to ``path`` (UTF-8)."""
    path.write_text(render_html(report), encoding="utf-8")
    return path


__all__ = ["CSP", "environment", "render_html", "write_html"]
