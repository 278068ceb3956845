"""The ping probe's reason texts (pure), shared by the probe and the result store that rebuilds them."""

from __future__ import annotations


def summary(sent: int, received: int, loss_pct: float, rtt_avg_ms: float, jitter_ms: float) -> str:
    """``2/3 replies, 33.33% loss, rtt avg 1.2 ms, jitter 0.3 ms``."""
    return (
        f"{received}/{sent} replies, {loss_pct:g}% loss, "
        f"rtt avg {rtt_avg_ms:.1f} ms, jitter {jitter_ms:.1f} ms"
    )


def down(sent: int) -> str:
    """The reason of a series without any reply."""
    return f"down: no reply to {sent} echo(es)"
