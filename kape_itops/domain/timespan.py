"""Durations written as ``30s``, ``5m``, ``12h``, ``7d`` or ``2w``; calendar months."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
MAX_DURATION = dt.timedelta(days=36500)
"""The longest duration accepted (100 years): any period or interval fits in dates from it."""
_SHOWN = 40  # characters of a bad value quoted in a message


class DurationTooLong(ValueError):
    """A well-formed duration longer than :data:`MAX_DURATION`."""


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``<number><unit>`` up to :data:`MAX_DURATION`; raise ValueError saying what is
    accepted otherwise."""
    m = _RE.match(text)
    if not m:
        raise ValueError(f"'{_shown(text)}' is not a duration; use e.g. 30s, 5m, 12h, 7d, 2w")
    seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not seconds <= MAX_DURATION.total_seconds():  # also inf, from very long digit strings
        raise DurationTooLong(
            f"'{_shown(text.strip())}' is too long a duration; at most {MAX_DURATION.days}d "
            "(100 years)"
        )
    return dt.timedelta(seconds=seconds)


def parse_month(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar month: ``YYYY-MM``, or ``last`` (the one before today's).

    Raise ValueError with the accepted forms otherwise.
    """
    if text.strip().lower() in ("last", "previous"):
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    m = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*", text)
    year, month = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if not (1 <= year < 9999 and 1 <= month <= 12):
        raise ValueError(f"'{text}' is not a month; use YYYY-MM (e.g. 2026-05) or last")
    first = dt.date(year, month, 1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return first, following - dt.timedelta(days=1)
