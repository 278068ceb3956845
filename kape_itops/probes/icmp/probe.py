"""The ping probe: RTT min/avg/max/stddev, jitter and loss through one shared ICMP engine.

Settings (``Target.settings``, from the kind profile's ``ping:`` section), all optional:

- ``count`` (3), ``interval_s`` (0.2, between echoes to one host), ``timeout_s`` (per echo;
  default the constructor's, else 1 s or the run's ``ProbeContext.timeout_s`` if smaller)
- ``thresholds``: ``{metric: {warn, crit}}`` over the ping metrics (default
  ``rtt_avg_ms`` 150/500 and ``loss_pct`` 20/60); 100 % loss is always ``crit`` (host down)
- ``tcp_ports``: ports tried by the TCP-connect fallback (default per device kind);
  ``lab_ports`` (from the lab address map) redirects them, keyed by the port as a string

The method (``icmp-raw``, ``icmp-dgram``, ``tcp-connect``) is named on every result. Packets
wait for the run's budget (``ProbeContext.budget``); when the runner gives none, the ``pps``
passed to the constructor applies (default 500 packets/s). The statistics and their verdict
are in :mod:`.evaluate`; this module sends the echoes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ProbeError
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.icmp.client import EchoOutcome, IcmpEngine, Method, open_engine
from kape_itops.probes.icmp.evaluate import DEFAULTS, classify, summarize
from kape_itops.probes.icmp.tcp import tcp_echo, tcp_ports
from kape_itops.probes.ratelimit import RateLimiter, Unlimited, make_budget

DEFAULT_PPS = 500.0
DEFAULT_TIMEOUT_S = 1.0
"""Echo timeout when neither settings nor the constructor give one (capped by the context's)."""


class PingProbe:
    """ICMP echo reachability with RTT statistics, jitter and loss."""

    name = "ping"

    def __init__(
        self,
        pps: float | None = DEFAULT_PPS,
        method: Method | str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self._pps = pps
        self._preferred = Method(method) if method else None
        self._engine: IcmpEngine | None = None
        self._budget: RateLimiter = make_budget(pps, max(1.0, (pps or 1) / 100))
        self._default_timeout = timeout_s
        self._timeout = timeout_s or DEFAULT_TIMEOUT_S
        self.notes: list[str] = []
        """Why a less preferred method is used (e.g. no permission for raw sockets)."""
        self.method = Method.TCP
        """The method this run uses (set by :meth:`start`)."""

    async def start(self, ctx: ProbeContext) -> None:
        """Open the best ICMP socket this process may use, or settle for TCP connect."""
        self._timeout = self._default_timeout or min(ctx.timeout_s, DEFAULT_TIMEOUT_S)
        if not isinstance(ctx.budget, Unlimited):
            self._budget = ctx.budget
        if self._preferred is Method.TCP:
            return
        self._engine, notes = open_engine(self._preferred, self._budget)
        self.notes.extend(notes)
        if self._engine is not None:
            self.method = self._engine.method
        if self._engine is None:
            self.notes.append("no ICMP socket allowed: falling back to TCP connect")

    @property
    def engine(self) -> IcmpEngine | None:
        """The run's ICMP engine (None with the TCP fallback or before :meth:`start`)."""
        return self._engine

    async def stop(self) -> None:
        """Close the sockets."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    async def check(self, target: Target) -> ProbeResult:
        """Send ``count`` echoes ``interval_s`` apart (replies awaited concurrently)."""
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        s = {**DEFAULTS, **target.settings}
        count = max(1, int(s["count"]))
        interval = max(0.0, float(s["interval_s"]))
        timeout = float(s.get("timeout_s") or self._timeout)
        method = self.method
        try:
            outcomes = await self._series(target, method, count, interval, timeout)
        except (ProbeError, OSError, ValueError) as exc:
            return ProbeResult(
                self.name,
                target.label,
                ProbeStatus.UNKNOWN,
                f"cannot ping: {exc}",
                started,
                (time.perf_counter() - t0) * 1000,
                {},
                str(method),
                _tag(target),
            )
        stats = summarize([o.rtt_ms for o in outcomes])
        status, reason = classify(stats, s)
        if stats.received == 0:
            errors = sorted({o.error for o in outcomes if o.error and o.error != "timeout"})
            if errors:
                reason += f" ({', '.join(errors)})"
        metrics = stats.metrics()
        if method is Method.TCP:
            metrics["tcp_ports"] = list(tcp_ports(target))
        return ProbeResult(
            self.name,
            target.label,
            status,
            reason,
            started,
            (time.perf_counter() - t0) * 1000,
            metrics,
            str(method),
            _tag(target),
        )

    async def _series(
        self, target: Target, method: Method, count: int, interval: float, timeout: float
    ) -> list[EchoOutcome]:
        engine = self._engine
        waits: list[asyncio.Future[EchoOutcome]] = []
        try:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval)
                if engine is None:
                    await self._budget.acquire(1)
                    coro = tcp_echo(target.address, tcp_ports(target), timeout)
                    waits.append(asyncio.ensure_future(coro))
                else:
                    handle = await engine.send(target.address, timeout)
                    waits.append(asyncio.ensure_future(engine.wait(target.address, handle)))
            return list(await asyncio.gather(*waits))
        except asyncio.CancelledError:
            for w in waits:
                w.cancel()
            raise


def _tag(target: Target) -> str | None:
    return target.device.asset_tag if target.device is not None else None


@dataclass(frozen=True, slots=True)
class PingRun:
    """The results of one ``ping_targets`` call and the method the run used."""

    results: list[ProbeResult]
    method: Method
    notes: list[str]


async def ping_targets(
    targets: Sequence[Target],
    *,
    timeout_s: float = 1.0,
    pps: float | None = DEFAULT_PPS,
    method: Method | str | None = None,
    budget: RateLimiter | None = None,
    concurrency: int = 4096,
) -> PingRun:
    """Ping many targets through one engine; results in the order of ``targets``."""
    probe = PingProbe(pps=pps, method=method, timeout_s=timeout_s)
    ctx = ProbeContext(timeout_s=timeout_s, budget=budget or Unlimited())
    await probe.start(ctx)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(target: Target) -> ProbeResult:
        async with gate:
            return await probe.check(target)

    try:
        results = await asyncio.gather(*(one(t) for t in targets))
    finally:
        await probe.stop()
    return PingRun(list(results), probe.method, list(probe.notes))
