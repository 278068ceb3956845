"""The compact ping result codec: lossless round trips, and refusals of what it cannot keep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kape_itops.probes.icmp.evaluate import classify, summarize
from kape_itops.store import ping_codec

AT = dt.datetime(2026, 3, 1, 8, 5, 7, 123456, tzinfo=dt.UTC)


def _row(metrics: dict[str, Any], status: str, reason: str, **kw: Any) -> dict[str, Any]:
    row = {
        "run_id": 7,
        "device_id": 3,
        "target": "10.30.1.31",
        "probe": "ping",
        "status": status,
        "reason": reason,
        "method": "icmp-raw",
        "metrics": metrics,
        "started_at": AT,
        "duration_ms": 612.3456789,
        "attempts": 1,
    }
    row.update(kw)
    return row


def _roundtrip(row: dict[str, Any], tag: str | None = "CAM-1") -> dict[str, Any]:
    packed = ping_codec.encode(row, tag)
    assert packed is not None
    back = ping_codec.decode(packed, tag)
    assert back == {k: v for k, v in row.items() if k in back}
    assert set(back) == set(row)
    return packed


@pytest.mark.parametrize(
    "rtts",
    [
        [10.123456, 12.5, 11.0],
        [1.0001, None, 3.3333333],
        [None, None, None],
        [0.0421, 0.0399, 0.0407],
    ],
)
def test_probe_results_round_trip_with_rebuilt_reasons(rtts: list[float | None]) -> None:
    stats = summarize(rtts)
    status, reason = classify(stats, {})
    packed = _roundtrip(_row(stats.metrics(), status.value, reason))
    assert packed["keys"] is None
    assert (packed["target"], packed["target_ip"]) == (None, 0x0A1E011F)
    if status.value in ("ok", "crit"):
        assert packed["reason"] is None  # rebuilt on read, identical text


def test_breach_reasons_and_other_targets_are_kept() -> None:
    stats = summarize([400.0, 700.0, None])
    status, reason = classify(stats, {})
    assert status.value == "crit" and "(crit)" in reason
    packed = _roundtrip(_row(stats.metrics(), status.value, reason, target="CAM-1"))
    assert packed["reason"] == reason
    assert packed["target"] is None  # the asset tag itself
    assert _roundtrip(_row(stats.metrics(), "ok", "custom"))["reason"] == "custom"
    for odd in ("010.30.1.31", "fe80::1", "printer.local"):
        assert _roundtrip(_row(stats.metrics(), "ok", "x", target=odd))["target"] == odd


def test_partial_metrics_and_times_are_exact() -> None:
    packed = _roundtrip(_row({"sent": 3, "received": 0}, "unknown", "no route to host"))
    assert packed["keys"] == 0b11
    assert ping_codec.from_us(ping_codec.to_us(AT)) == AT
    old = dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    assert ping_codec.from_us(ping_codec.to_us(old)) == old


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"metrics": {"sent": 3, "received": 3, "tcp_ports": [80]}}, "extra metric"),
        ({"metrics": {"sent": 3, "received": 3, "rtt_avg_ms": 1.23456}}, "more than 3 decimals"),
        ({"metrics": {"sent": 3.0, "received": 3}}, "float count"),
        ({"metrics": {"sent": 3, "received": 3, "loss_pct": 0}}, "int where a float is"),
        ({"probe": "snmp"}, "other probe"),
        ({"device_id": None}, "no device"),
        ({"status": "weird"}, "unknown status"),
        ({"method": "carrier-pigeon"}, "unknown method"),
        ({"duration_ms": 5}, "int duration"),
    ],
)
def test_what_cannot_be_kept_exactly_is_refused(change: dict[str, Any], why: str) -> None:
    row = _row({"sent": 3, "received": 3}, "ok", "fine")
    row.update(change)
    assert ping_codec.encode(row, "CAM-1") is None, why
