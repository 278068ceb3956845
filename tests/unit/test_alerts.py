"""Flap suppression of the alert hook: hold N runs to report, one recovery clears."""

from __future__ import annotations

import datetime as dt

import pytest

from kape_itops.domain.problems import Problem
from kape_itops.domain.reports import AlertState
from kape_itops.domain.results import RunResult
from kape_itops.errors import UsageError
from kape_itops.reports.alerts import run_problems, step
from kape_itops.reports.problems import Thresholds

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)


def run(
    k: int, *results: tuple[str, str, str, dict[str, object]]
) -> tuple[list[Problem], set[tuple[str, str]]]:
    at = T0 + dt.timedelta(minutes=5 * k)
    return run_problems(
        [
            RunResult(tag, "KPT-PSP", probe, status, "r", at, metrics)
            for tag, probe, status, metrics in results
        ],
        Thresholds(),
    )


def drive(runs: list[tuple[list[Problem], set[tuple[str, str]]]], n: int) -> list[list[str]]:
    states: dict[str, AlertState] = {}
    out = []
    for k, (present, covered) in enumerate(runs):
        states, new, _cleared = step(states, present, covered, T0 + dt.timedelta(minutes=5 * k), n)
        out.append([p.key for p in new])
    return out


DOWN = ("A", "ping", "crit", {})
UP = ("A", "ping", "ok", {})


def test_problem_must_hold_n_runs_and_is_reported_once() -> None:
    runs = [run(0, DOWN), run(1, DOWN), run(2, DOWN), run(3, DOWN)]
    assert drive(runs, 3) == [[], [], ["down:A:"], []]


def test_one_recovery_clears_so_flapping_never_alerts() -> None:
    flapping = [run(k, DOWN if k % 2 == 0 else UP) for k in range(8)]
    assert drive(flapping, 2) == [[]] * 8
    # down, down (reported), up (cleared), down, down (reported again)
    runs = [run(0, DOWN), run(1, DOWN), run(2, UP), run(3, DOWN), run(4, DOWN)]
    assert drive(runs, 2) == [[], ["down:A:"], [], [], ["down:A:"]]


def test_runs_that_did_not_check_the_device_keep_the_streak() -> None:
    other = ("B", "ping", "ok", {})
    runs = [run(0, DOWN), run(1, other), run(2, DOWN)]
    assert drive(runs, 2) == [[], [], ["down:A:"]]


def test_since_is_the_first_run_of_the_streak() -> None:
    states: dict[str, AlertState] = {}
    for k in range(3):
        present, covered = run(k, DOWN)
        states, new, _ = step(states, present, covered, T0 + dt.timedelta(minutes=5 * k), 3)
    assert [p.since for p in new] == [T0]
    assert states["down:A:"].consecutive == 3 and states["down:A:"].notified


def test_events_are_reported_at_once() -> None:
    reboot = ("R", "snmp", "warn", {"rebooted": True})
    runs = [run(0, reboot), run(1, ("R", "snmp", "ok", {"rebooted": False})), run(2, reboot)]
    assert drive(runs, 3) == [["rebooted:R:"], [], ["rebooted:R:"]]


def test_toner_keys_per_supply() -> None:
    low = (
        "P",
        "snmp",
        "warn",
        {"supplies": [{"name": "Black", "pct": 5}, {"name": "Cyan", "pct": 50}]},
    )
    assert drive([run(0, low), run(1, low)], 2) == [[], ["toner_low:P:Black"]]


def test_a_device_not_deployed_never_alerts_and_clears_what_it_raised() -> None:
    at = T0 + dt.timedelta(minutes=5)
    repair = RunResult("A", "KPT-PSP", "ping", "crit", "r", at, {}, deployed=False)
    present, covered = run_problems([repair], Thresholds())
    assert present == [] and covered == {("A", "ping")}
    states, _new, _ = step({}, run(0, DOWN)[0], {("A", "ping")}, T0, 1)
    _states, new, cleared = step(states, present, covered, at, 1)
    assert new == [] and cleared == ["down:A:"]


def test_consecutive_must_be_positive() -> None:
    with pytest.raises(UsageError, match="at least 1"):
        step({}, [], set(), T0, 0)
