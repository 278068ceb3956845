"""Decode and validate what sites send: batches, hello and join payloads (pure, no I/O).

Every violation raises :class:`~kape_itops.errors.PayloadError` naming the item index and the
field, before anything is written. Item shapes (all times ISO-8601 with an offset)::

    changes: {"id","at","actor","entity","key","action","field","old","new","source",
              "source_sha256"}                       (a change-log row as the site has it)
    runs:    {"id","started_at","finished_at","status","actor","selection","counts","note",
              "results": {"tag","target","probe","status","reason","method","metrics",
                          "at" (Unix seconds),"duration_ms","attempts"}}   (equal-length lists)
    sweeps:  {"id","started_at","duration_s","method","interface","subnets","actor","counts",
              "school","hosts": [{"ip","mac","vendor","asset_tag","state","detail"}]}
    backups: {"id","tag","taken_at","sha256","changed","content","run"}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kape_itops.domain.discovery import HostState
from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.sync import FORMAT, STREAMS, Conflict
from kape_itops.errors import PayloadError
from kape_itops.limits import Limits, shown

MAX_ID = 2**63 - 1
TEXT_CHARS = 100_000
"""Longest free text (change values, notes, backup content is :data:`CONTENT_CHARS`)."""
CONTENT_CHARS = 4_000_000
REASON_CHARS = 10_000
JSON_DEPTH = 20
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
_EARLIEST_S, _LATEST_S = EARLIEST.timestamp(), LATEST.timestamp()
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_RESULT_COLUMNS = (
    "tag",
    "target",
    "probe",
    "status",
    "reason",
    "method",
    "metrics",
    "at",
    "duration_ms",
    "attempts",
)
_PROBE_STATUSES = frozenset(s.value for s in ProbeStatus)
_RUN_STATUSES = frozenset(s.value for s in RunStatus) - {RunStatus.RUNNING.value}
_HOST_STATES = frozenset(s.value for s in HostState)


@dataclass(frozen=True, slots=True)
class Batch:
    """A validated batch; ``items`` are the stream's item dicts with times parsed."""

    site: str
    school: str
    sent_at: dt.datetime
    version: str
    backlog: int
    stream: str
    items: list[dict[str, Any]]
    last: int

    @property
    def results(self) -> int:
        """How many probe results the batch carries (runs only)."""
        return sum(len(i["results"]["at"]) for i in self.items) if self.stream == "runs" else 0


@dataclass(frozen=True, slots=True)
class HelloIn:
    """A validated hello: who the site says it is, its clock and its backlog."""

    site: str
    school: str
    sent_at: dt.datetime
    version: str
    backlog: int


@dataclass(frozen=True, slots=True)
class JoinIn:
    """A validated join request."""

    token: str
    public_key: str
    name: str
    version: str


class _At:
    """Where in the payload a check is: builds the PayloadError message."""

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, why: str) -> PayloadError:
        return PayloadError(f"{self.where}field '{field}': {why}")


def _get(d: dict[str, Any], name: str, at: _At) -> Any:
    if name not in d:
        raise at.fail(name, "missing")
    return d[name]


def _int(v: Any, name: str, at: _At, lo: int = 0, hi: int = MAX_ID) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise at.fail(name, f"expected a whole number, got {type(v).__name__}")
    if not lo <= v <= hi:
        raise at.fail(name, f"{v} is outside {lo}..{hi}")
    return v


def _num(v: Any, name: str, at: _At, lo: float = 0.0, hi: float = 1e12) -> float:
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise at.fail(name, f"expected a number, got {type(v).__name__}")
    f = float(v)
    if not math.isfinite(f) or not lo <= f <= hi:
        raise at.fail(name, f"{shown(v)} is not a number in {lo:g}..{hi:g}")
    return f


def _str(v: Any, name: str, at: _At, size: int, null: bool = False, empty: bool = True) -> Any:
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


def _one_of(v: Any, name: str, at: _At, allowed: frozenset[str] | tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in allowed:  # str first: a list is not hashable
        raise at.fail(name, f"{shown(v)} is not one of {', '.join(sorted(allowed))}")
    return v


def parse_time(v: Any, name: str, at: _At, null: bool = False) -> dt.datetime | None:
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


def _time(v: Any, name: str, at: _At) -> dt.datetime:
    t = parse_time(v, name, at)
    assert t is not None
    return t


def _json(v: Any, name: str, at: _At, null: bool = False) -> Any:
    """A JSON object of bounded depth and string sizes."""
    if v is None and null:
        return None
    if not isinstance(v, dict):
        raise at.fail(name, f"expected an object, got {type(v).__name__}")
    _walk(v, name, at, 0)
    return v


def _walk(v: Any, name: str, at: _At, depth: int) -> None:
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


def _obj(v: Any, name: str, at: _At) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise at.fail(name, f"expected an object, got {type(v).__name__}")
    return v


def loads(data: bytes | str | dict[str, Any], limits: Limits, what: str = "batch") -> Any:
    """The JSON document of ``data`` (bytes at most ``max_sync_mb``), else PayloadError."""
    if isinstance(data, dict):
        return data
    if len(data) > limits.max_sync_mb * 1024 * 1024:
        env = Limits.env_name("max_sync_mb")
        raise PayloadError(f"{what} of {len(data):,} bytes is too large (raise {env})")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"{what} is not valid JSON: {str(exc)[:100]}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _head(doc: Any, site: str, school: str, what: str) -> tuple[_At, dict[str, Any]]:
    at = _At(f"{what}: ")
    d = _obj(doc, what, at)
    if _get(d, "format", at) != FORMAT:
        raise at.fail("format", f"{shown(d['format'])} is not {FORMAT}")
    if _get(d, "site", at) != site:
        raise at.fail("site", f"{shown(d['site'])} is not the authenticated site {site}")
    if _get(d, "school", at) != school:
        raise at.fail("school", f"{shown(d['school'])} is not this site's school {school}")
    return at, d


def decode_hello(data: bytes | dict[str, Any], site: str, school: str, limits: Limits) -> HelloIn:
    """A validated hello payload of site ``site`` enrolled for ``school``."""
    at, d = _head(loads(data, limits, "hello"), site, school, "hello")
    return HelloIn(
        site=site,
        school=school,
        sent_at=_time(_get(d, "sent_at", at), "sent_at", at),
        version=_str(_get(d, "version", at), "version", at, 32),
        backlog=_int(_get(d, "backlog", at), "backlog", at),
    )


def decode_join(data: bytes | dict[str, Any], limits: Limits) -> JoinIn:
    """A validated join request."""
    at = _At("join: ")
    d = _obj(loads(data, limits, "join"), "join", at)
    key = _str(_get(d, "public_key", at), "public_key", at, 64)
    if not _HEX64.match(key):
        raise at.fail("public_key", "expected 64 lower-case hex digits (an Ed25519 key)")
    return JoinIn(
        token=_str(_get(d, "token", at), "token", at, 200, empty=False),
        public_key=key,
        name=_str(_get(d, "name", at), "name", at, 100),
        version=_str(_get(d, "version", at), "version", at, 32),
    )


def decode_batch(
    data: bytes | dict[str, Any], site: str, school: str, limits: Limits | None = None
) -> Batch:
    """A validated batch of site ``site`` enrolled for ``school``; PayloadError otherwise."""
    limits = limits or Limits.from_env()
    at, d = _head(loads(data, limits), site, school, "batch")
    stream = _one_of(_get(d, "stream", at), "stream", at, STREAMS)
    items = _get(d, "items", at)
    if not isinstance(items, list):
        raise at.fail("items", f"expected a list, got {type(items).__name__}")
    if len(items) > limits.max_sync_items:
        env = Limits.env_name("max_sync_items")
        raise at.fail("items", f"{len(items):,} items (at most {limits.max_sync_items:,}; {env})")
    check = _ITEMS[stream]
    out: list[dict[str, Any]] = []
    results = 0
    prev = 0
    for i, raw in enumerate(items):
        iat = _At(f"batch item {i}: ")
        item = check(_obj(raw, "item", iat), iat)
        if item["id"] <= prev:
            raise iat.fail("id", f"{item['id']} is not above the previous item's {prev}")
        prev = item["id"]
        if stream == "runs":
            results += len(item["results"]["at"])
            if results > limits.max_sync_results:
                env = Limits.env_name("max_sync_results")
                raise iat.fail("results", f"more than {limits.max_sync_results:,} results ({env})")
        out.append(item)
    last = _int(_get(d, "last", at), "last", at)
    if last < prev:
        raise at.fail("last", f"{last} is below the last item's id {prev}")
    return Batch(
        site=site,
        school=school,
        sent_at=_time(_get(d, "sent_at", at), "sent_at", at),
        version=_str(_get(d, "version", at), "version", at, 32),
        backlog=_int(_get(d, "backlog", at), "backlog", at),
        stream=stream,
        items=out,
        last=last,
    )


def _change(d: dict[str, Any], at: _At) -> dict[str, Any]:
    sha = _str(_get(d, "source_sha256", at), "source_sha256", at, 64, null=True)
    if sha is not None and not _HEX64.match(sha):
        raise at.fail("source_sha256", "expected 64 lower-case hex digits")
    return {
        "id": _int(_get(d, "id", at), "id", at, 1),
        "at": _time(_get(d, "at", at), "at", at),
        "actor": _str(_get(d, "actor", at), "actor", at, 100),
        "entity": _one_of(_get(d, "entity", at), "entity", at, ("device", "school", "room")),
        "key": _str(_get(d, "key", at), "key", at, 100, empty=False),
        "action": _one_of(
            _get(d, "action", at), "action", at, ("create", "update", "rename", "retire")
        ),
        "field": _str(_get(d, "field", at), "field", at, 64, null=True),
        "old": _str(_get(d, "old", at), "old", at, TEXT_CHARS, null=True),
        "new": _str(_get(d, "new", at), "new", at, TEXT_CHARS, null=True),
        "source": _str(_get(d, "source", at), "source", at, 300),
        "source_sha256": sha,
    }


def _column(
    r: dict[str, Any],
    name: str,
    n: int,
    at: _At,
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
        _walk(v, "metrics", _At(""), 1)
    except PayloadError:
        return False
    return True


def _results(r: Any, at: _At) -> dict[str, list[Any]]:
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
    if set(r) - set(_RESULT_COLUMNS):
        raise at.fail("results", f"unknown columns {sorted(set(r) - set(_RESULT_COLUMNS))[:5]}")
    return cols


def _run(d: dict[str, Any], at: _At) -> dict[str, Any]:
    started = _time(_get(d, "started_at", at), "started_at", at)
    finished = _time(_get(d, "finished_at", at), "finished_at", at)
    return {
        "id": _int(_get(d, "id", at), "id", at, 1),
        "started_at": started,
        "finished_at": finished,
        "status": _one_of(_get(d, "status", at), "status", at, _RUN_STATUSES),
        "actor": _str(_get(d, "actor", at), "actor", at, 100),
        "selection": _json(_get(d, "selection", at), "selection", at),
        "counts": _json(_get(d, "counts", at), "counts", at, null=True),
        "note": _str(_get(d, "note", at), "note", at, TEXT_CHARS, null=True),
        "results": _results(_get(d, "results", at), at),
    }


def _host(h: Any, j: int, at: _At) -> dict[str, Any]:
    hat = _At(f"{at.where}hosts[{j}] ")
    h = _obj(h, "host", hat)
    return {
        "ip": _str(_get(h, "ip", hat), "ip", hat, 45, empty=False),
        "mac": _str(_get(h, "mac", hat), "mac", hat, 17, null=True),
        "vendor": _str(_get(h, "vendor", hat), "vendor", hat, 100, null=True),
        "asset_tag": _str(_get(h, "asset_tag", hat), "asset_tag", hat, 64, null=True),
        "state": _one_of(_get(h, "state", hat), "state", hat, _HOST_STATES),
        "detail": _str(_get(h, "detail", hat), "detail", hat, REASON_CHARS, null=True),
    }


def _sweep(d: dict[str, Any], at: _At) -> dict[str, Any]:
    subnets = _get(d, "subnets", at)
    if not isinstance(subnets, list) or len(subnets) > 256:
        raise at.fail("subnets", "expected a list of at most 256 subnets")
    for s in subnets:
        _str(s, "subnets", at, 49)
    hosts = _get(d, "hosts", at)
    if not isinstance(hosts, list) or len(hosts) > 70_000:
        raise at.fail("hosts", "expected a list of at most 70,000 hosts")
    return {
        "id": _int(_get(d, "id", at), "id", at, 1),
        "started_at": _time(_get(d, "started_at", at), "started_at", at),
        "duration_s": _num(_get(d, "duration_s", at), "duration_s", at, 0, 1e7),
        "method": _str(_get(d, "method", at), "method", at, 16),
        "interface": _str(_get(d, "interface", at), "interface", at, 64, null=True),
        "subnets": subnets,
        "actor": _str(_get(d, "actor", at), "actor", at, 100),
        "counts": _json(_get(d, "counts", at), "counts", at),
        "school": _str(_get(d, "school", at), "school", at, 32, empty=False),
        "hosts": [_host(h, j, at) for j, h in enumerate(hosts)],
    }


def _backup(d: dict[str, Any], at: _At) -> dict[str, Any]:
    sha = _str(_get(d, "sha256", at), "sha256", at, 64)
    if not _HEX64.match(sha):
        raise at.fail("sha256", "expected 64 lower-case hex digits")
    changed = _get(d, "changed", at)
    if not isinstance(changed, bool):
        raise at.fail("changed", f"expected true or false, got {shown(changed)}")
    run = _get(d, "run", at)
    return {
        "id": _int(_get(d, "id", at), "id", at, 1),
        "tag": _str(_get(d, "tag", at), "tag", at, 64, empty=False),
        "taken_at": _time(_get(d, "taken_at", at), "taken_at", at),
        "sha256": sha,
        "changed": changed,
        "content": _str(_get(d, "content", at), "content", at, CONTENT_CHARS, null=True),
        "run": None if run is None else _int(run, "run", at, 1),
    }


_ITEMS: dict[str, Callable[[dict[str, Any], _At], dict[str, Any]]] = {
    "changes": _change,
    "runs": _run,
    "sweeps": _sweep,
    "backups": _backup,
}


def jsonable(value: Any) -> Any:
    """Domain dataclasses (Ack, Hello, Conflict, ...), times and enums as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def conflict_json(c: Conflict) -> dict[str, Any]:
    """A conflict as the JSON an ack carries (ISO times)."""
    return dict(jsonable(c))


def conflict_from_json(d: dict[str, Any]) -> Conflict:
    """A conflict from an ack's JSON (the site's copy; the id is the server's)."""

    def t(v: Any) -> dt.datetime:
        return dt.datetime.fromisoformat(str(v)).astimezone(dt.UTC)

    return Conflict(
        entity=str(d["entity"]),
        key=str(d["key"]),
        field=str(d["field"]),
        kept=d.get("kept"),
        kept_at=t(d["kept_at"]),
        kept_by=str(d["kept_by"]),
        other=d.get("other"),
        other_at=t(d["other_at"]),
        other_by=str(d["other_by"]),
        site_uid=d.get("site_uid"),
        found_at=t(d["found_at"]) if d.get("found_at") else None,
    )
