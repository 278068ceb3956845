"""The packets-per-second budget: token-bucket accounting on an injected clock, no wall time."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.ratelimit import RateLimiter, TokenBucket, Unlimited, make_budget
from kape_itops.probes.registry import ProbeRegistry
from kape_itops.probes.runner import Check, Job, Runner, RunnerConfig


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


def test_burst_is_free_then_the_rate_applies() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, burst=10, clock=clock, sleep=clock.sleep)
    assert bucket.reserve(10) == 0
    assert bucket.reserve(1) == pytest.approx(0.01)
    assert bucket.reserve(5) == pytest.approx(0.06)
    clock.t += 0.06
    assert bucket.available == pytest.approx(0, abs=1e-9)


def test_refill_is_capped_at_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(50, burst=5, clock=clock, sleep=clock.sleep)
    bucket.reserve(5)
    clock.t += 3600
    assert bucket.available == pytest.approx(5)


def test_sequential_acquires_take_exactly_packets_over_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(200, burst=20, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for _ in range(500):
            await bucket.acquire(2)

    start = clock.t
    asyncio.run(main())
    assert bucket.granted == 1000
    assert clock.t - start == pytest.approx((1000 - 20) / 200)


def test_concurrent_acquirers_never_exceed_the_budget() -> None:
    clock = FakeClock()
    rate, burst = 100.0, 10.0
    bucket = TokenBucket(rate, burst=burst, clock=clock, sleep=clock.sleep)
    start = clock.t
    sent: list[tuple[float, int]] = []

    async def sender(n: int) -> None:
        for _ in range(20):
            await bucket.acquire(n)
            sent.append((clock.t, n))

    async def main() -> None:
        await asyncio.gather(*(sender(n) for n in (1, 2, 3, 4)))

    asyncio.run(main())
    total = 0
    for at, n in sorted(sent):
        total += n
        assert total <= burst + rate * (at - start) + 1e-6
    assert total == 20 * (1 + 2 + 3 + 4)


def test_runner_probes_spend_the_shared_budget() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)

    class Sender:
        name = "sender"

        async def start(self, ctx: ProbeContext) -> None:
            self.budget = ctx.budget

        async def check(self, target: Target) -> ProbeResult:
            await self.budget.acquire(3)
            return ProbeResult(
                "sender", target.address, ProbeStatus.OK, "sent", dt.datetime.now(dt.UTC), 0.0
            )

        async def stop(self) -> None:
            pass

    jobs = [Job(f"D{i}", (Check("sender", Target(f"127.0.0.{i + 1}")),)) for i in range(8)]
    reg = ProbeRegistry(paths={}, factories={"sender": Sender})
    runner = Runner(reg, RunnerConfig(concurrency=8), ProbeContext(budget=bucket))
    outcome = asyncio.run(runner.run(jobs))
    assert outcome.counts["ok"] == 8
    assert bucket.granted == 24
    assert sum(clock.sleeps) == pytest.approx((24 - 3) / 10)


def test_default_context_has_an_unlimited_budget() -> None:
    ctx = ProbeContext()
    assert isinstance(ctx.budget, Unlimited)
    assert isinstance(ctx.budget, RateLimiter)
    asyncio.run(ctx.budget.acquire(10**9))


def test_make_budget() -> None:
    assert isinstance(make_budget(None), Unlimited)
    assert isinstance(make_budget(0), Unlimited)
    bucket = make_budget(500)
    assert isinstance(bucket, TokenBucket)
    assert (bucket.rate, bucket.burst) == (500, 50)


@pytest.mark.parametrize(("rate", "burst", "message"), [(0, None, "rate"), (10, 0, "burst")])
def test_bad_budget_is_rejected(rate: float, burst: float | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TokenBucket(rate, burst)


def test_negative_acquire_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        TokenBucket(10).reserve(-1)
