"""Pure parsers for CLI output: text in, metrics out (no I/O besides reading TextFSM templates).

A command set (``probes/ssh/*.yaml``) names, per command, a ``parser`` and what the command
``reads``. ``parser: ntc`` uses the ntc-templates TextFSM template for the netmiko device type
and command; any other name is a small parser below. ``reads`` says which metrics the records
give (see :data:`READS`). Output no parser can read raises :class:`ParseFailed`, which the probe
turns into an ``unknown`` result that keeps the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Record = dict[str, Any]

READS = (
    "version",
    "uptime",
    "resource",
    "cpu",
    "memory",
    "interfaces",
    "dhcp_leases",
    "wifi_clients",
    "text",
)
BUILTIN = (
    "ntc",
    "count",
    "integer",
    "text",
    "ios_memory",
    "ios_dhcp_binding",
    "linux_uptime",
    "linux_loadavg",
    "linux_meminfo",
    "kv",
    "port_status",
    "cpu_five",
    "jetstream_cpu",
    "jetstream_memory",
    "fastpath_cpu",
)


class ParseFailed(ValueError):
    """The output does not have the shape the parser expects."""


# -- TextFSM (ntc-templates) ---------------------------------------------------------------
def parse_ntc(device_type: str, command: str, text: str) -> list[Record]:
    """Records from the ntc-templates template for ``device_type`` + ``command``."""
    from ntc_templates.parse import parse_output
    from textfsm import TextFSMError
    from textfsm.clitable import CliTableError

    try:
        records = parse_output(platform=device_type, command=command, data=text)
    except (TextFSMError, CliTableError) as exc:
        raise ParseFailed(f"TextFSM: {_short(str(exc))}") from exc
    except Exception as exc:  # ntc_templates raises its own ParsingException (no template)
        raise ParseFailed(f"no TextFSM template or unreadable: {_short(str(exc))}") from exc
    if not isinstance(records, list) or not records:
        raise ParseFailed("TextFSM found no records")
    return [dict(r) for r in records]


def _short(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return " ".join(text.split())[:160]


# -- small parsers -------------------------------------------------------------------------
def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def parse_integer(text: str) -> list[Record]:
    """A single integer (``print count-only``)."""
    lines = _lines(text)
    if len(lines) != 1 or not re.fullmatch(r"\d+", lines[0]):
        raise ParseFailed("expected a single number")
    return [{"value": int(lines[0])}]


def parse_count(text: str) -> list[Record]:
    """One record per non-empty line."""
    return [{"line": ln} for ln in _lines(text)]


def parse_text(text: str) -> list[Record]:
    """The output as one text value (e.g. ``uname -sr``)."""
    lines = _lines(text)
    if not lines:
        raise ParseFailed("empty output")
    return [{"value": lines[0][:200]}]


def parse_kv(text: str) -> list[Record]:
    """``key: value`` or ``key - value`` lines into one record (keys lower-case, ``_``)."""
    out: Record = {}
    for ln in _lines(text):
        m = re.match(r"^([A-Za-z][\w \-/.]*?)\s*(?::|\s-\s|=)\s*(.*)$", ln)
        if m:
            key = re.sub(r"[^a-z0-9]+", "_", m.group(1).lower()).strip("_")
            out[key] = m.group(2).strip()
    if not out:
        raise ParseFailed("no 'key: value' lines")
    return [out]


def parse_ios_memory(text: str) -> list[Record]:
    """``show processes memory``: the processor pool line."""
    m = re.search(r"Processor Pool Total:\s*(\d+)\s+Used:\s*(\d+)\s+Free:\s*(\d+)", text)
    if not m:
        raise ParseFailed("no 'Processor Pool Total' line")
    return [{"total": int(m.group(1)), "used": int(m.group(2)), "free": int(m.group(3))}]


_IP = r"\d{1,3}(?:\.\d{1,3}){3}"


def parse_ios_dhcp_binding(text: str) -> list[Record]:
    """``show ip dhcp binding``: one record per lease (dates with spaces are fine)."""
    if "IP address" not in text:
        raise ParseFailed("no binding table header")
    out: list[Record] = []
    for ln in _lines(text):
        m = re.match(rf"^({_IP})\s+(\S+)\s+(.+?)\s+(Automatic|Manual|Infinite|Selecting)\s*$", ln)
        if m:
            out.append({"ip_address": m.group(1), "hardware_address": m.group(2)})
    return out


def parse_linux_uptime(text: str) -> list[Record]:
    """``cat /proc/uptime``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s+\d+(?:\.\d+)?\s*", text)
    if not m:
        raise ParseFailed("expected '/proc/uptime' (two numbers)")
    return [{"uptime_s": float(m.group(1))}]


def parse_linux_loadavg(text: str) -> list[Record]:
    """``cat /proc/loadavg; nproc``: the 1-minute load and the CPU count."""
    lines = _lines(text)
    if len(lines) != 2:
        raise ParseFailed("expected the loadavg line and the CPU count")
    m = re.match(r"^(\d+(?:\.\d+)?)\s+\d", lines[0])
    if not m or not lines[1].isdigit() or int(lines[1]) < 1:
        raise ParseFailed("unreadable loadavg/nproc output")
    return [{"load1": float(m.group(1)), "cpus": int(lines[1])}]


def parse_linux_meminfo(text: str) -> list[Record]:
    """``cat /proc/meminfo``: MemTotal and MemAvailable in kB."""
    vals = dict(re.findall(r"^(\w+):\s+(\d+)", text, re.M))
    if "MemTotal" not in vals or "MemAvailable" not in vals:
        raise ParseFailed("no MemTotal/MemAvailable")
    return [{"total": int(vals["MemTotal"]), "free": int(vals["MemAvailable"])}]


def parse_port_status(text: str) -> list[Record]:
    """A fixed-width port table (TP-Link ``show interface status``, EdgeSwitch ``show
    interfaces status all``): the link column is the header's ``State``, else ``Status``."""
    lines = text.replace("\r\n", "\n").split("\n")
    at = col = None
    for i, ln in enumerate(lines):
        if re.match(r"^Port\s", ln):
            m = re.search(r"\bState\b", ln) or re.search(r"\bStatus\b", ln)
            if m:
                at, col = i, m.start()
                break
    if at is None or col is None:
        raise ParseFailed("no port table header")
    out: list[Record] = []
    for ln in lines[at + 1 :]:
        if not ln.strip() or set(ln.strip()) <= {"-", " "}:
            continue
        port = ln.split()[0]
        cell = ln[col:].split()
        state = cell[0].lower().removeprefix("link") if cell else ""
        if state in ("up", "down"):
            out.append({"port": port, "status": state})
    if not out:
        raise ParseFailed("no port rows")
    return out


def parse_cpu_five(text: str) -> list[Record]:
    """``five seconds: 5%; one minute: 3%; five minutes: 3%`` (Cisco Sx300/CBS)."""
    m = re.search(
        r"five seconds:\s*(\d+)%.*?one minute:\s*(\d+)%.*?five minutes:\s*(\d+)%", text, re.S
    )
    if not m:
        raise ParseFailed("no 'five seconds/one minute/five minutes' line")
    return [{"cpu_usage_5_sec": m.group(1), "cpu_usage_1_min": m.group(2)}]


def _bar_rows(text: str) -> list[list[str]]:
    return [
        [c.strip() for c in ln.split("|")]
        for ln in text.splitlines()
        if "|" in ln and re.match(r"^\s*\d+\s*\|", ln)
    ]


def parse_jetstream_cpu(text: str) -> list[Record]:
    """TP-Link ``show cpu-utilization``: ``Unit | 5s | 1min | 5min`` rows, first unit."""
    rows = [r for r in _bar_rows(text) if len(r) >= 3 and all(c.endswith("%") for c in r[1:])]
    if not rows:
        raise ParseFailed("no CPU utilization rows")
    return [{"cpu_usage_5_sec": rows[0][1], "cpu_usage_1_min": rows[0][2]}]


def parse_jetstream_memory(text: str) -> list[Record]:
    """TP-Link ``show memory-utilization``: ``Unit | Current Memory Utilization`` rows."""
    rows = [r for r in _bar_rows(text) if len(r) >= 2 and r[1].endswith("%")]
    if not rows:
        raise ParseFailed("no memory utilization rows")
    return [{"total": 100, "used": float(rows[0][1].rstrip("%"))}]


def parse_fastpath_cpu(text: str) -> list[Record]:
    """EdgeSwitch/FASTPATH ``show process cpu``: the ``Total CPU Utilization`` line (5 s,
    60 s, 300 s) and the free/alloc memory report."""
    m = re.search(r"Total CPU Utilization\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%", text)
    if not m:
        raise ParseFailed("no 'Total CPU Utilization' line")
    rec: Record = {"cpu_usage_5_sec": m.group(1), "cpu_usage_1_min": m.group(2)}
    free = re.search(r"^\s*free\s+(\d+)\s*$", text, re.M)
    alloc = re.search(r"^\s*alloc\s+(\d+)\s*$", text, re.M)
    if free and alloc:
        rec["free"], rec["used"] = int(free.group(1)), int(alloc.group(1))
        rec["total"] = rec["free"] + rec["used"]
    return [rec]


PARSERS: dict[str, Callable[[str], list[Record]]] = {
    "count": parse_count,
    "integer": parse_integer,
    "text": parse_text,
    "kv": parse_kv,
    "ios_memory": parse_ios_memory,
    "ios_dhcp_binding": parse_ios_dhcp_binding,
    "linux_uptime": parse_linux_uptime,
    "linux_loadavg": parse_linux_loadavg,
    "linux_meminfo": parse_linux_meminfo,
    "port_status": parse_port_status,
    "cpu_five": parse_cpu_five,
    "jetstream_cpu": parse_jetstream_cpu,
    "jetstream_memory": parse_jetstream_memory,
    "fastpath_cpu": parse_fastpath_cpu,
}


def parse(parser: str, device_type: str, command: str, text: str) -> list[Record]:
    """Run the named parser; raises ParseFailed for unreadable output."""
    if parser == "ntc":
        return parse_ntc(device_type, command, text)
    fn = PARSERS.get(parser)
    if fn is None:
        raise ParseFailed(f"unknown parser '{parser}'")
    return fn(text)


# -- value helpers -------------------------------------------------------------------------
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> float:
    """``96.5MiB``, ``1184.0KiB``, ``512 kB`` → bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.I)
    if not m:
        raise ParseFailed(f"not a size: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


_DUR = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_WORDS = {
    "year": 31536000,
    "week": 604800,
    "day": 86400,
    "hour": 3600,
    "minute": 60,
    "second": 1,
    "min": 60,
    "sec": 1,
}


def parse_uptime(text: str) -> int:
    """``1w2d3h4m5s`` (RouterOS), ``3 weeks, 2 days, 4 hours`` (IOS), ``12:03:04`` or
    ``12,04:33:51`` (Sx300 days,h:m:s) → s."""
    t = text.strip().lower()
    if re.fullmatch(r"(\d+[wdhms])+", t):
        return sum(int(n) * _DUR[u] for n, u in re.findall(r"(\d+)([wdhms])", t))
    words = re.findall(r"(\d+)\s*(year|week|day|hour|minute|second|min|sec)s?\b", t)
    if words:
        return sum(int(n) * _WORDS[u] for n, u in words)
    m = re.fullmatch(r"(?:(\d+)(?:d\s*|,))?(\d+):(\d{2}):(\d{2})", t)
    if m:
        d, h, mi, s = (int(x or 0) for x in m.groups())
        return d * 86400 + h * 3600 + mi * 60 + s
    raise ParseFailed(f"not an uptime: {text!r}")


def _first(rec: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = rec.get(k)
        if isinstance(v, list):
            v = v[0] if v else None
        if v not in (None, ""):
            return v
    return None


def _pct(used: float, total: float) -> float:
    if total <= 0:
        raise ParseFailed("total is zero")
    return round(100.0 * used / total, 1)


# -- records → metrics ---------------------------------------------------------------------
def _version(recs: list[Record]) -> dict[str, Any]:
    r = recs[0]
    out: dict[str, Any] = {}
    version = _first(r, "version", "software_version", "sw_version", "firmware_version", "value")
    if version is None:
        raise ParseFailed("no version field")
    out["version"] = str(version)
    model = _first(
        r, "hardware", "board_name", "model", "switch_model", "machine_type", "hardware_version"
    )
    if model is not None:
        out["model"] = str(model)
    if (up := _uptime_of(r)) is not None:
        out["uptime_s"] = up
    return out


def _uptime_of(r: Record) -> int | None:
    if "uptime_s" in r:
        return int(float(r["uptime_s"]))
    up = _first(r, "uptime", "running_time", "system_up_time", "up_time")
    if up is None:
        return None
    return parse_uptime(str(up))


def _uptime(recs: list[Record]) -> dict[str, Any]:
    up = _uptime_of(recs[0])
    if up is None:
        raise ParseFailed("no uptime field")
    return {"uptime_s": up}


def _cpu(recs: list[Record]) -> dict[str, Any]:
    r = recs[0]
    if "load1" in r:
        return {"cpu_pct": min(100.0, round(100.0 * float(r["load1"]) / int(r["cpus"]), 1))}
    v = _first(r, "cpu_usage_1_min", "cpu_usage_5_sec", "cpu_load")
    if v is None:
        raise ParseFailed("no CPU load field")
    out: dict[str, Any] = {"cpu_pct": float(str(v).rstrip("%"))}
    if "total" in r and "used" in r:  # reports that give memory with the CPU (FASTPATH)
        out["mem_pct"] = _pct(float(r["used"]), float(r["total"]))
    return out


def _memory(recs: list[Record]) -> dict[str, Any]:
    r = recs[0]
    if "total" in r:
        used = r.get("used", float(r["total"]) - float(r.get("free", 0)))
        return {"mem_pct": _pct(float(used), float(r["total"]))}
    total, free = _first(r, "total_memory"), _first(r, "free_memory")
    if total is None or free is None:
        raise ParseFailed("no memory fields")
    t, f = parse_size(str(total)), parse_size(str(free))
    return {"mem_pct": _pct(t - f, t)}


def _resource(recs: list[Record]) -> dict[str, Any]:
    out = _version(recs)
    out.update(_cpu(recs))
    out.update(_memory(recs))
    return out


_IF_DOWN = {"notconnect", "down", "err-disabled", "lowerlayerdown"}
_IF_OFF = {"disabled", "x", "inactive", "administratively down"}


def _interfaces(recs: list[Record]) -> dict[str, Any]:
    up, down = 0, []
    for r in recs:
        name = _first(r, "port", "name", "interface", "intf")
        if name is None:
            continue
        if "flags" in r and "state" in r:  # linux ip link
            flags = str(r["flags"]).split(",")
            if "LOOPBACK" in flags:
                continue
            if "UP" not in flags:
                state = "disabled"
            elif r["state"] == "DOWN" or "NO-CARRIER" in flags:
                state = "down"
            else:
                state = "up"
        else:
            state = str(_first(r, "status", "link_status", "linkstate") or "").lower()
        if state in ("connected", "up", "r", "running"):
            up += 1
        elif state in _IF_OFF:
            continue
        elif state in _IF_DOWN or state == "":
            down.append(str(name))
    if up == 0 and not down:
        raise ParseFailed("no interfaces found")
    return {"if_up": up, "if_down": down}


def _leases(recs: list[Record]) -> dict[str, Any]:
    bound = [r for r in recs if str(r.get("status", "bound")).lower() in ("bound", "")]
    return {"dhcp_leases": len(bound)}


def _clients(recs: list[Record]) -> dict[str, Any]:
    if len(recs) == 1 and "value" in recs[0]:
        return {"clients": int(recs[0]["value"])}
    return {"clients": len(recs)}


def _text(recs: list[Record]) -> dict[str, Any]:
    return {}


READERS: dict[str, Callable[[list[Record]], dict[str, Any]]] = {
    "version": _version,
    "uptime": _uptime,
    "resource": _resource,
    "cpu": _cpu,
    "memory": _memory,
    "interfaces": _interfaces,
    "dhcp_leases": _leases,
    "wifi_clients": _clients,
    "text": _text,
}


def read_metrics(reads: str, records: list[Record]) -> dict[str, Any]:
    """Metrics from parsed records; raises ParseFailed when expected fields are missing."""
    fn = READERS.get(reads)
    if fn is None:
        raise ParseFailed(f"unknown reads '{reads}'")
    if not records and reads not in ("dhcp_leases", "wifi_clients"):
        raise ParseFailed("no records")
    try:
        return fn(records)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ParseFailed):
            raise
        raise ParseFailed(f"unexpected values: {exc}") from exc


def interpret(parser: str, reads: str, device_type: str, command: str, text: str) -> dict[str, Any]:
    """Parse ``text`` and turn it into metrics in one step."""
    return read_metrics(reads, parse(parser, device_type, command, text))
