"""The ``printer`` check (Printer-MIB, HOST-RESOURCES hrPrinterTable): supplies, alerts,
printer status and detected errors, page counter and serial."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.snmp.checks.base import (
    Answer,
    Ask,
    Context,
    Outcome,
    Problems,
    as_int,
    walk_columns,
)
from kape_itops.probes.snmp.values import Table, Value, as_text, sorted_rows

SUPPLY_SPECIAL = {-1: "no restriction", -2: "unknown", -3: "some remaining"}
ALERT_SEVERITY = {1: "other", 3: "critical", 4: "warning", 5: "warning"}
PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
ERROR_BITS: dict[int, tuple[str, ProbeStatus]] = {
    0: ("low paper", ProbeStatus.WARN),
    1: ("no paper", ProbeStatus.WARN),
    2: ("low toner", ProbeStatus.WARN),
    3: ("no toner", ProbeStatus.CRIT),
    4: ("door open", ProbeStatus.CRIT),
    5: ("jammed", ProbeStatus.CRIT),
    6: ("offline", ProbeStatus.CRIT),
    7: ("service requested", ProbeStatus.CRIT),
    8: ("input tray missing", ProbeStatus.WARN),
    9: ("output tray missing", ProbeStatus.WARN),
    10: ("marker supply missing", ProbeStatus.CRIT),
    11: ("output near full", ProbeStatus.WARN),
    12: ("output full", ProbeStatus.CRIT),
    13: ("input tray empty", ProbeStatus.WARN),
    14: ("overdue preventive maintenance", ProbeStatus.WARN),
}


@dataclass(frozen=True, slots=True)
class Supply:
    """One marker supply judged: ``pct`` only when level and capacity make sense."""

    name: str
    level: int | None
    max: int | None
    pct: float | None
    state: str


def judge_supply(name: str, level: int | None, capacity: int | None) -> Supply:
    """Percent remaining, honouring -1/-2/-3; impossible numbers give state ``impossible``."""
    if level is None or capacity is None:
        return Supply(name, level, capacity, None, "not exposed")
    if level in (-1, -3) and capacity not in (0,) and capacity >= -2:
        return Supply(name, level, capacity, None, SUPPLY_SPECIAL[level])
    if level == -2 or capacity == -2:
        return Supply(name, level, capacity, None, "unknown")
    if capacity == -1:
        return Supply(name, level, capacity, None, "no restriction")
    if level < 0 or capacity <= 0 or level > capacity:
        return Supply(name, level, capacity, None, "impossible")
    return Supply(name, level, capacity, round(level * 100 / capacity, 1), "measured")


def supply_limits(thresholds: Mapping[str, Mapping[str, float]]) -> tuple[float, float]:
    """(warn, crit) percent of ``thresholds.supply_pct``; 15 and 5 when none is given."""
    limits = thresholds.get("supply_pct", {})
    return float(limits.get("warn", 15)), float(limits.get("crit", 5))


def supply_status(pct: float, warn: float, crit: float) -> ProbeStatus:
    """A supply level judged: below ``crit`` percent is critical, below ``warn`` a warning."""
    if pct < crit:
        return ProbeStatus.CRIT
    return ProbeStatus.WARN if pct < warn else ProbeStatus.OK


def detected_errors(raw: bytes) -> list[tuple[str, ProbeStatus]]:
    """hrPrinterDetectedErrorState: bit 0 is the high bit of the first octet."""
    found: list[tuple[str, ProbeStatus]] = []
    for bit, (name, status) in ERROR_BITS.items():
        octet, shift = divmod(bit, 8)
        if octet < len(raw) and raw[octet] & (0x80 >> shift):
            found.append((name, status))
    return found


def eval_printer(
    supplies: Table,
    alerts: Table,
    status_rows: Table,
    page_count: Value | None,
    thresholds: Mapping[str, Mapping[str, float]],
    out: Outcome,
) -> None:
    """Printer-MIB supplies and alerts, hrPrinterStatus, detected error state, page counter."""
    warn, crit = supply_limits(thresholds)
    problems = Problems()
    judged: list[Supply] = []
    for index, row in sorted_rows(supplies):
        name = as_text(row.get("descr")) or f"supply {index}"
        level = as_int(row.get("level"), f"{name} level", problems)
        capacity = as_int(row.get("max"), f"{name} max capacity", problems)
        judged.append(judge_supply(name, level, capacity))
    problems.flush(out)
    out.metrics["supplies"] = [
        {"name": s.name, "level": s.level, "max": s.max, "pct": s.pct, "state": s.state}
        for s in judged
    ]
    for s in judged:
        if s.state == "impossible":
            out.add(
                ProbeStatus.UNKNOWN,
                f"{s.name}: impossible level {s.level} of capacity {s.max} (raw values, unknown)",
            )
        elif s.pct is not None:
            verdict = supply_status(s.pct, warn, crit)
            out.level(f"supplies:{s.name}", verdict)
            if verdict != ProbeStatus.OK:
                limit = crit if verdict == ProbeStatus.CRIT else warn
                out.add(verdict, f"{s.name} {s.pct:g}% (< {limit:g}%)")
    if not supplies:
        out.add(
            ProbeStatus.UNKNOWN, "Printer-MIB supplies not exposed (empty prtMarkerSuppliesTable)"
        )
    else:
        shown = ", ".join(
            f"{s.name} {s.pct:g}%" if s.pct is not None else f"{s.name} {s.state}" for s in judged
        )
        out.add(ProbeStatus.OK, f"supplies: {shown}")
    listed: list[dict[str, Any]] = []
    for _index, row in sorted_rows(alerts):
        sev = as_int(row.get("severity"), "prtAlertSeverityLevel", problems)
        text = as_text(row.get("descr")) or ""
        code = as_int(row.get("code"), "prtAlertCode", problems)
        severity = ALERT_SEVERITY.get(sev or 0, "other")
        listed.append({"severity": severity, "code": code, "description": text})
        if severity in ("critical", "warning"):
            status = ProbeStatus.CRIT if severity == "critical" else ProbeStatus.WARN
            out.add(status, f"printer alert ({severity}): {text or f'code {code}'}")
    out.metrics["alerts"] = listed
    for _index, row in sorted_rows(status_rows):
        st = as_int(row.get("status"), "hrPrinterStatus", problems)
        if st is not None:
            out.metrics["printer_status"] = PRINTER_STATUS.get(st, str(st))
        err = row.get("error_state")
        if err is not None and isinstance(err.raw, bytes):
            errors = detected_errors(err.raw)
            out.metrics["printer_errors"] = [name for name, _ in errors]
            for name, status in errors:
                out.add(status, f"printer reports {name}")
        break
    count = as_int(page_count, "prtMarkerLifeCount", problems)
    if count is not None:
        out.metrics["page_count"] = count
    problems.flush(out)


NEEDS = ("printer",)
KEPT = frozenset({"supplies", "page_count", "levels"})
TABLES = ("supplies", "alerts", "status")
"""Tables of the ``printer`` section; ``page_count`` and ``serial`` are columns read once."""


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The supplies, alerts and status tables, and the first page counter and serial."""
    printer = ctx.section("printer")
    walk: dict[str, str] = {}
    for table in TABLES:
        walk.update(walk_columns(table, printer.get(table)))
    for scalar in ("page_count", "serial"):
        if printer.get(scalar):
            walk[f"{scalar}.value"] = str(printer[scalar])
    return Ask(walk=walk)


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """Supplies against ``thresholds.supply_pct``; alerts and error bits as the printer says."""
    first = answer.table("page_count")
    page = next(iter(first.values()), {}).get("value") if first else None
    serials = answer.table("serial")
    serial = as_text(next(iter(serials.values()), {}).get("value")) if serials else None
    if serial:
        out.metrics["serial"] = serial
    eval_printer(
        answer.table("supplies"),
        answer.table("alerts"),
        answer.table("status"),
        page,
        ctx.thresholds,
        out,
    )
