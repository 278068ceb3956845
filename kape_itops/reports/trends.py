"""Time series for the trend charts, regrouped into fixed steps over the report period."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kape_itops.domain.reports import StatusCounts
from kape_itops.reports.availability import availability


@dataclass(frozen=True, slots=True)
class Point:
    """One value at ``t`` (Unix seconds, the start of its step); None when there is no data."""

    t: int
    v: float | None


def steps(start: int, end: int, step_s: int) -> list[int]:
    """The step starts covering ``[start, end)``."""
    if step_s <= 0:
        raise ValueError("step must be positive")
    return list(range(start, end, step_s))


def _slot(t: int, start: int, step_s: int) -> int:
    return start + (t - start) // step_s * step_s


def availability_series(
    rows: Iterable[tuple[str, int, StatusCounts]],
    devices: Mapping[str, int | Sequence[int]],
    *,
    start: int,
    end: int,
    step_s: int,
    bucket_s: int,
    interval_s: int,
    until: Mapping[str, int] | None = None,
) -> dict[str, list[Point]]:
    """Availability % per group and step; ``devices`` says what each group owes.

    Per group either a number of devices owed over the whole period, or for each device the
    time (Unix seconds) it is owed from: its first result, so the time before a device was
    ever probed counts neither up nor unknown. ``rows`` are (group, bucket start, counts);
    owed time with nothing stored is unknown; a step that owes nothing has no value. ``until``
    maps a group to when no data came from it any more (its collector silent): nothing is owed
    after that, so those steps have no value rather than 0 %.
    """
    grid = steps(start, end, step_s)
    acc: dict[str, dict[int, list[StatusCounts]]] = {g: {} for g in devices}
    for group, t, counts in rows:
        if start <= t < end and group in acc:
            acc[group].setdefault(_slot(t, start, step_s), []).append(counts)
    out: dict[str, list[Point]] = {}
    for group, owed in devices.items():
        froms = [start] * owed if isinstance(owed, int) else list(owed)
        pts: list[Point] = []
        last = (until or {}).get(group, end)
        for s in grid:
            stop = min(s + step_s, end, last)
            span = sum(max(0, stop - max(s, f)) for f in froms)
            if span <= 0:
                pts.append(Point(s, None))
                continue
            a = availability(
                acc[group].get(s, []),
                period_s=span,
                bucket_s=bucket_s,
                interval_s=interval_s,
            )
            pts.append(Point(s, a.pct_up))
        out[group] = pts
    return out


def mean_series(
    rows: Iterable[tuple[str, int, float, float]], *, start: int, end: int, step_s: int
) -> dict[str, list[Point]]:
    """Mean per group and step from (group, t, sum, count) rows (e.g. RTT sums)."""
    acc: dict[str, dict[int, list[float]]] = {}
    for group, t, total, count in rows:
        if start <= t < end and count:
            cell = acc.setdefault(group, {}).setdefault(_slot(t, start, step_s), [0.0, 0.0])
            cell[0] += total
            cell[1] += count
    grid = steps(start, end, step_s)
    return {
        g: [Point(s, c[s][0] / c[s][1] if s in c else None) for s in grid]
        for g, c in sorted(acc.items())
    }


def last_value_series(
    rows: Iterable[tuple[str, int, float]], *, start: int, end: int, step_s: int
) -> dict[str, list[Point]]:
    """The newest value per group and step (e.g. a printer's lowest toner level)."""
    acc: dict[str, dict[int, tuple[int, float]]] = {}
    for group, t, value in rows:
        if start <= t < end:
            cells = acc.setdefault(group, {})
            s = _slot(t, start, step_s)
            if s not in cells or t >= cells[s][0]:
                cells[s] = (t, value)
    grid = steps(start, end, step_s)
    return {
        g: [Point(s, c[s][1] if s in c else None) for s in grid] for g, c in sorted(acc.items())
    }


def counter_increase_series(
    rows: Iterable[tuple[str, str, int, float, float, float]],
    *,
    start: int,
    end: int,
    step_s: int,
) -> dict[str, list[Point]]:
    """Counter increases per group and step from rollup buckets of a counter (page counts).

    Rows are (group, counter id, bucket start, first reading, last reading, increase within
    the bucket). The increase from one bucket's last reading to the next one's first is booked
    in the later bucket; a counter that goes down (a replaced board) adds nothing there.
    """
    by_counter: dict[tuple[str, str], list[tuple[int, float, float, float]]] = {}
    for group, cid, t, first, last, within in rows:
        by_counter.setdefault((group, cid), []).append((t, first, last, within))
    grid = steps(start, end, step_s)
    acc: dict[str, dict[int, float]] = {}
    for (group, _cid), readings in sorted(by_counter.items()):
        readings.sort()
        cells = acc.setdefault(group, {})
        prev_last: float | None = None
        for t, first, last, within in readings:
            gain = within
            if prev_last is not None and first > prev_last:
                gain += first - prev_last
            prev_last = last
            if start <= t < end and gain:
                s = _slot(t, start, step_s)
                cells[s] = cells.get(s, 0.0) + gain
    return {g: [Point(s, c.get(s, 0.0)) for s in grid] for g, c in sorted(acc.items())}


def total(points: Iterable[Point]) -> float:
    """The sum of the known values."""
    return sum(p.v for p in points if p.v is not None)
