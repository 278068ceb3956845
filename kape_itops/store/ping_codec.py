"""Lossless conversion between raw ping results and the compact ``ping_results`` rows.

A result is stored compactly only when every field comes back identical: a known status and
method, metrics that are exactly the ping probe's keys with ints for the counts and floats of at
most three decimals for the rest, a device, and a time representable in microseconds. Anything
else (``tcp_ports`` of the TCP fallback, foreign keys, …) stays in ``probe_results``.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from kape_itops.domain import ping as ping_text

STATUSES = ("ok", "warn", "crit", "unknown")
METHODS = ("icmp-raw", "icmp-dgram", "tcp-connect", "icmp")
INT_KEYS = ("sent", "received")
MILLI_KEYS = ("loss_pct", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_stddev_ms", "jitter_ms")
MILLI_COLUMNS = ("loss_pct", "rtt_min", "rtt_avg", "rtt_max", "rtt_stddev", "jitter")
KEYS = INT_KEYS + MILLI_KEYS
ALL_KEYS = (1 << len(KEYS)) - 1
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LIMIT = 2**31


def to_us(t: dt.datetime) -> int:
    """Unix microseconds of an aware datetime (exact)."""
    delta = t.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> dt.datetime:
    """The aware UTC datetime of Unix microseconds (exact)."""
    return _EPOCH + dt.timedelta(microseconds=us)


def rebuilt_reason(status: str, metrics: Mapping[str, Any]) -> str | None:
    """The reason the ping probe writes for an ok or down result, or None."""
    sent, received = metrics.get("sent"), metrics.get("received")
    if not isinstance(sent, int) or not isinstance(received, int):
        return None
    if status == "crit" and received == 0:
        return ping_text.down(sent)
    loss = metrics.get("loss_pct")
    if status != "ok" or not isinstance(loss, float):
        return None
    avg, jitter = metrics.get("rtt_avg_ms"), metrics.get("jitter_ms")
    return ping_text.summary(sent, received, loss, avg or 0, jitter or 0)


@functools.lru_cache(maxsize=4096)  # the same targets every round: parse each once
def _ipv4(text: str) -> int | None:
    try:
        addr = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    return int(addr) if str(addr) == text else None


def _milli(value: Any) -> tuple[bool, int | None]:
    if value is None:
        return True, None
    if not isinstance(value, float):
        return False, None
    try:
        n = round(value * 1000)
    except (OverflowError, ValueError):
        return False, None
    return (abs(n) < _LIMIT and n / 1000 == value), n


def encode(row: Mapping[str, Any], tag: str | None) -> dict[str, Any] | None:
    """The ``ping_results`` columns of a raw result column dict, or None if not lossless.

    ``row`` has the ``probe_results`` columns; ``tag`` is the device's asset tag.
    """
    status, method, metrics = row["status"], row.get("method"), row["metrics"]
    started, duration = row["started_at"], row["duration_ms"]
    if (
        row["probe"] != "ping"
        or row.get("device_id") is None
        or status not in STATUSES
        or (method is not None and method not in METHODS)
        or not isinstance(metrics, Mapping)
        or not set(metrics) <= set(KEYS)
        or not isinstance(started, dt.datetime)
        or started.tzinfo is None
        or not isinstance(duration, float)
        or not isinstance(row.get("attempts", 1), int)
    ):
        return None
    out: dict[str, Any] = {}
    mask = 0
    for i, key in enumerate(KEYS):
        if key in metrics:
            mask |= 1 << i
    for key in INT_KEYS:
        value = metrics.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or abs(value) >= _LIMIT
        ):
            return None
        out[key] = value
    for key, col in zip(MILLI_KEYS, MILLI_COLUMNS, strict=True):
        ok, n = _milli(metrics.get(key))
        if not ok:
            return None
        out[col] = n
    reason = row["reason"]
    target = row["target"]
    addr = None if target == tag else _ipv4(target)
    out.update(
        started_us=to_us(started),
        device_id=row["device_id"],
        run_id=row["run_id"],
        status=STATUSES.index(status),
        method=METHODS.index(method) if method is not None else None,
        target=None if (tag is not None and target == tag) or addr is not None else target,
        target_ip=addr,
        reason=None if reason == rebuilt_reason(status, metrics) else reason,
        keys=None if mask == ALL_KEYS else mask,
        duration_ms=duration,
        attempts=row.get("attempts", 1),
    )
    return out


def decode(row: Mapping[Any, Any], tag: str | None) -> dict[str, Any]:
    """The ``probe_results`` column values (without ids) of a ``ping_results`` row."""
    mask = ALL_KEYS if row["keys"] is None else row["keys"]
    values: dict[str, Any] = {k: row[k] for k in INT_KEYS}
    for key, col in zip(MILLI_KEYS, MILLI_COLUMNS, strict=True):
        n = row[col]
        values[key] = None if n is None else n / 1000
    metrics = {k: values[k] for i, k in enumerate(KEYS) if mask & (1 << i)}
    status = STATUSES[row["status"]]
    reason = row["reason"]
    if reason is None:
        reason = rebuilt_reason(status, metrics) or ""
    method = row["method"]
    target = row["target"]
    if row["target_ip"] is not None:
        target = str(ipaddress.IPv4Address(row["target_ip"]))
    return {
        "probe": "ping",
        "device_id": row["device_id"],
        "run_id": row["run_id"],
        "target": target if target is not None else (tag or ""),
        "status": status,
        "reason": reason,
        "method": METHODS[method] if method is not None else None,
        "metrics": metrics,
        "started_at": from_us(row["started_us"]),
        "duration_ms": row["duration_ms"],
        "attempts": row["attempts"],
    }


def split(
    rows: Sequence[dict[str, Any]], tags: Sequence[str | None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows for ``probe_results``, rows for ``ping_results``) of raw result column dicts.

    A second result with the key (time, device, run) of one already packed stays plain.
    """
    plain: list[dict[str, Any]] = []
    compact: list[dict[str, Any]] = []
    seen: set[tuple[int, int, int]] = set()
    for row, tag in zip(rows, tags, strict=True):
        packed = encode(row, tag)
        if packed is not None:
            key = (packed["started_us"], packed["device_id"], packed["run_id"])
            if key not in seen:
                seen.add(key)
                compact.append(packed)
                continue
        plain.append(row)
    return plain, compact


def encode_wire(
    tag: str | None,
    device: int | None,
    target: str,
    probe: str,
    status: str,
    reason: str,
    method: str | None,
    metrics: Any,
    started_us: int,
    duration: float,
    attempts: int,
) -> tuple[Any, ...] | None:
    """:func:`encode` of one result given as wire values (``duration`` a float), as a tuple in
    :data:`COMPACT_COLUMNS` order without ``run_id``; None when it is not lossless."""
    if (
        probe != "ping"
        or device is None
        or status not in STATUSES
        or (method is not None and method not in METHODS)
        or not isinstance(metrics, Mapping)
        or not _KEY_SET.issuperset(metrics)
        or not isinstance(attempts, int)
    ):
        return None
    if len(metrics) == len(KEYS):
        mask = ALL_KEYS
    else:
        mask = 0
        for i, key in enumerate(KEYS):
            if key in metrics:
                mask |= 1 << i
    sent, received = metrics.get("sent"), metrics.get("received")
    for value in (sent, received):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or abs(value) >= _LIMIT
        ):
            return None
    milli: list[int | None] = []
    for key in MILLI_KEYS:  # _milli, inline: six per result
        value = metrics.get(key)
        if value is None:
            milli.append(None)
            continue
        if not isinstance(value, float):
            return None
        try:
            n = round(value * 1000)
        except (OverflowError, ValueError):
            return None
        if not (abs(n) < _LIMIT and n / 1000 == value):
            return None
        milli.append(n)
    addr = None if target == tag else _ipv4(target)
    return (
        device,
        started_us,
        STATUSES.index(status),
        METHODS.index(method) if method is not None else None,
        None if (tag is not None and target == tag) or addr is not None else target,
        addr,
        None if reason == rebuilt_reason(status, metrics) else reason,
        None if mask == ALL_KEYS else mask,
        sent,
        received,
        *milli,
        duration,
        attempts,
    )


COMPACT_COLUMNS = (
    "run_id",
    "device_id",
    "started_us",
    "status",
    "method",
    "target",
    "target_ip",
    "reason",
    "keys",
    "sent",
    "received",
    *MILLI_COLUMNS,
    "duration_ms",
    "attempts",
)
"""The ``ping_results`` columns in the order of :func:`encode_wire` (after ``run_id``)."""
_KEY_SET = frozenset(KEYS)
