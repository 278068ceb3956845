"""The link proxy's mode: validation, the control-file form and the simulated retransmissions."""

from __future__ import annotations

import random

import pytest

from kape_itops.errors import ConfigError
from kape_itops.lab.linkproxy import LinkMode, retransmit_penalty


def test_mode_validates_and_round_trips() -> None:
    mode = LinkMode().changed(mode="cut", delay_ms=300, loss_pct=2.5, reset_after=100)
    assert LinkMode.from_json(mode.to_json()) == mode
    assert LinkMode.from_json({}) == LinkMode()
    assert LinkMode.from_json({"delay_ms": 5}).delay_ms == 5.0
    for bad in (
        {"mode": "down"},
        {"loss_pct": 101},
        {"delay_ms": -1},
        {"delay_ms": "x"},
        {"reset_after": -5},
        {"stall_after": True},
        {"speed": 1},
    ):
        with pytest.raises(ConfigError):
            LinkMode.from_json(bad)
    with pytest.raises(ConfigError):
        LinkMode.from_json([1])


def test_retransmit_penalty_follows_tcp_backoff() -> None:
    rng = random.Random(1)
    assert retransmit_penalty(65536, 0.0, rng) == 0.0
    assert retransmit_penalty(0, 50.0, rng) == 0.0
    # every segment lost: 6 retransmissions, 0.2 s doubling each time
    assert retransmit_penalty(1000, 100.0, rng) == pytest.approx(0.2 * (2**6 - 1))
    penalties = [retransmit_penalty(1448, 10.0, rng) for _ in range(2000)]
    held = [p for p in penalties if p > 0]
    assert 0.07 < len(held) / len(penalties) < 0.13
    assert all(round(p / 0.2) in (1, 3, 7, 15, 31, 63) for p in held)
