"""The ``clients`` check: associated Wi-Fi clients from the vendor's own MIB, the vendor chosen
by the sysObjectID enterprise prefix (``clients.vendors`` of the profile)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from kape_itops.probes.snmp.values import Value


def match_vendor(
    sys_object_id: str | None, vendors: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The vendor entry whose enterprise OID prefixes sysObjectID (longest match wins)."""
    if not sys_object_id:
        return None
    oid = sys_object_id.strip(".") + "."
    best: Mapping[str, Any] | None = None
    for vendor in vendors:
        prefix = str(vendor["enterprise"]).strip(".") + "."
        if oid.startswith(prefix) and (
            best is None or len(prefix) > len(str(best["enterprise"]).strip(".")) + 1
        ):
            best = vendor
    return best


def eval_clients(
    vendor: Mapping[str, Any] | None,
    cells: Sequence[Value],
    thresholds: Mapping[str, Mapping[str, float]],
    out: Outcome,
) -> None:
    """Sum of the vendor's client counters; a clean 'not exposed' when there are none."""
    if vendor is None:
        out.metrics["clients"] = None
        out.add(ProbeStatus.OK, "client count not exposed (vendor not in the client table)")
        return
    problems = Problems()
    numbers = [
        n for v in cells if (n := as_int(v, f"{vendor['name']} client count", problems)) is not None
    ]
    problems.flush(out)
    if not numbers:
        out.metrics["clients"] = None
        out.add(ProbeStatus.OK, f"client count not exposed by this {vendor['name']} device")
        return
    clients = sum(numbers)
    out.metrics["clients"] = clients
    limits = thresholds.get("clients", {})
    warn, crit = limits.get("warn"), limits.get("crit")
    if crit is not None and clients >= float(crit):
        out.add(ProbeStatus.CRIT, f"{clients} clients (>= {float(crit):g})")
    elif warn is not None and clients >= float(warn):
        out.add(ProbeStatus.WARN, f"{clients} clients (>= {float(warn):g})")
    else:
        out.add(ProbeStatus.OK, f"{clients} clients")


NEEDS = ("clients",)
KEPT = frozenset({"clients"})


def _vendor(ctx: Context, found: Mapping[str, Any]) -> Mapping[str, Any] | None:
    vendors = ctx.section("clients").get("vendors") or []
    return match_vendor(found.get("sys_object_id"), vendors)


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The vendor's client columns to walk and scalars to GET (nothing for other vendors)."""
    vendor = _vendor(ctx, found)
    if vendor is None:
        return Ask()
    walk = {f"walk.{i}": str(oid) for i, oid in enumerate(vendor.get("walk", []))}
    gets = dict.fromkeys(str(oid).strip(".") for oid in vendor.get("get") or [])
    return Ask(get={f"get.{i}": oid for i, oid in enumerate(gets)}, walk=walk)


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """The sum of every counter the vendor's OIDs gave."""
    cells = answer.cells("walk")
    cells += [v for key, v in answer.scalars.items() if key.startswith("get.")]
    eval_clients(_vendor(ctx, out.metrics), cells, ctx.thresholds, out)
