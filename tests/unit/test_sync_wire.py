"""Batch, hello and join validation: every violation is a PayloadError naming item and field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kape_itops.errors import PayloadError
from kape_itops.limits import Limits
from kape_itops.sync import wire
from tests.support.sync_batches import T0, backup, batch, change, encode, run, sweep

SITE = "4b1c7f4e-0000-4000-8000-000000000001"


def _runs() -> dict[str, Any]:
    return batch(SITE, "runs", [run(1), run(3)], last=4)


def test_a_valid_batch_decodes_with_times_parsed() -> None:
    got = wire.decode_batch(encode(_runs()), SITE, "KEP-A")
    assert got.stream == "runs" and got.last == 4 and got.results == 4
    assert got.items[0]["started_at"] == T0
    assert got.items[1]["results"]["tag"] == ["A-1", "A-2"]
    for stream, items in (
        ("changes", [change(1, "A-1", "room", None, "Lab", T0)]),
        ("sweeps", [sweep(1)]),
        ("backups", [backup(1)]),
    ):
        assert wire.decode_batch(batch(SITE, stream, items), SITE, "KEP-A").items


def _bad(doc: Any, message: str, limits: Limits | None = None) -> None:
    data = doc if isinstance(doc, bytes) else encode(doc)
    with pytest.raises(PayloadError, match=message):
        wire.decode_batch(data, SITE, "KEP-A", limits)


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = _runs()
    target: Any = doc
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("format",), "kape-itops-sync/9", "field 'format'"),
        (("site",), "another-site", "field 'site'.*authenticated site"),
        (("school",), "KEP-B", "field 'school'.*this site's school"),
        (("stream",), "passwords", "field 'stream'"),
        (("stream",), ["runs"], "field 'stream'"),
        (("items",), {"0": 1}, "field 'items'"),
        (("last",), 2, "field 'last'.*below"),
        (("last",), True, "field 'last'"),
        (("sent_at",), "yesterday", "field 'sent_at'"),
        (("sent_at",), "2026-11-02T08:00:00", "no UTC offset"),
        (("sent_at",), "9999-01-01T00:00:00+00:00", "outside"),
        (("items", 1, "id"), 1, "batch item 1: field 'id'.*not above"),
        (("items", 0, "id"), "1", "batch item 0: field 'id'"),
        (("items", 0, "id"), -5, "batch item 0: field 'id'"),
        (("items", 1, "status"), "running", "batch item 1: field 'status'"),
        (("items", 0, "actor"), "x" * 101, "batch item 0: field 'actor'.*101"),
        (("items", 0, "finished_at"), None, "batch item 0: field 'finished_at'"),
        (("items", 0, "selection"), [1], "batch item 0: field 'selection'"),
        (("items", 0, "results", "at"), [1.0], "results.tag.*list of 1 values"),
        (("items", 0, "results", "at", 1), "now", r"results.at\[1\]"),
        (("items", 0, "results", "at", 1), 1e300, r"results.at\[1\]"),
        (("items", 1, "results", "status", 0), {"x": 1}, r"batch item 1: .*results.status\[0\]"),
        (("items", 0, "results", "status", 1), "fine", r"results.status\[1\]"),
        (("items", 0, "results", "target", 0), "t" * 300, r"results.target\[0\]"),
        (("items", 0, "results", "reason", 1), "r" * 20_000, r"results.reason\[1\]"),
        (("items", 0, "results", "reason", 1), "a\x00b", r"results.reason\[1\]"),
        (("items", 0, "results", "tag", 0), 7, r"results.tag\[0\]"),
        (("items", 0, "results", "attempts", 0), True, r"results.attempts\[0\]"),
        (("items", 0, "results", "metrics", 0), [], r"results.metrics\[0\]"),
        (("items", 0, "results", "metrics", 0), {"k": "v" * 20_000}, r"results.metrics\[0\]"),
        (("items", 0, "results", "duration_ms", 0), -1, r"results.duration_ms\[0\]"),
        (("items", 0, "results", "extra"), [1, 2], "unknown columns"),
    ],
)
def test_hostile_batches_are_refused_naming_item_and_field(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    _bad(_with(path, value), message)


def test_deep_metrics_nan_and_non_json_are_refused() -> None:
    deep: Any = {}
    cur = deep
    for _ in range(40):
        cur["k"] = {}
        cur = cur["k"]
    _bad(_with(("items", 0, "results", "metrics", 0), deep), r"results.metrics\[0\]")
    text = encode(_runs()).replace(b'"attempts": [1, 1]', b'"attempts": [NaN, 1]', 1)
    _bad(text, "not valid JSON")
    _bad(b"\xff\xfe{", "not valid JSON")
    _bad(b"[1, 2]", "expected an object")
    _bad(b"[" * 100_000, "not valid JSON")


def test_missing_fields_are_named() -> None:
    doc = _runs()
    del doc["items"][1]["results"]["probe"]
    _bad(doc, "batch item 1: field 'results.probe': missing")
    doc = _runs()
    del doc["stream"]
    _bad(doc, "field 'stream': missing")


def test_the_item_and_result_limits_hold() -> None:
    _bad(_runs(), "2 items.*ITOPS_MAX_SYNC_ITEMS", Limits(max_sync_items=1))
    _bad(
        _runs(),
        "batch item 1: .*more than 3 results.*ITOPS_MAX_SYNC_RESULTS",
        Limits(max_sync_results=3),
    )
    big = encode(_runs()) + b" " * (1024 * 1024)
    _bad(big, "too large.*ITOPS_MAX_SYNC_MB", Limits(max_sync_mb=1))
    assert wire.decode_batch(encode(_runs()), SITE, "KEP-A", Limits(max_sync_results=4))


def test_item_shapes_of_each_stream() -> None:
    bad_change = change(1, "A-1", "room", None, "Lab", T0, action="delete")
    with pytest.raises(PayloadError, match="batch item 0: field 'action'"):
        wire.decode_batch(batch(SITE, "changes", [bad_change]), SITE, "KEP-A")
    bad_sweep = sweep(1)
    bad_sweep["hosts"][0]["state"] = "owned"
    with pytest.raises(PayloadError, match=r"batch item 0: hosts\[0\] field 'state'"):
        wire.decode_batch(batch(SITE, "sweeps", [bad_sweep]), SITE, "KEP-A")
    bad_backup = backup(1)
    bad_backup["sha256"] = "XYZ"
    with pytest.raises(PayloadError, match="batch item 0: field 'sha256'"):
        wire.decode_batch(batch(SITE, "backups", [bad_backup]), SITE, "KEP-A")
    odd = copy.deepcopy(backup(1))
    odd["changed"] = "yes"
    with pytest.raises(PayloadError, match="field 'changed'"):
        wire.decode_batch(batch(SITE, "backups", [odd]), SITE, "KEP-A")


def test_hello_and_join() -> None:
    hello = {
        "format": "kape-itops-sync/1",
        "site": SITE,
        "school": "KEP-A",
        "sent_at": T0.isoformat(),
        "version": "0.1.0",
        "backlog": 12,
    }
    assert wire.decode_hello(hello, SITE, "KEP-A", Limits()).backlog == 12
    with pytest.raises(PayloadError, match="hello: field 'school'"):
        wire.decode_hello(json.dumps(hello).encode(), SITE, "KEP-B", Limits())
    with pytest.raises(PayloadError, match="hello: field 'backlog'"):
        wire.decode_hello({**hello, "backlog": -1}, SITE, "KEP-A", Limits())
    join = {"token": "t", "public_key": "ab" * 32, "name": "pi", "version": "0.1.0"}
    assert wire.decode_join(join, Limits()).name == "pi"
    with pytest.raises(PayloadError, match="join: field 'public_key'"):
        wire.decode_join({**join, "public_key": "AB" * 32}, Limits())
    with pytest.raises(PayloadError, match="join: field 'token'"):
        wire.decode_join({**join, "token": ""}, Limits())
