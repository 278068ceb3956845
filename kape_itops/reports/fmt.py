"""Number and time formatting shared by the renderers ('—' for no data)."""

from __future__ import annotations

import datetime as dt


def pct(v: float | None, digits: int = 1) -> str:
    """``98.7 %``."""
    return "—" if v is None else f"{v:.{digits}f} %"


def ms(v: float | None) -> str:
    """``12.3 ms``."""
    return "—" if v is None else f"{v:.1f} ms"


def num(v: float | None, digits: int = 0) -> str:
    """``14,626``."""
    return "—" if v is None else f"{v:,.{digits}f}"


def when(v: dt.datetime | None) -> str:
    """``2026-11-28 22:32 UTC``."""
    return "—" if v is None else v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(v: dt.datetime) -> str:
    """``2026-11-28 22:32`` (UTC)."""
    return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
