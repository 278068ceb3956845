"""The rows a pushed run becomes, built before the write lock is taken (pure CPU, no I/O).

A run item's result columns are turned into ``probe_results`` tuples and compact
``ping_results`` tuples (:mod:`ping_codec`, straight from the wire values: Unix seconds to
microseconds, no datetime round trip for pings) without their ``run_id``, which the database
assigns later. For PostgreSQL the rows are also written out as COPY text, so inside the lock
only the run ids are put in front of each line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kape_itops.store import ping_codec

PLAIN_COLUMNS = (
    "run_id",
    "device_id",
    "target",
    "probe",
    "status",
    "reason",
    "method",
    "metrics",
    "started_at",
    "duration_ms",
    "attempts",
)
"""The ``probe_results`` columns of :attr:`PreparedRun.plain` (after ``run_id``)."""
COMPACT_COLUMNS = ping_codec.COMPACT_COLUMNS
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(slots=True)
class PreparedRun:
    """One pushed run: its ``probe_runs`` columns and its results as rows without run id."""

    run: dict[str, Any]
    plain: list[tuple[Any, ...]] = field(default_factory=list)
    compact: list[tuple[Any, ...]] = field(default_factory=list)
    span: tuple[int, int] | None = None
    """First and last ``started_us`` of the compact rows."""
    oldest: float | None = None
    """The oldest result's Unix seconds."""
    plain_text: str | None = None
    compact_text: str | None = None
    """The rows as COPY text lines (without run id), when asked for."""


def prepare(
    item: Mapping[str, Any], devices: Mapping[str, int], copy_text: bool = False
) -> PreparedRun:
    """The rows of a validated run item; ``devices`` maps known asset tags to device ids."""
    out = PreparedRun(
        run={
            k: item[k]
            for k in ("started_at", "finished_at", "status", "actor", "selection", "counts")
        }
        | {"note": item["note"]}
    )
    r = item["results"]
    times = r["at"]
    if times:
        out.oldest = min(times)
    seen: set[tuple[int, int]] = set()
    lo = hi = 0
    from_us, encode = ping_codec.from_us, ping_codec.encode_wire
    plain, compact = out.plain, out.compact
    for tag, target, probe, status, reason, method, metrics, at, ms, tries in zip(
        r["tag"],
        r["target"],
        r["probe"],
        r["status"],
        r["reason"],
        r["method"],
        r["metrics"],
        times,
        r["duration_ms"],
        r["attempts"],
        strict=True,
    ):
        device = devices.get(tag) if tag is not None else None
        us = round(at * 1_000_000)
        ms = float(ms)
        if device is not None:
            packed = encode(
                tag, device, target, probe, status, reason, method, metrics, us, ms, tries
            )
            if packed is not None and (us, device) not in seen:
                seen.add((us, device))
                if not compact:
                    lo = hi = us
                elif us < lo:
                    lo = us
                elif us > hi:
                    hi = us
                compact.append(packed)
                continue
        plain.append(
            (device, target, probe, status, reason, method, metrics, from_us(us), ms, tries)
        )
    if compact:
        out.span = (lo, hi)
    if copy_text:
        out.plain_text = lines(plain)
        out.compact_text = _compact_lines(compact)
    return out


def _field(v: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if v is None:
        return "\\N"
    t = type(v)
    if t is int:
        return str(v)
    if t is float:
        return repr(v)
    if t is str:
        return str(v).translate(_ESCAPE)
    if t is dt.datetime:
        return str(v.isoformat())
    if t is dict or t is list:
        return json.dumps(v, ensure_ascii=False).translate(_ESCAPE)
    raise TypeError(f"no COPY text for {t.__name__}")


def lines(rows: Sequence[tuple[Any, ...]]) -> str:
    """``rows`` as COPY text, one line each ending in a newline."""
    out = []
    for row in rows:  # ints, floats and None inline (the bulk of every row), the rest by _field
        out.append(
            "\t".join(
                [
                    "\\N"
                    if v is None
                    else str(v)
                    if type(v) is int or type(v) is float
                    else _field(v)
                    for v in row
                ]
            )
        )
    out.append("")
    return "\n".join(out)


def _compact_lines(rows: Sequence[tuple[Any, ...]]) -> str:
    """:func:`lines` of compact rows: those without target and reason text (nearly all) hold
    only numbers and None, so C-speed ``str`` and one replace of "None" write them."""
    out = []
    for row in rows:
        if row[_TARGET] is None and row[_REASON] is None:
            out.append("\t".join(map(str, row)).replace("None", "\\N") + "\n")
        else:
            out.append(lines([row]))
    return "".join(out)


_TARGET = COMPACT_COLUMNS.index("target") - 1
_REASON = COMPACT_COLUMNS.index("reason") - 1


def with_run(text: str, run_id: int) -> str:
    """COPY text lines with ``run_id`` put in front of each."""
    if not text:
        return ""
    head = f"{run_id}\t"
    return head + text[:-1].replace("\n", "\n" + head) + "\n"
