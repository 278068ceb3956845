"""Durations, version references and dates typed by hand: a ValueError or UsageError, never an
OverflowError, and a result that date arithmetic can use."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kape_itops.backups.service import pick_version
from kape_itops.domain.backups import ConfigEntry
from kape_itops.domain.timespan import MAX_DURATION, DurationTooLong, parse_duration
from kape_itops.errors import UsageError
from kape_itops.reports.model import resolve_period

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text", ["99999999999d", "36501d", "5219w", "1e9", "9" * 5000 + "s", "3155760001s"]
)
def test_too_long_or_malformed(text: str) -> None:
    with pytest.raises(ValueError, match=r"too long a duration|not a duration") as err:
        parse_duration(text)
    assert len(str(err.value)) < 160  # a 5000-digit value is quoted by its first 40 characters


def test_the_limit_itself_is_accepted() -> None:
    assert parse_duration("36500d") == MAX_DURATION
    with pytest.raises(DurationTooLong):
        parse_duration("36500.01d")


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused(text: str) -> None:
    try:
        got = parse_duration(text)
    except ValueError:
        return
    assert dt.timedelta(0) <= got <= MAX_DURATION
    assert NOW - got < NOW  # usable: no OverflowError


@given(st.integers(min_value=0, max_value=10**30), st.sampled_from("smhdwSMHDW"))
def test_every_number_and_unit(number: int, unit: str) -> None:
    try:
        got = parse_duration(f"{number}{unit}")
    except DurationTooLong:
        return
    assert (NOW - got).year >= NOW.year - 100


def test_report_to_the_last_day_of_the_calendar() -> None:
    period = resolve_period(None, dt.date(2026, 1, 1), dt.date(9999, 12, 31), NOW)
    assert (period.start.date(), period.end) == (dt.date(2026, 1, 1), NOW)
    period = resolve_period(None, dt.date(2026, 1, 1), dt.date(2026, 1, 31), NOW)
    assert period.end == dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def _versions() -> list[ConfigEntry]:
    at = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    return [
        ConfigEntry(1, "KPT-PSP-002", at, "a" * 64, True, 1, "hostname sw1"),
        ConfigEntry(2, "KPT-PSP-002", at + dt.timedelta(days=3), "b" * 64, True, 2, "x"),
    ]


@pytest.mark.parametrize("ref", ["9" * 5000, "v" + "9" * 20, "9999-12-31", "0001-01-01"])
def test_ssh_version_references_at_the_edges(ref: str) -> None:
    versions = _versions()
    try:
        got = pick_version(versions, ref, "--from", dt.timezone(dt.timedelta(hours=7)))
    except UsageError as exc:
        assert len(str(exc)) < 200  # a long reference is quoted by its first 40 characters
        return
    assert got in versions
    assert ref == "9999-12-31"  # the only one that names a stored version


def test_ssh_version_reference_end_of_day() -> None:
    got = pick_version(_versions(), "2026-11-04", "--to", dt.UTC)
    assert got.version == 2
