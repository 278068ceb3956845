"""Schools whose collector went silent: "no data from that school" apart from "device down" (pure).

On the server every school with an enrolled site owes regular syncs. A school whose newest
site last synced more than ``silent_after`` probe intervals before the end of the period is a
problem of its own (``KPT-PSP collector silent since …``). From the newest result held from
that school (or its last sync) to the end of the period nothing is known about its devices:
that time is "no data", neither up, down nor a device's unknown, and the devices that stopped
answering just as the school went dark are folded into the one school problem. A school with
no enrolled site (a single machine) is never silent.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kape_itops.domain.problems import Problem, ProblemKind, Severity, duration
from kape_itops.domain.reports import SchoolSync
from kape_itops.errors import ConfigError
from kape_itops.reports import fmt

__all__ = [
    "DEFAULT_SILENT_AFTER",
    "Silence",
    "find_silence",
    "fold_problems",
    "silent_after_setting",
    "silent_problem",
]

DEFAULT_SILENT_AFTER = 6
"""Probe intervals without a sync before a school's collector counts as silent."""


def silent_after_setting(environ: Mapping[str, str] | None = None) -> int:
    """``ITOPS_SILENT_AFTER`` (probe intervals, at least 1), else :data:`DEFAULT_SILENT_AFTER`."""
    raw = (os.environ if environ is None else environ).get("ITOPS_SILENT_AFTER", "").strip()
    if not raw:
        return DEFAULT_SILENT_AFTER
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(
            f"ITOPS_SILENT_AFTER '{raw[:40]}' must be a whole number of intervals >= 1"
        )
    return value


@dataclass(frozen=True, slots=True)
class Silence:
    """A school whose collector has not synced for too long, at the end of the period."""

    school: str
    silent_since: dt.datetime
    """Its last sync (or its enrolment, when it never synced)."""
    last_sync_at: dt.datetime | None
    no_data_since: dt.datetime
    """The newest result held from the school (capped at the last sync), else the last sync."""
    age_s: float
    """Seconds from ``silent_since`` to the end of the period."""
    folded: int = 0
    """Device ``down`` problems that began as the school went dark, left out of the list."""


def find_silence(
    sync: SchoolSync | None,
    newest_result: dt.datetime | None,
    end: dt.datetime,
    threshold: dt.timedelta,
) -> Silence | None:
    """The school's silence at ``end``, or None (no enrolled site, or it synced in time)."""
    if sync is None or sync.sites <= 0:
        return None
    since = sync.last_sync_at or sync.enrolled_at
    age = end - since
    if age <= threshold:
        return None
    newest = max((t for t in (newest_result, sync.newest_run_at) if t is not None), default=None)
    no_data = min(newest, since) if newest is not None else since
    return Silence(sync.school, since, sync.last_sync_at, no_data, age.total_seconds())


def fold_problems(
    problems: Iterable[Problem], silences: Mapping[str, Silence], threshold: dt.timedelta
) -> tuple[list[Problem], dict[str, int]]:
    """Problems without the ``down`` of devices of a silent school that began within
    ``threshold`` before its data stopped (one event: the school went dark), and how many
    were left out per school. A device down earlier stays: that is known."""
    kept: list[Problem] = []
    folded: dict[str, int] = {}
    for p in problems:
        s = silences.get(p.school)
        if (
            s is not None
            and p.asset_tag
            and p.kind == ProblemKind.DOWN
            and (p.since is None or p.since >= s.no_data_since - threshold)
        ):
            folded[p.school] = folded.get(p.school, 0) + 1
            continue
        kept.append(p)
    return kept, folded


def silent_problem(s: Silence, tz: dt.tzinfo = dt.UTC) -> Problem:
    """``KPT-PSP collector silent since 2026-12-04 13:25 +07 (3 h 0 min)`` (critical)."""
    detail = (
        f"{s.school} collector silent since {fmt.when(s.silent_since, tz)} ({duration(s.age_s)})"
    )
    if s.last_sync_at is None:
        detail += "; enrolled, never synced"
    if (shown := fmt.when(s.no_data_since, tz)) != fmt.when(s.silent_since, tz):
        detail += f"; no data since {shown}"
    if s.folded:
        n = s.folded
        detail += f"; {n} device{'s' if n > 1 else ''} stopped answering as it went silent"
    return Problem(
        ProblemKind.COLLECTOR_SILENT,
        Severity.CRIT,
        s.school,
        None,
        detail,
        s.silent_since,
        None,
        s.school,
    )
