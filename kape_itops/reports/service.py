"""The health report and the problems hook, as the front ends ask for them.

Each call reads the store in its own transactions (:func:`~kape_itops.reports.build.build_report`
rolls results up first; :func:`~kape_itops.reports.alerts.evaluate` moves the alert cursor) and
returns domain objects: a :class:`~kape_itops.reports.model.HealthReport` or problems.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from kape_itops.domain.problems import Problem
from kape_itops.reports import alerts
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.compare import compare, previous_month
from kape_itops.reports.current import CurrentStatus
from kape_itops.reports.model import HealthReport, Period, resolve_period
from kape_itops.store.db import Store

__all__ = ["Reports"]


class Reports:
    """Reports over the probe results, discovery sweeps and inventory in ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def health(self, period: Period, options: ReportOptions) -> HealthReport:
        """The report for ``period`` (see :func:`~kape_itops.reports.model.resolve_period`)."""
        return build_report(self.store, period, options)

    def monthly(
        self, month: dt.date, options: ReportOptions, now: dt.datetime | None = None
    ) -> HealthReport:
        """The calendar month holding ``month`` (UTC days; up to ``now`` for the current one),
        each school and all compared with the month before (both read from the rollups)."""
        first = month.replace(day=1)
        last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
        report = build_report(self.store, resolve_period(None, first, last, now), options)
        before = resolve_period(None, *previous_month(first), now)
        old = build_report(
            self.store, before, dataclasses.replace(options, rollup_first=False, today=None)
        )
        return dataclasses.replace(
            report, comparison=compare(report, old, before.start, before.end)
        )

    def current(
        self, tz: dt.tzinfo = dt.UTC, silent_after: int | None = None, reuse_s: float = 0.0
    ) -> CurrentStatus:
        """The web pages' current state: overview, problems, one school, one device (the
        fleet's state reused for ``reuse_s`` seconds, see :class:`CurrentStatus`)."""
        return CurrentStatus(self.store, silent_after=silent_after, tz=tz, reuse_s=reuse_s)

    def new_problems(
        self, consecutive: int = 2, silent_after: int | None = None, tz: dt.tzinfo = dt.UTC
    ) -> list[Problem]:
        """Problems that appeared since the last call and held ``consecutive`` runs, and schools
        whose collector went silent (the alert hook; moves its cursor)."""
        return alerts.evaluate(
            self.store, consecutive=consecutive, silent_after=silent_after, tz=tz
        ).new
