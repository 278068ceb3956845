"""The health report as CSV files in a folder, with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

from kape_itops.atomic import atomic_write, output_folder
from kape_itops.config import load_zone
from kape_itops.domain.reports import from_epoch
from kape_itops.inventory.sanitize import safe_cell
from kape_itops.reports.model import HealthReport
from kape_itops.reports.trends import Point

FILES = (
    "schools.csv",
    "devices.csv",
    "problems.csv",
    "inventory.csv",
    "changes.csv",
    "trends.csv",
    "discovery.csv",
)


def cell(value: object, tz: dt.tzinfo = dt.UTC) -> str:
    """A value as a CSV cell: floats rounded, None empty, formulas neutralised, control and
    bidi characters shown as escapes.

    A time is ISO 8601 in ``tz`` with its offset (``2026-11-29T05:32:00+07:00``).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(tz).isoformat()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return safe_cell(str(value))


def _write(
    path: Path, head: Sequence[str], rows: Iterable[Sequence[object]], tz: dt.tzinfo
) -> None:
    with atomic_write(path, newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for r in rows:
            w.writerow([cell(v, tz) for v in r])


def write_csv(report: HealthReport, folder: Path) -> list[Path]:
    """Write one CSV per table into ``folder`` (created, but not its parents); returns the files.

    Times carry the report zone's offset.
    """
    output_folder(folder)
    r = report
    write = functools.partial(_write, tz=load_zone(r.tz))
    write(
        folder / "schools.csv",
        [
            "school",
            "name",
            "availability_pct",
            "down_pct",
            "unknown_pct",
            "rtt_p50_ms",
            "rtt_p95_ms",
            "loss_pct",
            "cameras_recording",
            "cameras_reporting",
            "devices_monitored",
            "devices_deployed",
            "no_data_pct",
            "no_data_since",
            "collector_silent_since",
        ],
        (
            [
                s.code,
                s.name,
                s.availability.pct_up,
                s.availability.pct_down,
                s.availability.pct_unknown,
                s.rtt_p50_ms,
                s.rtt_p95_ms,
                s.loss_pct,
                s.cameras_recording,
                s.cameras_reporting,
                s.monitored,
                len(s.devices),
                s.availability.pct_no_data if s.silence else None,
                s.silence.no_data_since if s.silence else None,
                s.silence.silent_since if s.silence else None,
            ]
            for s in r.schools
        ),
    )
    write(
        folder / "devices.csv",
        [
            "school",
            "asset_tag",
            "kind",
            "status",
            "model",
            "ip",
            "monitored",
            "availability_pct",
            "down_pct",
            "unknown_pct",
            "rtt_avg_ms",
            "rtt_p50_ms",
            "rtt_p95_ms",
            "loss_pct",
            "last_status",
            "last_seen",
            "supplies",
            "pages_printed",
            "disk_used_pct",
            "recording",
            "clock_drift_s",
            "monitored_from",
            "no_data_pct",
        ],
        (
            [
                s.code,
                d.asset_tag,
                d.kind.value,
                d.status.value,
                d.model,
                d.ip,
                d.monitored,
                d.availability.pct_up if d.availability else None,
                d.availability.pct_down if d.availability else None,
                d.availability.pct_unknown if d.availability else None,
                d.rtt_avg_ms,
                d.rtt_p50_ms,
                d.rtt_p95_ms,
                d.loss_pct,
                d.last_status,
                d.last_seen,
                "; ".join(f"{x.name}={'' if x.pct is None else round(x.pct)}" for x in d.supplies),
                d.pages_printed,
                d.disk_used_pct,
                d.recording,
                d.clock_drift_s,
                d.monitored_from,
                d.availability.pct_no_data if d.availability and s.silence else None,
            ]
            for s in r.schools
            for d in [*s.devices, *s.not_deployed]
        ),
    )
    write(
        folder / "problems.csv",
        ["severity", "kind", "school", "asset_tag", "detail", "since", "probe", "key"],
        (
            [
                p.severity.value,
                p.kind.value,
                p.school,
                p.asset_tag,
                p.detail,
                p.since,
                p.probe,
                p.key,
            ]
            for p in r.problems
        ),
    )
    kinds = sorted({k for c in r.inventory.by_school_kind.values() for k in c})
    write(
        folder / "inventory.csv",
        ["school", *kinds, "total"],
        (
            [code, *(c.get(k, 0) for k in kinds), sum(c.values())]
            for code, c in sorted(r.inventory.by_school_kind.items())
        ),
    )
    write(
        folder / "changes.csv",
        ["at", "actor", "entity", "key", "action", "field", "old", "new", "source"],
        (
            [c.at, c.actor, c.entity.value, c.key, c.action.value, c.field, c.old, c.new, c.source]
            for c in r.inventory.changes
        ),
    )
    write(folder / "trends.csv", ["series", "name", "t", "value"], _trend_rows(r))
    states = ("seen", "known", "unknown", "ip_changed", "mac_changed", "missing")
    write(
        folder / "discovery.csv",
        ["school", "scope", "method", "started_at", "actor", *states],
        (
            [
                w.school,
                w.scope,
                w.method,
                w.started_at,
                w.actor,
                *(w.counts.get(k, 0) for k in states),
            ]
            for w in r.discovery
        ),
    )
    return [folder / f for f in FILES]


def _trend_rows(r: HealthReport) -> Iterable[Sequence[object]]:
    named: dict[str, dict[str, list[Point]]] = {
        "availability_pct": r.trends.availability,
        "rtt_mean_ms": r.trends.latency,
        "toner_min_pct": r.trends.toner,
        "pages_printed": r.trends.pages,
    }
    for series, groups in named.items():
        for name, pts in groups.items():
            for p in pts:
                yield [series, name, from_epoch(p.t), p.v]
