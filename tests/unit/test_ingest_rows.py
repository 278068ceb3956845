"""The rows a pushed run becomes before the write lock: the same as the row-by-row path
(:func:`ping_codec.split` on result dicts), and COPY text that PostgreSQL reads back as sent."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kape_itops.store import ping_codec
from kape_itops.store.ingest_rows import (
    COMPACT_COLUMNS,
    PLAIN_COLUMNS,
    lines,
    prepare,
    with_run,
)
from tests.support.sync_batches import PING_METRICS, run

DEVICES = {"A-1": 11, "A-2": 12}


def _odd_run() -> dict[str, Any]:
    """A run whose results hit every branch of the compact encoding."""
    item = run(7, tags=("A-1",) * 14 + ("A-2", "X-9", None))
    r = item["results"]
    r["target"][1] = "A-1"  # the tag itself
    r["target"][2] = "cam.local"  # a name
    r["target"][3] = "010.1.0.1"  # not a canonical address
    r["reason"][4] = "3/3 replies"  # not the probe's own text
    r["metrics"][5] = {"sent": 3, "received": 0}  # some keys only
    r["metrics"][6] = {**PING_METRICS, "tcp_ports": [80]}  # a key of the TCP fallback
    r["metrics"][7] = {**PING_METRICS, "sent": True}  # a bool is not a count
    r["metrics"][8] = {**PING_METRICS, "rtt_avg_ms": 1.2345}  # more than thousandths
    r["method"][9] = "tcp-connect"
    r["method"][10] = "odd"  # an unknown method
    r["probe"][11] = "snmp"
    r["at"][12] = r["at"][0]  # the same (time, device) twice in one run: the second stays plain
    r["status"][13] = "crit"
    r["metrics"][13] = {**PING_METRICS, "received": 0, "loss_pct": 100.0}
    r["duration_ms"][14] = 7  # an int duration
    return item


def _old_path(item: dict[str, Any], run_id: int) -> tuple[list[Any], list[Any]]:
    """What the row-by-row path stored: result dicts split by :func:`ping_codec.split`."""
    rows, tags = [], []
    r = item["results"]
    for j in range(len(r["at"])):
        tag = r["tag"][j]
        device = DEVICES.get(tag) if tag is not None else None
        rows.append(
            {
                "run_id": run_id,
                "device_id": device,
                "target": r["target"][j],
                "probe": r["probe"][j],
                "status": r["status"][j],
                "reason": r["reason"][j],
                "method": r["method"][j],
                "metrics": r["metrics"][j],
                "started_at": ping_codec.from_us(round(r["at"][j] * 1_000_000)),
                "duration_ms": float(r["duration_ms"][j]),
                "attempts": r["attempts"][j],
            }
        )
        tags.append(tag if device is not None else None)
    return ping_codec.split(rows, tags)


def test_prepared_rows_are_those_of_the_row_by_row_path() -> None:
    item = _odd_run()
    before = copy.deepcopy(item)
    got = prepare(item, DEVICES, copy_text=True)
    plain, compact = _old_path(item, 5)
    assert item == before  # the item is not changed
    assert [dict(zip(PLAIN_COLUMNS, (5, *p), strict=True)) for p in got.plain] == plain
    assert [dict(zip(COMPACT_COLUMNS, (5, *c), strict=True)) for c in got.compact] == [
        {k: row[k] for k in COMPACT_COLUMNS} for row in compact
    ]
    assert len(got.plain) == 8 and len(got.compact) == 9
    us = [c["started_us"] for c in compact]
    assert got.span == (min(us), max(us))
    assert got.oldest == min(item["results"]["at"])
    assert got.run["selection"] == item["selection"] and "results" not in got.run


def test_copy_text_escapes_what_postgresql_would_misread() -> None:
    rows = [(1, None, 2.5, "a\tb\\c\nd\re", "\\N", {"k": "x\ty", "é": None}), (None,)]
    text = with_run(lines(rows), 9)
    assert text == (
        '9\t1\t\\N\t2.5\ta\\tb\\\\c\\nd\\re\t\\\\N\t{"k": "x\\\\ty", "é": null}\n9\t\\N\n'
    )
    assert lines([]) == with_run("", 3) == ""


@pytest.mark.parametrize(
    "metrics",
    [
        PING_METRICS,
        {"sent": 3},
        {},
        {**PING_METRICS, "loss_pct": float("inf")},
        {**PING_METRICS, "rtt_min_ms": -0.0},
        {**PING_METRICS, "rtt_max_ms": 3e6},
        {**PING_METRICS, "rtt_max_ms": 1},
        {**PING_METRICS, "sent": 2**31},
        {**PING_METRICS, "jitter_ms": None},
        [1, 2],
    ],
)
def test_wire_encoding_is_the_dict_encoding(metrics: Any) -> None:
    row = {
        "run_id": 4,
        "device_id": 11,
        "target": "10.1.0.1",
        "probe": "ping",
        "status": "ok",
        "reason": "",
        "method": "icmp-raw",
        "metrics": metrics,
        "started_at": ping_codec.from_us(1_793_606_400_123_457),
        "duration_ms": 12.5,
        "attempts": 1,
    }
    want = ping_codec.encode(row, "A-1")
    got = ping_codec.encode_wire(
        "A-1", 11, "10.1.0.1", "ping", "ok", "", "icmp-raw", metrics, 1_793_606_400_123_457, 12.5, 1
    )
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert dict(zip(COMPACT_COLUMNS, (4, *got), strict=True)) == {
            k: want[k] for k in COMPACT_COLUMNS
        }


def test_compact_copy_text_is_the_generic_one() -> None:
    item = _odd_run()
    item["results"]["reason"][5] = "None"  # a text that looks like the word the fast path replaces
    got = prepare(item, DEVICES, copy_text=True)
    assert got.compact_text == lines(got.compact)
    assert "\\N" in (got.compact_text or "") and "\tNone\t" in (got.compact_text or "")
