"""Inline SVG charts generated in Python: line charts, horizontal bars and sparklines.

Every label is escaped here, so the markup returned can be placed in a page as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

from kape_itops.reports.trends import Point

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
    "#393b79",
    "#ad494a",
)


def _svg(text: str) -> Markup:
    """Mark chart markup safe: it is built here and every label in it was escaped."""
    return Markup(text)  # noqa: S704


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"


def _when(t: int, step_s: int, tz: dt.tzinfo = dt.UTC) -> str:
    if step_s >= 86400:  # a daily bucket is a UTC day: label it with that day
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%d %b")
    return dt.datetime.fromtimestamp(t, tz).strftime("%d %b %H:%M")


def line_chart(
    series: Mapping[str, Sequence[Point]],
    *,
    title: str,
    unit: str = "",
    y_min: float | None = None,
    y_max: float | None = None,
    step_s: int = 3600,
    tz: dt.tzinfo = dt.UTC,
    width: int = 640,
    height: int = 220,
    empty: str = "no data in the period",
) -> Markup:
    """One line per series; gaps (None) break the line. An empty chart says so (``empty``).

    Time labels on the x axis are in ``tz``.
    """
    left, right, top, bottom = 48, 10, 26, 42
    pw, ph = width - left - right, height - top - bottom
    values = [p.v for pts in series.values() for p in pts if p.v is not None]
    times = sorted({p.t for pts in series.values() for p in pts})
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="{left}" y="16" class="ct">{escape(title)}</text>'
    )
    if not values or not times:
        return _svg(
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="cm">'
            f"{escape(empty)}</text></svg>"
        )
    lo = min(values) if y_min is None else y_min
    hi = max(values) if y_max is None else y_max
    if hi <= lo:
        hi = lo + 1
    t0, t1 = times[0], times[-1]
    span = max(1, t1 - t0)

    def x(t: int) -> float:
        return left + (t - t0) / span * pw

    def y(v: float) -> float:
        return top + ph - (min(max(v, lo), hi) - lo) / (hi - lo) * ph

    parts = [head]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="cg"/>'
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" class="cl">'
            f"{escape(_fmt(v) + unit)}</text>"
        )
    for t, anchor in ((t0, "start"), (times[len(times) // 2], "middle"), (t1, "end")):
        parts.append(
            f'<text x="{x(t):.1f}" y="{top + ph + 14}" text-anchor="{anchor}" class="cl">'
            f"{escape(_when(t, step_s, tz))}</text>"
        )
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for p in pts:
            if p.v is None:
                segments.append([])
            else:
                segments[-1].append(f"{x(p.t):.1f},{y(p.v):.1f}")
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>')
            elif seg:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
                    f'points="{" ".join(seg)}"><title>{escape(name)}</title></polyline>'
                )
    lx, ly = left, height - 10
    for i, name in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        label = escape(name if len(name) <= 18 else name[:17] + "…")
        parts.append(
            f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 13}" y="{ly + 1}" class="cl">{label}</text>'
        )
        lx += 20 + 7 * len(name[:18])
        if lx > width - 80:
            break
    parts.append("</svg>")
    return _svg("".join(parts))


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    max_value: float | None = None,
    width: int = 640,
    empty: str = "no data",
) -> Markup:
    """Horizontal bars with the value written at the end; None is drawn as ``empty``."""
    row, left, top = 20, 150, 26
    height = top + row * max(1, len(bars)) + 8
    known = [v for _, v in bars if v is not None]
    hi = max_value if max_value is not None else (max(known) if known else 1.0)
    hi = hi or 1.0
    pw = width - left - 70
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="4" y="16" class="ct">{escape(title)}</text>'
    ]
    for i, (label, v) in enumerate(bars):
        yy = top + i * row
        name = escape(label if len(label) <= 22 else label[:21] + "…")
        parts.append(
            f'<text x="{left - 6}" y="{yy + 13}" text-anchor="end" class="cl">{name}</text>'
        )
        if v is None:
            parts.append(f'<text x="{left}" y="{yy + 13}" class="cm">{escape(empty)}</text>')
            continue
        w = max(0.0, min(1.0, v / hi)) * pw
        parts.append(
            f'<rect x="{left}" y="{yy + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{yy + 13}" class="cl">{escape(_fmt(v) + unit)}</text>'
        )
    parts.append("</svg>")
    return _svg("".join(parts))


def sparkline(points: Sequence[Point], *, width: int = 90, height: int = 18) -> Markup:
    """A tiny line without axes (empty when there is no data)."""
    vals = [(p.t, p.v) for p in points if p.v is not None]
    if len(vals) < 2:
        return _svg("")
    t0, t1 = vals[0][0], vals[-1][0]
    lo = min(v for _, v in vals)
    hi = max(v for _, v in vals)
    hi = hi if hi > lo else lo + 1
    pts = " ".join(
        f"{(t - t0) / max(1, t1 - t0) * (width - 2) + 1:.1f},"
        f"{height - 1 - (v - lo) / (hi - lo) * (height - 2):.1f}"
        for t, v in vals
    )
    return _svg(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><polyline fill="none" stroke="#1f77b4" '
        f'stroke-width="1.2" points="{pts}"/></svg>'
    )
