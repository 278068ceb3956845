"""The alert hook behind ``itops report problems --new-since-last``.

Each finished probe run is evaluated once, in order. A state problem (down, toner low …) is
reported when it has held for ``consecutive`` runs in a row; one run in which the same device
and probe were checked without the problem clears it, so a flapping device does not alert on
every flap. Events (a reboot, a configuration change) are reported the first run they are seen.
On a server, a school whose collector has not synced for ``silent_after`` probe intervals is
reported once when it goes silent (it sends no runs to evaluate) and cleared when it syncs
again. The state lives in the database (``alert_state``, ``alert_cursor``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.problems import EVENT_KINDS, Observation, Problem, ProblemKind, Severity
from kape_itops.domain.reports import AlertState
from kape_itops.domain.results import RunResult
from kape_itops.errors import UsageError
from kape_itops.reports.problems import Thresholds, from_observation, sort_problems
from kape_itops.reports.silence import find_silence, silent_after_setting, silent_problem
from kape_itops.store.alert_repo import AlertRepo
from kape_itops.store.db import Store
from kape_itops.store.site_reads import SiteReads


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What one call of the hook found."""

    new: list[Problem]
    runs_evaluated: int
    tracking: int
    cleared: list[str]


def run_problems(
    results: Iterable[RunResult], th: Thresholds
) -> tuple[list[Problem], set[tuple[str, str]]]:
    """The problems one run's results show, and which (device, probe) pairs it checked.

    A device not deployed (in stock, in repair) never alerts: its results only clear what it
    raised before.
    """
    found: dict[str, Problem] = {}
    covered: set[tuple[str, str]] = set()
    for r in results:
        covered.add((r.asset_tag, r.probe))
        if not r.deployed:
            continue
        obs = Observation(
            r.asset_tag, r.school, r.probe, _status(r.status), r.reason, r.at, r.metrics
        )
        for p in from_observation(obs, th):
            found.setdefault(p.key, p)
    return list(found.values()), covered


def step(
    states: Mapping[str, AlertState],
    present: Sequence[Problem],
    covered: set[tuple[str, str]],
    now: dt.datetime,
    consecutive: int,
) -> tuple[dict[str, AlertState], list[Problem], list[str]]:
    """Advance the state by one run at ``now``: (new state, problems to report, keys cleared).

    A reported problem's ``since`` is the run where it was first seen in this streak.
    """
    if consecutive < 1:
        raise UsageError("--consecutive must be at least 1")
    out: dict[str, AlertState] = {}
    report: list[Problem] = []
    seen = set()
    for p in present:
        seen.add(p.key)
        old = states.get(p.key)
        count = (old.consecutive if old else 0) + 1
        need = 1 if p.kind in EVENT_KINDS else consecutive
        already = old.notified if old else False
        notify = not already and count >= need
        if notify:
            report.append(_with_since(p, old.first_seen if old else now))
        out[p.key] = AlertState(
            key=p.key,
            kind=p.kind.value,
            severity=p.severity.value,
            asset_tag=p.asset_tag,
            probe=p.probe,
            consecutive=count,
            first_seen=old.first_seen if old else now,
            last_seen=now,
            notified=already or notify,
            detail=p.detail,
        )
    cleared: list[str] = []
    for key, st in states.items():
        if key in seen:
            continue
        if st.asset_tag is not None and (st.asset_tag, st.probe or "") in covered:
            cleared.append(key)
        else:
            out[key] = st
    return out, report, cleared


def silence_step(
    states: Mapping[str, AlertState], silent: Sequence[Problem], now: dt.datetime
) -> tuple[dict[str, AlertState], list[Problem], list[str]]:
    """Advance the collector-silent problems to ``now``: (new state, problems to report, keys
    cleared). A school is reported the first time it is found silent and cleared once it is not
    (it synced again); nothing else is touched."""
    out = dict(states)
    keys = {p.key for p in silent}
    cleared = [
        k for k, st in states.items() if st.kind == ProblemKind.COLLECTOR_SILENT and k not in keys
    ]
    for k in cleared:
        del out[k]
    report: list[Problem] = []
    for p in silent:
        old = states.get(p.key)
        if old is None:
            report.append(p)
        out[p.key] = AlertState(
            key=p.key,
            kind=p.kind.value,
            severity=p.severity.value,
            asset_tag=None,
            probe=None,
            consecutive=old.consecutive + 1 if old else 1,
            first_seen=old.first_seen if old else now,
            last_seen=now,
            notified=True,
            detail=p.detail,
        )
    return out, report, cleared


def _with_since(p: Problem, since: dt.datetime) -> Problem:
    return Problem(p.kind, p.severity, p.school, p.asset_tag, p.detail, since, p.probe, p.part)


def _status(text: str) -> ProbeStatus:
    try:
        return ProbeStatus(text)
    except ValueError:
        return ProbeStatus.UNKNOWN


def evaluate(
    store: Store,
    consecutive: int = 2,
    thresholds: Thresholds | None = None,
    now: dt.datetime | None = None,
    *,
    interval: dt.timedelta = dt.timedelta(minutes=5),
    silent_after: int | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> AlertOutcome:
    """Evaluate every run finished since the last call (the newest ``consecutive`` runs the
    first time) and the schools whose collector went silent (more than ``silent_after``
    ``interval``s without a sync; ``ITOPS_SILENT_AFTER`` by default), and return the problems
    that became reportable."""
    if consecutive < 1:
        raise UsageError("--consecutive must be at least 1")
    th = thresholds or Thresholds()
    now = now or dt.datetime.now(dt.UTC)
    quiet = interval * (silent_after or silent_after_setting())
    with store.write() as s:
        repo = AlertRepo(s)
        repo.lock()
        cursor = repo.alert_cursor()
        ids = repo.run_ids_after(cursor) if cursor is not None else repo.last_run_ids(consecutive)
        states = repo.alert_states()
        reported: list[Problem] = []
        cleared: list[str] = []
        for run_id in ids:
            results = repo.run_results(run_id)
            at = min((r.at for r in results), default=now)
            present, covered = run_problems(results, th)
            states, new, gone = step(states, present, covered, at, consecutive)
            reported += new
            cleared += gone
        silent = [
            silent_problem(x, tz)
            for sync in SiteReads(s).schools(runs=False).values()
            if (x := find_silence(sync, None, now, quiet)) is not None
        ]
        tracked = any(st.kind == ProblemKind.COLLECTOR_SILENT for st in states.values())
        if silent or tracked:
            states, new, gone = silence_step(states, silent, now)
            reported += new
            cleared += gone
        if ids:
            repo.set_alert_cursor(ids[-1], now)
        if ids or silent or tracked:
            repo.save_alert_states(states)
    return AlertOutcome(sort_problems(reported), len(ids), len(states), cleared)


__all__ = [
    "AlertOutcome",
    "ProblemKind",
    "Severity",
    "evaluate",
    "run_problems",
    "silence_step",
    "step",
]
