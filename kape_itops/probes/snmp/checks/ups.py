"""The ``ups`` check (UPS-MIB, RFC 1628): battery status, charge, minutes left, on battery, alarms.

The numeric OIDs are the profile's ``ups`` section (``probes/snmp/base.yaml``). Charge and
minutes left are judged by ``thresholds.ups_charge_pct`` and ``thresholds.ups_minutes_left``
(below ``warn`` a warning, below ``crit`` critical; a threshold not given is not judged). The
rest follows the MIB's meaning: a battery low or depleted is critical, output on battery or
bypass a warning, no output critical; each active alarm of the alarm table has its own severity.
Every verdict is stored in ``levels`` so the report's ``ups_battery`` problem agrees with the
probe's status.
"""

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
from kape_itops.probes.snmp.checks.system import human_duration
from kape_itops.probes.snmp.values import Kind, Table, Value, sorted_rows

NEEDS = ("ups",)
KEPT = frozenset(
    {
        "ups_battery_status",
        "ups_charge_pct",
        "ups_minutes_left",
        "ups_on_battery",
        "ups_output_source",
        "ups_alarms",
        "levels",
    }
)
LABELS = {
    "battery_status": "upsBatteryStatus",
    "seconds_on_battery": "upsSecondsOnBattery",
    "minutes_left": "upsEstimatedMinutesRemaining",
    "charge_pct": "upsEstimatedChargeRemaining",
    "voltage": "upsBatteryVoltage",
    "temperature": "upsBatteryTemperature",
    "output_source": "upsOutputSource",
    "alarms_present": "upsAlarmsPresent",
}
"""The scalars of the ``ups`` section and their UPS-MIB names."""

_OK, _WARN, _CRIT = ProbeStatus.OK, ProbeStatus.WARN, ProbeStatus.CRIT
BATTERY_STATUS: dict[int, tuple[str, ProbeStatus | None]] = {
    1: ("unknown", None),
    2: ("normal", _OK),
    3: ("low", _CRIT),
    4: ("depleted", _CRIT),
}
OUTPUT_SOURCE: dict[int, tuple[str, ProbeStatus]] = {
    1: ("other", _OK),
    2: ("none", _CRIT),
    3: ("normal", _OK),
    4: ("bypass", _WARN),
    5: ("battery", _WARN),
    6: ("booster", _OK),
    7: ("reducer", _OK),
}
WELL_KNOWN_ALARMS = "1.3.6.1.2.1.33.1.6.3"
"""upsWellKnownAlarms: an alarm row's upsAlarmDescr is one of these OIDs (``.<n>``)."""
ALARMS: dict[int, tuple[str, ProbeStatus]] = {
    1: ("battery bad", _WARN),
    2: ("on battery", _WARN),
    3: ("low battery", _CRIT),
    4: ("depleted battery", _CRIT),
    5: ("temperature bad", _WARN),
    6: ("input bad", _WARN),
    7: ("output bad", _CRIT),
    8: ("output overload", _CRIT),
    9: ("on bypass", _WARN),
    10: ("bypass bad", _WARN),
    11: ("output off as requested", _WARN),
    12: ("UPS off as requested", _WARN),
    13: ("charger failed", _CRIT),
    14: ("UPS output off", _CRIT),
    15: ("UPS system off", _CRIT),
    16: ("fan failure", _WARN),
    17: ("fuse failure", _CRIT),
    18: ("general fault", _CRIT),
    19: ("diagnostic test failed", _WARN),
    20: ("communications lost", _WARN),
    21: ("awaiting power", _WARN),
    22: ("shutdown pending", _CRIT),
    23: ("shutdown imminent", _CRIT),
    24: ("test in progress", _OK),
}
_SAID = {2: "ups_output_source", 3: "ups_battery_status", 4: "ups_battery_status"}
"""Alarms a reading may already have judged as severe: listed, but not said twice."""


def below(value: float, limits: Mapping[str, float]) -> tuple[ProbeStatus, float] | None:
    """``value`` against ``{warn, crit}`` where lower is worse: the verdict and the limit
    crossed (the value itself when none is), or None when no limit is given."""
    crit, warn = limits.get("crit"), limits.get("warn")
    if crit is not None and value < float(crit):
        return _CRIT, float(crit)
    if warn is not None and value < float(warn):
        return _WARN, float(warn)
    return None if crit is None and warn is None else (_OK, value)


def _read(values: Mapping[str, Value], problems: Problems) -> dict[str, int | None]:
    """The scalars as numbers; impossible ones (a charge of 150 %) are noted, not used."""
    n = {key: as_int(values.get(key), label, problems) for key, label in LABELS.items()}
    checks = (
        ("charge_pct", 0, 100),
        ("minutes_left", 0, None),
        ("seconds_on_battery", 0, None),
        ("voltage", 0, None),
        ("alarms_present", 0, None),
    )
    for key, low, high in checks:
        number = n[key]
        if number is not None and (number < low or (high is not None and number > high)):
            problems.note(f"{LABELS[key]}: impossible value {number} (raw, unknown)")
            n[key] = None
    for key, table in (("battery_status", BATTERY_STATUS), ("output_source", OUTPUT_SOURCE)):
        number = n[key]
        if number is not None and number not in table:
            problems.note(f"{LABELS[key]}: value {number} is not in UPS-MIB")
            n[key] = None
    return n


def alarm_names(alarms: Table) -> list[tuple[int | None, str, ProbeStatus]]:
    """The active alarms of upsAlarmTable: (well-known number, name, severity)."""
    found: list[tuple[int | None, str, ProbeStatus]] = []
    prefix = WELL_KNOWN_ALARMS + "."
    for index, row in sorted_rows(alarms):
        descr = row.get("descr")
        oid = descr.raw.strip(".") if descr is not None and isinstance(descr.raw, str) else None
        if descr is None or descr.kind is not Kind.OID or oid is None:
            found.append((None, f"alarm {index}", _WARN))
            continue
        tail = oid[len(prefix) :] if oid.startswith(prefix) else ""
        known = ALARMS.get(int(tail)) if tail.isdigit() else None
        if known is None:
            found.append((None, f"alarm {oid}", _WARN))
        else:
            found.append((int(tail), *known))
    return found


def eval_ups(
    values: Mapping[str, Value],
    alarms: Table,
    thresholds: Mapping[str, Mapping[str, float]],
    out: Outcome,
) -> None:
    """Battery group, output source and alarms of one UPS (see the module docstring)."""
    problems = Problems()
    exposed = any(v is not None and not v.absent for v in values.values())
    n = _read(values, problems)
    problems.flush(out)
    if not exposed and not alarms:
        out.add(ProbeStatus.UNKNOWN, "UPS-MIB not exposed (no upsBatteryStatus, no upsAlarmTable)")
        return
    status = BATTERY_STATUS.get(n["battery_status"] or 0)
    source = OUTPUT_SOURCE.get(n["output_source"] or 0)
    seconds = n["seconds_on_battery"]
    on_battery = (
        source[0] == "battery" if source else (seconds > 0 if seconds is not None else None)
    )
    listed = alarm_names(alarms)
    out.metrics.update(
        ups_battery_status=status[0] if status else None,
        ups_charge_pct=n["charge_pct"],
        ups_minutes_left=n["minutes_left"],
        ups_seconds_on_battery=seconds,
        ups_battery_v=None if n["voltage"] is None else n["voltage"] / 10,
        ups_battery_temp_c=n["temperature"],
        ups_output_source=source[0] if source else None,
        ups_on_battery=on_battery,
        ups_alarms=[name for _n, name, _s in listed],
    )
    if status is not None and status[1] is not None:
        out.level("ups_battery_status", status[1])
        if status[1] is not _OK:
            out.add(status[1], f"battery {status[0]} (upsBatteryStatus)")
    if on_battery:
        took = f" for {human_duration(seconds)}" if seconds else ""
        out.level("ups_output_source", _WARN)
        out.add(_WARN, f"on battery{took}")
    elif source is not None:
        out.level("ups_output_source", source[1])
        if source[1] is not _OK:
            out.add(source[1], f"output source {source[0]} (upsOutputSource)")
    for key, text in (
        ("charge_pct", "battery {v}% charged (< {limit:g}%)"),
        ("minutes_left", "{v} min of battery left (< {limit:g} min)"),
    ):
        value = n[key]
        verdict = below(value, thresholds.get(f"ups_{key}", {})) if value is not None else None
        if value is None or verdict is None:
            continue
        out.level(f"ups_{key}", verdict[0])
        if verdict[0] is not _OK:
            out.add(verdict[0], text.format(v=value, limit=verdict[1]))
    judged: Mapping[str, str] = out.metrics.get("levels", {})
    for number, name, severity in listed:
        said = judged.get(_SAID.get(number or 0, "")) == severity.value
        out.level(f"ups_alarms:{name}", severity)
        if severity is not _OK and not said:
            out.add(severity, f"UPS alarm: {name}")
    present = n["alarms_present"]
    if present and not listed:
        out.level("ups_alarms", _WARN)
        out.add(_WARN, f"{present} UPS alarm(s) present (upsAlarmTable not exposed)")
    out.add(ProbeStatus.OK, "UPS " + summary(out.metrics))


def summary(metrics: Mapping[str, Any]) -> str:
    """``on battery, battery low, 15% charged, 4 min left`` from a result's metrics."""
    parts: list[str] = []
    if metrics.get("ups_on_battery"):
        parts.append("on battery")
    elif metrics.get("ups_output_source") not in (None, "normal"):
        parts.append(f"output {metrics['ups_output_source']}")
    if metrics.get("ups_battery_status") is not None:
        parts.append(f"battery {metrics['ups_battery_status']}")
    if isinstance(metrics.get("ups_charge_pct"), int | float):
        parts.append(f"{metrics['ups_charge_pct']:g}% charged")
    if isinstance(metrics.get("ups_minutes_left"), int | float):
        parts.append(f"{metrics['ups_minutes_left']:g} min left")
    alarms = metrics.get("ups_alarms")
    if isinstance(alarms, list) and alarms:
        parts.append("alarms: " + ", ".join(str(a) for a in alarms))
    return ", ".join(parts) or "battery state not exposed"


def ask(ctx: Context, found: Mapping[str, Any]) -> Ask:
    """The battery group, output source and alarm count (one GET), and the alarm table."""
    section = ctx.section("ups")
    get = {key: str(section[key]) for key in LABELS if section.get(key)}
    return Ask(get=get, walk=walk_columns("alarms", section.get("alarms")))


def judge(ctx: Context, answer: Answer, out: Outcome) -> None:
    """Battery, output and alarms against the profile's thresholds."""
    eval_ups(answer.scalars, answer.table("alarms"), ctx.thresholds, out)
