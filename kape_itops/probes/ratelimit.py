"""A run-wide packets-per-second budget that probes await before sending.

Probes call ``await ctx.budget.acquire(n)`` before putting ``n`` packets on the wire, so a
school's thin uplink is never flooded however many checks run at once.

:class:`TokenBucket` is fair without a lock: each ``acquire`` takes its tokens at once (the
balance may go negative) and then sleeps for as long as the deficit takes to refill, so callers
are served in the order they asked. The clock and the sleep are injectable, which makes the
accounting testable without wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class RateLimiter(Protocol):
    """Anything probes can await before sending ``n`` packets."""

    async def acquire(self, n: int = 1) -> None:
        """Return when ``n`` packets may be sent."""


class Unlimited:
    """No budget: ``acquire`` returns at once (the default of :class:`ProbeContext`)."""

    async def acquire(self, n: int = 1) -> None:
        """Return at once."""

    def __repr__(self) -> str:
        return "Unlimited()"


class TokenBucket:
    """``rate`` tokens per second, up to ``burst`` saved up."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the packet rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate / 10))
        if self.burst <= 0:
            raise ValueError("the burst must be positive")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._at = clock()
        self.granted = 0
        """Tokens handed out so far."""
        self.waited_s = 0.0
        """Total time callers were told to wait."""

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def reserve(self, n: int = 1) -> float:
        """Take ``n`` tokens now and return how long the caller must wait before sending."""
        if n < 0:
            raise ValueError("cannot acquire a negative number of tokens")
        self._refill()
        self._tokens -= n
        self.granted += n
        wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        self.waited_s += wait
        return wait

    @property
    def available(self) -> float:
        """Tokens available now (negative while callers are waiting)."""
        self._refill()
        return self._tokens

    async def acquire(self, n: int = 1) -> None:
        """Wait until ``n`` packets fit in the budget."""
        wait = self.reserve(n)
        if wait > 0:
            await self._sleep(wait)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g})"


def make_budget(pps: float | None, burst: float | None = None) -> RateLimiter:
    """A token bucket for ``pps`` packets per second, or no limit when ``pps`` is None/0."""
    if not pps:
        return Unlimited()
    return TokenBucket(pps, burst)
