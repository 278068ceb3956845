"""The ``cpu`` check (HOST-RESOURCES hrProcessorTable): average processor load."""

from __future__ import annotations

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
from kape_itops.probes.snmp.values import Table, sorted_rows


def eval_cpu(table: Table, thresholds: Mapping[str, Mapping[str, float]], out: Outcome) -> None:
    """hrProcessorLoad averaged over processors, when present."""
    problems = Problems()
    loads = [
        n
        for _i, row in sorted_rows(table)
        if (n := as_int(row.get("load"), "hrProcessorLoad", problems)) is not None
    ]
    problems.flush(out)
    if not loads:
        return
    pct = round(sum(loads) / len(loads), 1)
    out.metrics["cpu_pct"] = pct
    limits = thresholds.get("cpu_pct", {})
    warn, crit = limits.get("warn"), limits.get("crit")
    if crit is not None and pct >= float(crit):
        out.add(ProbeStatus.CRIT, f"CPU {pct:g}% (>= {float(crit):g}%)")
    elif warn is not None and pct >= float(warn):
        out.add(ProbeStatus.WARN, f"CPU {pct:g}% (>= {float(warn):g}%)")


NEEDS = ("cpu",)
KEPT: frozenset[str] = frozenset()


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The hrProcessorLoad column."""
    return Ask(walk=walk_columns("cpu", ctx.section("cpu").get("columns")))


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """The average load against ``thresholds.cpu_pct``, when given."""
    eval_cpu(answer.table("cpu"), ctx.thresholds, out)
