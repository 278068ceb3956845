"""The ``storage`` check (HOST-RESOURCES hrStorageTable): used % of the disks."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from kape_itops.probes.snmp.values import Table, as_text, sorted_rows


def disk_limits(thresholds: Mapping[str, Mapping[str, float]]) -> tuple[float, float]:
    """(warn, crit) percent of ``thresholds.disk_used_pct``; 85 and 95 when none is given."""
    limits = thresholds.get("disk_used_pct", {})
    return float(limits.get("warn", 85)), float(limits.get("crit", 95))


def disk_status(pct: float, warn: float, crit: float) -> ProbeStatus:
    """A disk's used percent judged: above ``crit`` is critical, above ``warn`` a warning."""
    if pct > crit:
        return ProbeStatus.CRIT
    return ProbeStatus.WARN if pct > warn else ProbeStatus.OK


def unsigned32(n: int) -> int:
    """Integer32 fields that overflowed on big disks come back negative: read them unsigned."""
    return n + (1 << 32) if n < 0 else n


def eval_storage(
    table: Table,
    settings: Mapping[str, Any],
    thresholds: Mapping[str, Mapping[str, float]],
    out: Outcome,
) -> None:
    """hrStorageTable: used % of fixed (and network) disks; the fullest is ``disk_used_pct``."""
    disk_types = {str(t).strip(".") for t in settings.get("disk_types", [])}
    pattern = settings.get("disk_pattern")
    match = re.compile(str(pattern)) if pattern else None
    warn, crit = disk_limits(thresholds)
    problems = Problems()
    disks: list[dict[str, Any]] = []
    for index, row in sorted_rows(table):
        kind = row.get("type")
        if kind is None or not isinstance(kind.raw, str) or kind.raw.strip(".") not in disk_types:
            continue
        name = as_text(row.get("descr")) or f"storage {index}"
        if match is not None and not match.search(name):
            continue
        units = as_int(row.get("units"), f"{name} hrStorageAllocationUnits", problems)
        size = as_int(row.get("size"), f"{name} hrStorageSize", problems)
        used = as_int(row.get("used"), f"{name} hrStorageUsed", problems)
        if units is None or size is None or used is None:
            continue
        size, used = unsigned32(size), unsigned32(used)
        if size == 0 or units <= 0 or used > size:
            problems.note(
                f"{name}: impossible storage numbers used={used} size={size} units={units}"
            )
            continue
        pct = round(used * 100 / size, 1)
        disks.append({"name": name, "used_pct": pct, "size_bytes": size * units})
    problems.flush(out)
    out.metrics["disks"] = disks
    if not disks:
        out.add(ProbeStatus.UNKNOWN, "Host-Resources disk storage not exposed")
        return
    fullest = max(disks, key=lambda d: float(d["used_pct"]))
    pct = float(fullest["used_pct"])
    out.metrics["disk_used_pct"] = pct
    text = f"disk {fullest['name']} {pct:g}% used"
    verdict = disk_status(pct, warn, crit)
    out.level("disk_used_pct", verdict)
    if verdict == ProbeStatus.OK:
        out.add(ProbeStatus.OK, text)
    else:
        limit = crit if verdict == ProbeStatus.CRIT else warn
        out.add(verdict, f"{text} (> {limit:g}%)")


NEEDS = ("storage",)
KEPT = frozenset({"disk_used_pct", "levels"})


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The hrStorageTable columns of the profile."""
    return Ask(walk=walk_columns("storage", ctx.section("storage").get("columns")))


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """The fullest disk against ``thresholds.disk_used_pct``."""
    eval_storage(answer.table("storage"), ctx.section("storage"), ctx.thresholds, out)
