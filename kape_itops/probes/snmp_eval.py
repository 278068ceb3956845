"""Pure evaluation of SNMP answers: values in, status, reason and metrics out (no I/O).

Everything an agent sends is untrusted: wrong types (a string where an integer belongs),
impossible numbers (toner at 150 %, used space above the disk size) and counters that wrapped
or reset are reported as ``unknown`` with the raw numbers, never turned into a plausible lie.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.base import worst
from kape_itops.probes.snmp_decode import decode_display, hex_bytes

TICKS_WRAP = 1 << 32
"""sysUpTime is TimeTicks (1/100 s) in 32 bits: it wraps after about 497 days."""


class Kind(StrEnum):
    """The SNMP type of one returned value, without the protocol library's classes."""

    INTEGER = "integer"
    UNSIGNED = "unsigned"
    COUNTER32 = "counter32"
    COUNTER64 = "counter64"
    TIMETICKS = "timeticks"
    OCTETS = "octets"
    OID = "oid"
    IPADDRESS = "ipaddress"
    OPAQUE = "opaque"
    NULL = "null"
    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB = "endOfMibView"


NUMERIC = frozenset({Kind.INTEGER, Kind.UNSIGNED, Kind.COUNTER32, Kind.COUNTER64, Kind.TIMETICKS})
ABSENT = frozenset({Kind.NULL, Kind.NO_SUCH_OBJECT, Kind.NO_SUCH_INSTANCE, Kind.END_OF_MIB})


@dataclass(frozen=True, slots=True)
class Value:
    """One varbind value: ``raw`` is an int, bytes, a dotted OID string or None."""

    kind: Kind
    raw: int | bytes | str | None = None

    @property
    def absent(self) -> bool:
        """noSuchObject, noSuchInstance, endOfMibView or NULL."""
        return self.kind in ABSENT

    def describe(self) -> str:
        """A short, printable description including the raw content."""
        if isinstance(self.raw, bytes):
            return f"{self.kind.value} '{decode_display(self.raw)}'"
        if self.raw is None:
            return self.kind.value
        return f"{self.kind.value} {self.raw}"


Row = Mapping[str, Value]
Table = Mapping[str, Row]
"""Rows of a walked table keyed by instance index (``"3"``, ``"1.2"``), columns by name."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation: ``ok`` findings make the summary, others the reason."""

    status: ProbeStatus
    text: str


@dataclass(slots=True)
class Outcome:
    """What the evaluation of one device produced."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def add(self, status: ProbeStatus, text: str) -> None:
        self.findings.append(Finding(status, text))

    def level(self, key: str, status: ProbeStatus) -> None:
        """Record the verdict on one judged reading in ``metrics["levels"]`` (reports read it)."""
        self.metrics.setdefault("levels", {})[key] = status.value

    @property
    def status(self) -> ProbeStatus:
        return worst([f.status for f in self.findings])

    @property
    def reason(self) -> str:
        """The findings of the worst status, else the ok summary."""
        top = self.status
        texts = [f.text for f in self.findings if f.status == top]
        return "; ".join(texts) if texts else "ok"


class Problems:
    """Bad values met while reading a table: reported once, with a count, as ``unknown``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def note(self, text: str) -> None:
        self.items.append(text)

    def flush(self, out: Outcome, limit: int = 3) -> None:
        if not self.items:
            return
        shown = "; ".join(self.items[:limit])
        more = len(self.items) - limit
        out.add(ProbeStatus.UNKNOWN, shown + (f" (+{more} more)" if more > 0 else ""))


def as_int(value: Value | None, label: str, problems: Problems | None = None) -> int | None:
    """An integer value; a wrong type is noted as a problem, an absent one is None."""
    if value is None or value.absent:
        return None
    if value.kind in NUMERIC and isinstance(value.raw, int):
        return value.raw
    if problems is not None:
        problems.note(f"{label}: expected a number, got {value.describe()}")
    return None


def as_text(value: Value | None) -> str | None:
    """Printable text of a value (DisplayString decoded with visible-bytes fallback)."""
    if value is None or value.absent:
        return None
    if isinstance(value.raw, bytes):
        return decode_display(value.raw)
    return None if value.raw is None else str(value.raw)


def rows_from_columns(
    columns: Mapping[str, Sequence[tuple[str, Value]]], bases: Mapping[str, str]
) -> dict[str, dict[str, Value]]:
    """Pivot walked columns (``name -> [(oid, value)]``) into rows keyed by instance index."""
    rows: dict[str, dict[str, Value]] = {}
    for name, cells in columns.items():
        prefix = bases[name].strip(".") + "."
        for oid, value in cells:
            if oid.startswith(prefix):
                rows.setdefault(oid[len(prefix) :], {})[name] = value
    return rows


def _index_key(index: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in index.split("."))
    except ValueError:
        return (1 << 63,)


def sorted_rows(table: Table) -> list[tuple[str, Row]]:
    """Rows in numeric index order."""
    return sorted(table.items(), key=lambda item: _index_key(item[0]))


# --- uptime and reboots ---------------------------------------------------------------


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


# --- interfaces -------------------------------------------------------------------------

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


# --- printers ---------------------------------------------------------------------------

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


def supply_status(pct: float, warn: float, crit: float) -> ProbeStatus:
    """A supply level judged: below ``crit`` percent is critical, below ``warn`` a warning."""
    if pct < crit:
        return ProbeStatus.CRIT
    return ProbeStatus.WARN if pct < warn else ProbeStatus.OK


def disk_status(pct: float, warn: float, crit: float) -> ProbeStatus:
    """A disk's used percent judged: above ``crit`` is critical, above ``warn`` a warning."""
    if pct > crit:
        return ProbeStatus.CRIT
    return ProbeStatus.WARN if pct > warn else ProbeStatus.OK


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
    limits = thresholds.get("supply_pct", {})
    warn, crit = float(limits.get("warn", 15)), float(limits.get("crit", 5))
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


# --- host resources ---------------------------------------------------------------------


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
    limits = thresholds.get("disk_used_pct", {})
    warn, crit = float(limits.get("warn", 85)), float(limits.get("crit", 95))
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


# --- wireless clients -------------------------------------------------------------------


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


# --- inventory cross-check --------------------------------------------------------------


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


def octets_text(value: Value | None) -> str | None:
    """Text of an octet string, or hex when it is not printable text."""
    if value is None or value.absent or not isinstance(value.raw, bytes):
        return as_text(value)
    return decode_display(value.raw) if value.raw.isascii() else hex_bytes(value.raw)
