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
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kape_itops.domain.sync import FORMAT, STREAMS, Ack, Conflict, Hello, JoinGrant
from kape_itops.errors import PayloadError
from kape_itops.limits import Limits, shown
from kape_itops.sync.items import (
    HEX64,
    ITEMS,
    At,
    need,
    obj,
    one_of,
    parse_time,
    text,
    time_of,
    whole,
)

__all__ = [
    "Batch",
    "HelloIn",
    "JoinIn",
    "ack_json",
    "conflict_from_json",
    "conflict_json",
    "decode_batch",
    "decode_hello",
    "decode_join",
    "grant_json",
    "hello_json",
    "jsonable",
    "loads",
    "parse_time",
]


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


def _head(doc: Any, site: str, school: str, what: str) -> tuple[At, dict[str, Any]]:
    at = At(f"{what}: ")
    d = obj(doc, what, at)
    if need(d, "format", at) != FORMAT:
        raise at.fail("format", f"{shown(d['format'])} is not {FORMAT}")
    if need(d, "site", at) != site:
        raise at.fail("site", f"{shown(d['site'])} is not the authenticated site {site}")
    if need(d, "school", at) != school:
        raise at.fail("school", f"{shown(d['school'])} is not this site's school {school}")
    return at, d


def decode_hello(data: bytes | dict[str, Any], site: str, school: str, limits: Limits) -> HelloIn:
    """A validated hello payload of site ``site`` enrolled for ``school``."""
    at, d = _head(loads(data, limits, "hello"), site, school, "hello")
    return HelloIn(
        site=site,
        school=school,
        sent_at=time_of(need(d, "sent_at", at), "sent_at", at),
        version=text(need(d, "version", at), "version", at, 32),
        backlog=whole(need(d, "backlog", at), "backlog", at),
    )


def decode_join(data: bytes | dict[str, Any], limits: Limits) -> JoinIn:
    """A validated join request."""
    at = At("join: ")
    d = obj(loads(data, limits, "join"), "join", at)
    key = text(need(d, "public_key", at), "public_key", at, 64)
    if not HEX64.match(key):
        raise at.fail("public_key", "expected 64 lower-case hex digits (an Ed25519 key)")
    return JoinIn(
        token=text(need(d, "token", at), "token", at, 200, empty=False),
        public_key=key,
        name=text(need(d, "name", at), "name", at, 100),
        version=text(need(d, "version", at), "version", at, 32),
    )


def decode_batch(
    data: bytes | dict[str, Any], site: str, school: str, limits: Limits | None = None
) -> Batch:
    """A validated batch of site ``site`` enrolled for ``school``; PayloadError otherwise."""
    limits = limits or Limits.from_env()
    at, d = _head(loads(data, limits), site, school, "batch")
    stream = one_of(need(d, "stream", at), "stream", at, STREAMS)
    items = need(d, "items", at)
    if not isinstance(items, list):
        raise at.fail("items", f"expected a list, got {type(items).__name__}")
    if len(items) > limits.max_sync_items:
        env = Limits.env_name("max_sync_items")
        raise at.fail("items", f"{len(items):,} items (at most {limits.max_sync_items:,}; {env})")
    check = ITEMS[stream]
    out: list[dict[str, Any]] = []
    results = 0
    prev = 0
    for i, raw in enumerate(items):
        iat = At(f"batch item {i}: ")
        item = check(obj(raw, "item", iat), iat)
        if item["id"] <= prev:
            raise iat.fail("id", f"{item['id']} is not above the previous item's {prev}")
        prev = item["id"]
        if stream == "runs":
            results += len(item["results"]["at"])
            if results > limits.max_sync_results:
                env = Limits.env_name("max_sync_results")
                raise iat.fail("results", f"more than {limits.max_sync_results:,} results ({env})")
        out.append(item)
    last = whole(need(d, "last", at), "last", at)
    if last < prev:
        raise at.fail("last", f"{last} is below the last item's id {prev}")
    return Batch(
        site=site,
        school=school,
        sent_at=time_of(need(d, "sent_at", at), "sent_at", at),
        version=text(need(d, "version", at), "version", at, 32),
        backlog=whole(need(d, "backlog", at), "backlog", at),
        stream=stream,
        items=out,
        last=last,
    )


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


def grant_json(grant: JoinGrant) -> dict[str, Any]:
    """A join answer as JSON."""
    return {
        "site": grant.site_uid,
        "school": grant.school,
        "credential": grant.credential,
        "server_time": grant.server_time.isoformat(),
    }


def hello_json(h: Hello) -> dict[str, Any]:
    """A hello answer as JSON."""
    return {
        "school": h.school,
        "marks": dict(h.marks),
        "server_time": h.server_time.isoformat(),
        "clock_offset_s": h.clock_offset_s,
    }


def ack_json(ack: Ack) -> dict[str, Any]:
    """An ack as JSON (conflicts with ISO times)."""
    out: dict[str, Any] = jsonable(ack)
    return out
