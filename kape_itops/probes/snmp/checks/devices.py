"""The ``devices`` check (HOST-RESOURCES hrDeviceTable): devices down or warning."""

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
from kape_itops.probes.snmp.values import Table, as_text, sorted_rows

DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}


def eval_devices(table: Table, settings: Mapping[str, Any], out: Outcome) -> None:
    """hrDeviceStatus: a device ``down`` is critical, ``warning`` is a warning.

    Types in ``ignore_types`` (network interfaces: IF-MIB judges those) are skipped.
    """
    ignore = {str(t).strip(".") for t in settings.get("ignore_types", [])}
    problems = Problems()
    bad: list[str] = []
    for index, row in sorted_rows(table):
        kind = row.get("type")
        if kind is not None and isinstance(kind.raw, str) and kind.raw.strip(".") in ignore:
            continue
        status = as_int(row.get("status"), "hrDeviceStatus", problems)
        name = as_text(row.get("descr")) or f"device {index}"
        if status == 5:
            out.add(ProbeStatus.CRIT, f"{name} is down (hrDeviceStatus)")
            bad.append(name)
        elif status == 3:
            out.add(ProbeStatus.WARN, f"{name} reports a warning (hrDeviceStatus)")
            bad.append(name)
    problems.flush(out)
    out.metrics["devices_not_running"] = bad


NEEDS = ("devices",)
KEPT: frozenset[str] = frozenset()


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The hrDeviceTable columns of the profile."""
    return Ask(walk=walk_columns("devices", ctx.section("devices").get("columns")))


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """hrDeviceStatus of every device not of an ignored type."""
    eval_devices(answer.table("devices"), ctx.section("devices"), out)
