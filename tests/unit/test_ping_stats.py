"""Ping statistics and classification (pure)."""

from __future__ import annotations

import pytest

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.base import Target
from kape_itops.probes.icmp.evaluate import classify, summarize
from kape_itops.probes.icmp.tcp import tcp_ports


def test_summary_of_series() -> None:
    s = summarize([10.0, 12.0, None, 11.0])
    assert (s.sent, s.received, s.loss_pct) == (4, 3, 25.0)
    assert (s.rtt_min_ms, s.rtt_avg_ms, s.rtt_max_ms) == (10.0, 11.0, 12.0)
    assert s.rtt_stddev_ms == pytest.approx(0.816, abs=1e-3)
    assert s.jitter_ms == pytest.approx(1.5)  # |12-10|, |11-12| over received replies


def test_all_lost_and_empty() -> None:
    s = summarize([None, None])
    assert s.received == 0 and s.loss_pct == 100.0 and s.rtt_avg_ms is None
    assert summarize([]).loss_pct == 0.0


def test_single_reply_has_zero_jitter() -> None:
    assert summarize([5.0]).jitter_ms == 0.0


def test_classify_defaults_and_profile_thresholds() -> None:
    assert classify(summarize([1.0, 1.0, 1.0]), {})[0] == ProbeStatus.OK
    status, reason = classify(summarize([None, None, None]), {})
    assert status == ProbeStatus.CRIT and reason.startswith("down")
    profile = {
        "thresholds": {
            "rtt_avg_ms": {"warn": 50, "crit": 200},
            "loss_pct": {"warn": 10, "crit": 50},
        }
    }
    status, reason = classify(summarize([60.0, 60.0]), profile)
    assert status == ProbeStatus.WARN and "rtt_avg_ms 60 >= 50 (warn)" in reason
    status, reason = classify(summarize([1.0, None]), profile)
    assert status == ProbeStatus.CRIT and "loss_pct 50 >= 50 (crit)" in reason


def test_tcp_ports_settings_kind_and_lab_map() -> None:
    assert tcp_ports(Target("127.0.0.1", settings={"tcp_ports": [9100]})) == (9100,)
    assert 80 in tcp_ports(Target("127.0.0.1"))
    lab = {"tcp_ports": [9100, 80], "lab_ports": {"9100": 19100}}
    assert tcp_ports(Target("127.0.0.1", settings=lab)) == (19100, 80)
