"""Durations written as ``30s``, ``5m``, ``12h``, ``7d`` or ``2w``."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``<number><unit>``; raise ValueError with the accepted forms otherwise."""
    m = _RE.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a duration; use e.g. 30s, 5m, 12h, 7d, 2w")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
