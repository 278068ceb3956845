"""The ``system`` check: sysDescr, sysName, sysObjectID and sysUpTime with reboot detection
(SNMPv2-MIB), and the inventory cross-check of sysName and serial. Every profile runs it first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.snmp.checks.base import (
    Answer,
    Ask,
    Context,
    Outcome,
    Problems,
    as_int,
)
from kape_itops.probes.snmp.values import Kind, Value, as_text

TICKS_WRAP = 1 << 32
"""sysUpTime is TimeTicks (1/100 s) in 32 bits: it wraps after about 497 days."""


class Uptime(StrEnum):
    """How the uptime moved since the previous check."""

    FIRST = "first"
    CONTINUED = "continued"
    WRAPPED = "wrapped"
    REBOOTED = "rebooted"


def uptime_change(
    prev_ticks: int | None,
    prev_at: dt.datetime | None,
    ticks: int,
    now: dt.datetime,
    tolerance_s: float = 120.0,
) -> Uptime:
    """Reboot or 32-bit wrap? A wrap lands where ``prev + elapsed - 2**32`` predicts."""
    if prev_ticks is None or prev_at is None:
        return Uptime.FIRST
    elapsed = max((now - prev_at).total_seconds(), 0.0)
    tol = max(tolerance_s, elapsed * 0.02)
    if ticks >= prev_ticks:
        # Uptime grew, but less than the time that passed: it restarted in between.
        if ticks / 100 + tol < elapsed:
            return Uptime.REBOOTED
        return Uptime.CONTINUED
    expected = prev_ticks + elapsed * 100
    if expected >= TICKS_WRAP and abs((expected - TICKS_WRAP) - ticks) <= tol * 100:
        return Uptime.WRAPPED
    return Uptime.REBOOTED


def human_duration(seconds: float) -> str:
    """``3d 4h``, ``5h 12m``, ``42s``."""
    s = int(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def eval_system(
    values: Mapping[str, Value],
    oids: Mapping[str, str],
    previous: Mapping[str, Any] | None,
    prev_at: dt.datetime | None,
    now: dt.datetime,
    out: Outcome,
) -> None:
    """sysDescr, sysName, sysObjectID and sysUpTime, with reboot detection."""
    labels = {
        "sys_descr": "sysDescr",
        "sys_name": "sysName",
        "sys_object_id": "sysObjectID",
        "sys_uptime": "sysUpTime",
    }
    problems = Problems()
    for key, label in labels.items():
        value = values.get(key)
        if value is None or value.absent:
            kind = value.kind.value if value is not None else "no value"
            out.add(ProbeStatus.UNKNOWN, f"{label} not exposed ({kind} at {oids.get(key, '?')})")
    for key in ("sys_descr", "sys_name"):
        text = as_text(values.get(key))
        if text is not None:
            out.metrics[key] = text
    oid = values.get("sys_object_id")
    if oid is not None and not oid.absent:
        if oid.kind is Kind.OID and isinstance(oid.raw, str):
            out.metrics["sys_object_id"] = oid.raw
        else:
            problems.note(f"sysObjectID: expected an OID, got {oid.describe()}")
    ticks = as_int(values.get("sys_uptime"), "sysUpTime", problems)
    problems.flush(out)
    if ticks is None:
        return
    prev = previous or {}
    prev_ticks = prev.get("uptime_ticks")
    wraps = int(prev.get("uptime_wraps", 0) or 0)
    change = uptime_change(prev_ticks if isinstance(prev_ticks, int) else None, prev_at, ticks, now)
    if change is Uptime.WRAPPED:
        wraps += 1
    elif change is Uptime.REBOOTED:
        wraps = 0
    uptime_s = (wraps * TICKS_WRAP + ticks) / 100
    out.metrics.update(
        uptime_s=uptime_s,
        uptime_ticks=ticks,
        uptime_wraps=wraps,
        rebooted=change is Uptime.REBOOTED,
    )
    if change is Uptime.REBOOTED:
        assert isinstance(prev_ticks, int)
        out.add(
            ProbeStatus.WARN,
            f"rebooted since the last check (uptime {human_duration(uptime_s)}, "
            f"was {human_duration(prev_ticks / 100)})",
        )
    else:
        note = ", counter wrapped, not a reboot" if change is Uptime.WRAPPED else ""
        out.add(ProbeStatus.OK, f"up {human_duration(uptime_s)}{note}")


def _short(name: str) -> str:
    return name.strip().split(".")[0].casefold()


def cross_check(
    sys_name: str | None,
    serial: str | None,
    inv_hostname: str | None,
    inv_serial: str | None,
    out: Outcome,
) -> None:
    """sysName and serial against the inventory record; a mismatch is a warning."""
    mismatches: list[str] = []
    if sys_name and inv_hostname and _short(sys_name) != _short(inv_hostname):
        mismatches.append(f"sysName '{sys_name}' but inventory hostname '{inv_hostname}'")
    if serial and inv_serial and serial.strip().casefold() != inv_serial.strip().casefold():
        mismatches.append(f"serial '{serial}' but inventory serial '{inv_serial}'")
    if serial:
        out.metrics["serial"] = serial
    out.metrics["inventory_mismatch"] = mismatches
    if mismatches:
        out.add(ProbeStatus.WARN, "inventory mismatch: " + "; ".join(mismatches))


NEEDS = ("system",)
KEPT = frozenset({"uptime_s"})


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The system group's scalars, in one GET."""
    return Ask(get={key: str(oid) for key, oid in ctx.section("system").items()})


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """Uptime against the previous result: reboot, wrap or continued."""
    eval_system(answer.scalars, answer.oids, ctx.previous, ctx.prev_at, ctx.now, out)
