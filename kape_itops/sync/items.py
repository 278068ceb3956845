"""The checks of every field of a sync batch's items, one function per stream (pure).

Each checker takes an item dict and its :class:`At` (where in the batch it is) and returns the
item with times parsed, or raises :class:`~kape_itops.errors.PayloadError` naming the item
index and the field. Sizes follow the database columns; free text, JSON depth and the times
(2000..2200) are bounded so a hostile batch cannot exhaust the server.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from kape_itops.domain.discovery import HostState
from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.sync import RESULT_COLUMNS
from kape_itops.errors import PayloadError
from kape_itops.limits import shown

MAX_ID = 2**63 - 1
TEXT_CHARS = 100_000
"""Longest free text (change values, notes, backup content is :data:`CONTENT_CHARS`)."""
CONTENT_CHARS = 4_000_000
REASON_CHARS = 10_000
JSON_DEPTH = 20
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
_EARLIEST_S, _LATEST_S = EARLIEST.timestamp(), LATEST.timestamp()
HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PROBE_STATUSES = frozenset(s.value for s in ProbeStatus)
_RUN_STATUSES = frozenset(s.value for s in RunStatus) - {RunStatus.RUNNING.value}
_HOST_STATES = frozenset(s.value for s in HostState)


class At:
    """Where in the payload a check is: builds the PayloadError message."""

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, why: str) -> PayloadError:
        return PayloadError(f"{self.where}field '{field}': {why}")


def need(d: dict[str, Any], name: str, at: At) -> Any:
    if name not in d:
        raise at.fail(name, "missing")
    return d[name]


def whole(v: Any, name: str, at: At, lo: int = 0, hi: int = MAX_ID) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise at.fail(name, f"expected a whole number, got {type(v).__name__}")
    if not lo <= v <= hi:
        raise at.fail(name, f"{v} is outside {lo}..{hi}")
    return v


def _num(v: Any, name: str, at: At, lo: float = 0.0, hi: float = 1e12) -> float:
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise at.fail(name, f"expected a number, got {type(v).__name__}")
    f = float(v)
    if not math.isfinite(f) or not lo <= f <= hi:
        raise at.fail(name, f"{shown(v)} is not a number in {lo:g}..{hi:g}")
    return f


def text(v: Any, name: str, at: At, size: int, null: bool = False, empty: bool = True) -> Any:
    if v is None and null:
        return None
    if not isinstance(v, str):
        raise at.fail(name, f"expected text, got {type(v).__name__}")
    if len(v) > size:
        raise at.fail(name, f"text of {len(v):,} characters (at most {size:,})")
    if not empty and not v:
        raise at.fail(name, "empty")
    if "\x00" in v:
        raise at.fail(name, "contains a NUL character")
    return v


def one_of(v: Any, name: str, at: At, allowed: frozenset[str] | tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in allowed:  # str first: a list is not hashable
        raise at.fail(name, f"{shown(v)} is not one of {', '.join(sorted(allowed))}")
    return v


def parse_time(v: Any, name: str, at: At, null: bool = False) -> dt.datetime | None:
    """An ISO-8601 time with an offset, between 2000 and 2200, as aware UTC."""
    if v is None and null:
        return None
    if not isinstance(v, str) or len(v) > 40:
        raise at.fail(name, f"expected an ISO-8601 time, got {shown(v)}")
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        raise at.fail(name, f"{shown(v)} is not an ISO-8601 time") from None
    if t.tzinfo is None:
        raise at.fail(name, f"{shown(v)} has no UTC offset")
    t = t.astimezone(dt.UTC)
    if not EARLIEST <= t < LATEST:
        raise at.fail(name, f"{shown(v)} is outside 2000..2200")
    return t


def time_of(v: Any, name: str, at: At) -> dt.datetime:
    t = parse_time(v, name, at)
    assert t is not None
    return t


def _json(v: Any, name: str, at: At, null: bool = False) -> Any:
    """A JSON object of bounded depth and string sizes."""
    if v is None and null:
        return None
    if not isinstance(v, dict):
        raise at.fail(name, f"expected an object, got {type(v).__name__}")
    _walk(v, name, at, 0)
    return v


def _walk(v: Any, name: str, at: At, depth: int) -> None:
    if depth > JSON_DEPTH:
        raise at.fail(name, f"nested deeper than {JSON_DEPTH}")
    if isinstance(v, str):
        if len(v) > REASON_CHARS or "\x00" in v:
            raise at.fail(name, f"a text of {len(v):,} characters or with a NUL character inside")
    elif isinstance(v, dict):
        for k, x in v.items():
            if len(k) > 200:
                raise at.fail(name, "a key longer than 200 characters")
            if isinstance(x, dict | list | str):
                _walk(x, name, at, depth + 1)
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict | list | str):
                _walk(x, name, at, depth + 1)


def obj(v: Any, name: str, at: At) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise at.fail(name, f"expected an object, got {type(v).__name__}")
    return v


def _change(d: dict[str, Any], at: At) -> dict[str, Any]:
    sha = text(need(d, "source_sha256", at), "source_sha256", at, 64, null=True)
    if sha is not None and not HEX64.match(sha):
        raise at.fail("source_sha256", "expected 64 lower-case hex digits")
    return {
        "id": whole(need(d, "id", at), "id", at, 1),
        "at": time_of(need(d, "at", at), "at", at),
        "actor": text(need(d, "actor", at), "actor", at, 100),
        "entity": one_of(need(d, "entity", at), "entity", at, ("device", "school", "room")),
        "key": text(need(d, "key", at), "key", at, 100, empty=False),
        "action": one_of(
            need(d, "action", at), "action", at, ("create", "update", "rename", "retire")
        ),
        "field": text(need(d, "field", at), "field", at, 64, null=True),
        "old": text(need(d, "old", at), "old", at, TEXT_CHARS, null=True),
        "new": text(need(d, "new", at), "new", at, TEXT_CHARS, null=True),
        "source": text(need(d, "source", at), "source", at, 300),
        "source_sha256": sha,
    }


def _column(
    r: dict[str, Any],
    name: str,
    n: int,
    at: At,
    check: Callable[[Any], bool],
    what: str,
    fast: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """One result column: ``fast`` checks the whole list at C speed; when it fails (or there
    is none), ``check`` runs value by value to name the offending index."""
    if name not in r:
        raise at.fail(f"results.{name}", "missing")
    col = r[name]
    if not isinstance(col, list) or len(col) != n:
        raise at.fail(f"results.{name}", f"expected a list of {n} values")
    if fast is not None and fast(col):
        return col
    for j, v in enumerate(col):
        if not check(v):
            raise at.fail(f"results.{name}[{j}]", f"{shown(v)} is not {what}")
    return col


def _text_ok(size: int, null: bool = False) -> Callable[[Any], bool]:
    return lambda v: (
        (null and v is None) or (isinstance(v, str) and len(v) <= size and "\x00" not in v)
    )


def _texts(size: int, null: bool = False) -> Callable[[list[Any]], bool]:
    def fast(col: list[Any]) -> bool:
        vals = [v for v in col if v is not None] if null else col
        if not set(map(type, vals)) <= {str}:
            return False
        return (not vals or max(map(len, vals)) <= size) and "\x00" not in "".join(vals)

    return fast


def _numbers(lo: float, hi: float, kinds: frozenset[type]) -> Callable[[list[Any]], bool]:
    def fast(col: list[Any]) -> bool:
        return not col or (set(map(type, col)) <= kinds and lo <= min(col) and max(col) < hi)

    return fast


def _in(allowed: frozenset[str]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in allowed


_NUMBER = frozenset({int, float})
_SCALARS = frozenset({int, float, bool, type(None)})


def _metrics_ok(v: Any) -> bool:
    if not isinstance(v, dict):
        return False
    if set(map(type, v.values())) <= _SCALARS and (not v or max(map(len, v)) <= 200):
        return True  # flat (every ping): nothing to walk
    try:
        _walk(v, "metrics", At(""), 1)
    except PayloadError:
        return False
    return True


def _results(r: Any, at: At) -> dict[str, list[Any]]:
    if not isinstance(r, dict):
        raise at.fail("results", f"expected an object of columns, got {type(r).__name__}")
    times = r.get("at")
    if not isinstance(times, list):
        raise at.fail("results.at", "expected a list")
    n = len(times)
    lo, hi = _EARLIEST_S, _LATEST_S
    cols = {
        "tag": _column(
            r, "tag", n, at, _text_ok(64, True), "an asset tag or null", _texts(64, True)
        ),
        "target": _column(r, "target", n, at, _text_ok(255), "a target", _texts(255)),
        "probe": _column(r, "probe", n, at, _text_ok(16), "a probe name", _texts(16)),
        "status": _column(
            r,
            "status",
            n,
            at,
            _in(_PROBE_STATUSES),
            "a probe status",
            lambda c: set(map(type, c)) <= {str} and set(c) <= _PROBE_STATUSES,
        ),
        "reason": _column(
            r, "reason", n, at, _text_ok(REASON_CHARS), "a reason text", _texts(REASON_CHARS)
        ),
        "method": _column(
            r, "method", n, at, _text_ok(64, True), "a method or null", _texts(64, True)
        ),
        "metrics": _column(r, "metrics", n, at, _metrics_ok, "a bounded metrics object"),
        "at": _column(
            r,
            "at",
            n,
            at,
            lambda v: type(v) in _NUMBER and lo <= v < hi,
            "Unix seconds in 2000..2200",
            _numbers(lo, hi, _NUMBER),
        ),
        "duration_ms": _column(
            r,
            "duration_ms",
            n,
            at,
            lambda v: type(v) in _NUMBER and 0 <= v < 1e9,
            "a duration in ms",
            _numbers(0, 1e9, _NUMBER),
        ),
        "attempts": _column(
            r,
            "attempts",
            n,
            at,
            lambda v: type(v) is int and 0 <= v < 1000,
            "a count of attempts",
            _numbers(0, 1000, frozenset({int})),
        ),
    }
    if set(r) - set(RESULT_COLUMNS):
        raise at.fail("results", f"unknown columns {sorted(set(r) - set(RESULT_COLUMNS))[:5]}")
    return cols


def _run(d: dict[str, Any], at: At) -> dict[str, Any]:
    started = time_of(need(d, "started_at", at), "started_at", at)
    finished = time_of(need(d, "finished_at", at), "finished_at", at)
    return {
        "id": whole(need(d, "id", at), "id", at, 1),
        "started_at": started,
        "finished_at": finished,
        "status": one_of(need(d, "status", at), "status", at, _RUN_STATUSES),
        "actor": text(need(d, "actor", at), "actor", at, 100),
        "selection": _json(need(d, "selection", at), "selection", at),
        "counts": _json(need(d, "counts", at), "counts", at, null=True),
        "note": text(need(d, "note", at), "note", at, TEXT_CHARS, null=True),
        "results": _results(need(d, "results", at), at),
    }


def _host(h: Any, j: int, at: At) -> dict[str, Any]:
    hat = At(f"{at.where}hosts[{j}] ")
    h = obj(h, "host", hat)
    return {
        "ip": text(need(h, "ip", hat), "ip", hat, 45, empty=False),
        "mac": text(need(h, "mac", hat), "mac", hat, 17, null=True),
        "vendor": text(need(h, "vendor", hat), "vendor", hat, 100, null=True),
        "asset_tag": text(need(h, "asset_tag", hat), "asset_tag", hat, 64, null=True),
        "state": one_of(need(h, "state", hat), "state", hat, _HOST_STATES),
        "detail": text(need(h, "detail", hat), "detail", hat, REASON_CHARS, null=True),
    }


def _sweep(d: dict[str, Any], at: At) -> dict[str, Any]:
    subnets = need(d, "subnets", at)
    if not isinstance(subnets, list) or len(subnets) > 256:
        raise at.fail("subnets", "expected a list of at most 256 subnets")
    for s in subnets:
        text(s, "subnets", at, 49)
    hosts = need(d, "hosts", at)
    if not isinstance(hosts, list) or len(hosts) > 70_000:
        raise at.fail("hosts", "expected a list of at most 70,000 hosts")
    return {
        "id": whole(need(d, "id", at), "id", at, 1),
        "started_at": time_of(need(d, "started_at", at), "started_at", at),
        "duration_s": _num(need(d, "duration_s", at), "duration_s", at, 0, 1e7),
        "method": text(need(d, "method", at), "method", at, 16),
        "interface": text(need(d, "interface", at), "interface", at, 64, null=True),
        "subnets": subnets,
        "actor": text(need(d, "actor", at), "actor", at, 100),
        "counts": _json(need(d, "counts", at), "counts", at),
        "school": text(need(d, "school", at), "school", at, 32, empty=False),
        "hosts": [_host(h, j, at) for j, h in enumerate(hosts)],
    }


def _backup(d: dict[str, Any], at: At) -> dict[str, Any]:
    sha = text(need(d, "sha256", at), "sha256", at, 64)
    if not HEX64.match(sha):
        raise at.fail("sha256", "expected 64 lower-case hex digits")
    changed = need(d, "changed", at)
    if not isinstance(changed, bool):
        raise at.fail("changed", f"expected true or false, got {shown(changed)}")
    run = need(d, "run", at)
    return {
        "id": whole(need(d, "id", at), "id", at, 1),
        "tag": text(need(d, "tag", at), "tag", at, 64, empty=False),
        "taken_at": time_of(need(d, "taken_at", at), "taken_at", at),
        "sha256": sha,
        "changed": changed,
        "content": text(need(d, "content", at), "content", at, CONTENT_CHARS, null=True),
        "run": None if run is None else whole(run, "run", at, 1),
    }


ITEMS: dict[str, Callable[[dict[str, Any], At], dict[str, Any]]] = {
    "changes": _change,
    "runs": _run,
    "sweeps": _sweep,
    "backups": _backup,
}
