"""Number and time formatting shared by the renderers and the CLI ('—' for no data).

Times are stored in UTC and shown in the reader's zone (``ITOPS_TZ``). Table cells hold the
bare local time (:func:`stamp`); the zone is named once, in a header or a caption
(:func:`zone_label`, :func:`zone_caption`); a time inside a sentence carries its zone
(:func:`when`).
"""

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


def aware(v: dt.datetime) -> dt.datetime:
    """``v`` with a zone; a naive value is taken as UTC (as the store keeps it)."""
    return v if v.tzinfo else v.replace(tzinfo=dt.UTC)


def _local(v: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``v`` in ``tz``; a naive value is taken as UTC (as the store keeps it)."""
    return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).astimezone(tz)


def zone_label(tz: dt.tzinfo, at: dt.datetime | None = None) -> str:
    """The zone's short name at ``at`` (default now): ``+07``, ``UTC``, ``CEST``."""
    local = _local(at or dt.datetime.now(dt.UTC), tz)
    name = local.tzname()
    if name:
        return name
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    hours, rest = divmod(minutes, 60)
    return f"{sign}{hours:02d}" + (f":{rest:02d}" if rest else "")


def zone_name(tz: dt.tzinfo) -> str:
    """The IANA name (``Asia/Phnom_Penh``), else the label (``UTC``)."""
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else zone_label(tz)


def zone_caption(tz: dt.tzinfo, at: dt.datetime | None = None) -> str:
    """``times in Asia/Phnom_Penh (+07)`` (or ``times in UTC``), for a header or caption."""
    name, label = zone_name(tz), zone_label(tz, at)
    return f"times in {name}" + ("" if name == label else f" ({label})")


def stamp(v: dt.datetime | None, tz: dt.tzinfo = dt.UTC, *, seconds: bool = False) -> str:
    """``2026-11-29 05:32`` in ``tz``, for a table cell whose header names the zone."""
    if v is None:
        return "—"
    return _local(v, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def when(v: dt.datetime | None, tz: dt.tzinfo = dt.UTC) -> str:
    """``2026-11-29 05:32 +07``: a time with its zone, for a sentence."""
    return "—" if v is None else f"{stamp(v, tz)} {zone_label(tz, v)}"


def day(v: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """``2026-11-29 05:32`` in ``tz`` (no zone label)."""
    return stamp(v, tz)
