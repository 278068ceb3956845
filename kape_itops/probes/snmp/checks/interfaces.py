"""The ``interfaces`` check (IF-MIB): oper/admin status, uplinks, errors and octet rates."""

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
from kape_itops.probes.snmp.values import Kind, Row, Table, as_text, sorted_rows

_OPER = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
_COUNTER_BITS = {Kind.COUNTER64: 64, Kind.COUNTER32: 32}


def counter_delta(prev: int, cur: int, bits: int) -> int:
    """Wrap-safe increase of an unsigned counter of ``bits`` bits."""
    return (cur - prev) % (1 << bits)


def _counter(row: Row, key: str, label: str, problems: Problems) -> tuple[int, int] | None:
    value = row.get(key)
    number = as_int(value, label, problems)
    if number is None or value is None:
        return None
    return number, _COUNTER_BITS.get(value.kind, 64)


def eval_interfaces(
    table: Table,
    settings: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    elapsed_s: float | None,
    rebooted: bool,
    out: Outcome,
) -> None:
    """Oper/admin status, errors and discards, HC octet rates from the previous counters."""
    pattern = re.compile(str(settings.get("uplink_pattern") or r"(?!x)x"))
    uplink_names = {str(n) for n in settings.get("uplinks", []) or []}
    err_warn = float(settings.get("error_rate_warn", 1.0))
    problems = Problems()
    prev_counters: Mapping[str, Any] = (previous or {}).get("if_counters") or {}
    counters: dict[str, list[int | None]] = {}
    rates: dict[str, dict[str, float]] = {}
    down: list[str] = []
    uplinks_down: list[str] = []
    noisy: list[str] = []
    up_count = 0
    for index, row in sorted_rows(table):
        name = as_text(row.get("name")) or as_text(row.get("descr")) or f"if{index}"
        alias = as_text(row.get("alias")) or ""
        admin = as_int(row.get("admin"), f"{name} ifAdminStatus", problems)
        oper = as_int(row.get("oper"), f"{name} ifOperStatus", problems)
        if admin == 1 and oper == 1:
            up_count += 1
        is_uplink = name in uplink_names or bool(pattern.search(name) or pattern.search(alias))
        if admin == 1 and oper is not None and oper not in (1, 5):
            down.append(name)
            out.level(f"if_down:{name}", ProbeStatus.CRIT if is_uplink else ProbeStatus.OK)
            if is_uplink:
                label = f"{name} ({alias})" if alias else name
                uplinks_down.append(f"{label} {_OPER.get(oper, str(oper))}")
        in_oct = _counter(row, "hc_in_octets", f"{name} ifHCInOctets", problems)
        out_oct = _counter(row, "hc_out_octets", f"{name} ifHCOutOctets", problems)
        errs = [
            _counter(row, k, f"{name} {k}", problems)
            for k in ("in_errors", "out_errors", "in_discards", "out_discards")
        ]
        err_total = sum(e[0] for e in errs if e) if any(errs) else None
        counters[index] = [
            in_oct[0] if in_oct else None,
            out_oct[0] if out_oct else None,
            err_total,
        ]
        before = prev_counters.get(index)
        if rebooted or not elapsed_s or not isinstance(before, list) or len(before) != 3:
            continue
        speed = as_int(row.get("high_speed"), f"{name} ifHighSpeed", problems)
        rate: dict[str, float] = {}
        for slot, (key, cur) in enumerate((("in_bps", in_oct), ("out_bps", out_oct))):
            if cur is None or not isinstance(before[slot], int):
                continue
            bps = counter_delta(before[slot], cur[0], cur[1]) * 8 / elapsed_s
            if speed and bps > speed * 1_000_000 * 1.05:
                continue  # faster than the link: a counter reset, not traffic
            rate[key] = round(bps, 1)
        if err_total is not None and isinstance(before[2], int) and err_total >= before[2]:
            eps = (err_total - before[2]) / elapsed_s
            rate["errors_ps"] = round(eps, 3)
            if eps >= err_warn:
                noisy.append(f"{name} {eps:.1f} errors/s")
        if rate:
            rates[name] = rate
    problems.flush(out)
    out.metrics.update(
        if_count=len(table), if_up=up_count, if_down=down, if_counters=counters, if_rates=rates
    )
    if uplinks_down:
        out.add(ProbeStatus.CRIT, "uplink down: " + ", ".join(uplinks_down))
    if noisy:
        out.add(ProbeStatus.WARN, "interface errors: " + ", ".join(noisy[:5]))
    if not table:
        out.add(ProbeStatus.UNKNOWN, "IF-MIB interfaces not exposed (empty ifTable)")
        return
    extra = f", {len(down)} enabled but down (not uplinks)" if down and not uplinks_down else ""
    out.add(ProbeStatus.OK, f"{up_count}/{len(table)} interfaces up{extra}")


NEEDS = ("interfaces",)
KEPT = frozenset({"if_down", "levels"})


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The ifTable/ifXTable columns of the profile."""
    return Ask(walk=walk_columns("interfaces", ctx.section("interfaces").get("columns")))


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """Rates from the previous counters, unless the device rebooted in between."""
    elapsed = (ctx.now - ctx.prev_at).total_seconds() if ctx.prev_at else None
    eval_interfaces(
        answer.table("interfaces"),
        ctx.section("interfaces"),
        ctx.previous,
        elapsed,
        bool(out.metrics.get("rebooted")),
        out,
    )
