"""The one async probe runner: bounded, deadline-driven, retrying, interruptible.

- Concurrency is bounded globally and per school (a device holds one slot of each while its
  probes run one after another; the school slot is taken first so a busy school never holds
  global slots while it waits).
- Each check runs under ``asyncio.timeout_at`` of the earlier of its own timeout and the
  device's deadline; what the deadline cuts off becomes ``unknown`` with the reason.
- ``unknown`` results are retried with exponential backoff (``attempts`` counts every try),
  never past the device's deadline.
- A probe that raises becomes an ``unknown`` result carrying the exception text; a probe kind
  that cannot be imported or started becomes ``unknown`` "probe not available: …".
- Every result goes to the sink the moment it is known. Cancellation (Ctrl-C, SIGTERM) or a
  crash closes the run as ``interrupted``; what was measured is kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import Probe, ProbeContext, Target, worst
from kape_itops.probes.registry import ProbeRegistry, ProbeUnavailable


@dataclass(frozen=True, slots=True)
class Check:
    """One probe of one target; ``skip_reason`` records an ``unknown`` without probing."""

    probe: str
    target: Target
    timeout_s: float | None = None
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One device (or bare address) and its checks, run in order under one deadline."""

    key: str
    checks: tuple[Check, ...]
    school: str | None = None
    deadline_s: float | None = None


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """The limits of one run."""

    concurrency: int = 64
    """Devices probed at once, in all."""
    per_school: int = 16
    """Devices of one school probed at once."""
    probe_timeout_s: float = 20.0
    """Hard limit of one check when its profile section sets no ``check_timeout_s``."""
    device_deadline_s: float = 60.0
    """Time for all checks of one device when its job sets no deadline."""
    retries: int = 1
    """Extra attempts after an ``unknown`` result."""
    backoff_s: float = 0.5
    backoff_factor: float = 2.0
    backoff_max_s: float = 10.0

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_school < 1:
            raise ValueError("concurrency limits must be at least 1")
        if self.retries < 0:
            raise ValueError("retries cannot be negative")
        if self.probe_timeout_s <= 0 or self.device_deadline_s <= 0:
            raise ValueError("timeouts must be positive")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return float(min(self.backoff_max_s, self.backoff_s * self.backoff_factor ** (attempt - 1)))


class ResultSink(Protocol):
    """Where results go as they complete (the store, a list in tests)."""

    async def add(self, result: ProbeResult, job: Job) -> None:
        """Record one result."""


@dataclass(slots=True)
class RunOutcome:
    """What a run produced."""

    status: RunStatus
    results: list[ProbeResult] = field(default_factory=list)
    note: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Results per status (every status present, zero or not)."""
        c = Counter(r.status.value for r in self.results)
        return {s.value: c.get(s.value, 0) for s in ProbeStatus}

    @property
    def overall(self) -> ProbeStatus:
        """The worst status (OK when there are no results)."""
        return worst([r.status for r in self.results])


OnResult = Callable[[ProbeResult, Job], None]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def unknown(
    check: Check, reason: str, started: dt.datetime, duration_ms: float = 0.0, attempts: int = 1
) -> ProbeResult:
    """An ``unknown`` result of ``check`` that the runner (not the probe) decided."""
    device = check.target.device
    return ProbeResult(
        probe=check.probe,
        target=_where(check.target),
        status=ProbeStatus.UNKNOWN,
        reason=reason,
        started_at=started,
        duration_ms=duration_ms,
        asset_tag=device.asset_tag if device is not None else None,
        attempts=attempts,
    )


def _where(target: Target) -> str:
    return f"{target.address}:{target.port}" if target.port else target.address


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Runner:
    """Runs jobs with a set of probe kinds; one instance per run."""

    def __init__(
        self,
        registry: ProbeRegistry,
        config: RunnerConfig | None = None,
        ctx: ProbeContext | None = None,
        sink: ResultSink | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.registry = registry
        self.config = config or RunnerConfig()
        self.ctx = ctx or ProbeContext(timeout_s=self.config.probe_timeout_s)
        self.sink = sink
        self._sleep = sleep
        self._probes: dict[str, Probe] = {}
        self._unavailable: dict[str, str] = {}
        self._global = asyncio.Semaphore(self.config.concurrency)
        self._schools: dict[str | None, asyncio.Semaphore] = {}

    # -- probe lifecycle ------------------------------------------------------------------
    async def _start_probes(self, names: Sequence[str]) -> None:
        for name in names:
            try:
                probe = self.registry.create(name)
            except ProbeUnavailable as exc:
                self._unavailable[name] = str(exc)
                continue
            except Exception as exc:
                self._unavailable[name] = f"probe not available: {_describe(exc)}"
                continue
            try:
                await probe.start(self.ctx)
            except Exception as exc:
                self._unavailable[name] = f"probe could not start: {_describe(exc)}"
                continue
            self._probes[name] = probe

    async def _stop_probes(self) -> None:
        for probe in self._probes.values():
            try:
                await probe.stop()
            except Exception:  # noqa: S112 - a failing stop must not hide the run's results
                continue
        self._probes.clear()

    # -- one check -----------------------------------------------------------------------
    async def _attempt(
        self, probe: Probe, check: Check, until: float, device_until: float
    ) -> ProbeResult:
        started = _now()
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout_at(until):
                result = await probe.check(check.target)
        except TimeoutError:
            elapsed = (time.perf_counter() - t0) * 1000
            if until >= device_until:
                return unknown(check, "cut off by the device deadline", started, elapsed)
            limit = check.timeout_s or self.config.probe_timeout_s
            return unknown(check, f"probe timed out after {limit:g} s", started, elapsed)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            elapsed = (time.perf_counter() - t0) * 1000
            return unknown(check, "probe failed: cancelled inside the probe", started, elapsed)
        except Exception as exc:
            elapsed = (time.perf_counter() - t0) * 1000
            return unknown(check, f"probe failed: {_describe(exc)}", started, elapsed)
        if not isinstance(result, ProbeResult):
            got = type(result).__name__
            return unknown(check, f"probe returned {got}, not a ProbeResult", started)
        return result

    async def _check(self, check: Check, device_until: float) -> ProbeResult:
        loop = asyncio.get_running_loop()
        if check.skip_reason is not None:
            return unknown(check, check.skip_reason, _now())
        if check.probe in self._unavailable:
            return unknown(check, self._unavailable[check.probe], _now())
        probe = self._probes[check.probe]
        timeout = check.timeout_s or self.config.probe_timeout_s
        attempts = 0
        result: ProbeResult | None = None
        while True:
            if loop.time() >= device_until:
                if result is None:
                    return unknown(check, "device deadline reached before this probe ran", _now())
                break
            attempts += 1
            until = min(loop.time() + timeout, device_until)
            result = await self._attempt(probe, check, until, device_until)
            if result.status != ProbeStatus.UNKNOWN or attempts > self.config.retries:
                break
            pause = self.config.backoff(attempts)
            if loop.time() + pause >= device_until:
                break
            await self._sleep(pause)
        device = check.target.device
        return dataclasses.replace(
            result,
            probe=check.probe,
            target=_where(check.target),
            attempts=attempts,
            asset_tag=result.asset_tag or (device.asset_tag if device is not None else None),
        )

    # -- one device ----------------------------------------------------------------------
    def _school_slot(self, school: str | None) -> asyncio.Semaphore:
        if school not in self._schools:
            self._schools[school] = asyncio.Semaphore(self.config.per_school)
        return self._schools[school]

    async def _job(self, job: Job, emit: Callable[[ProbeResult, Job], Awaitable[None]]) -> None:
        async with self._school_slot(job.school), self._global:
            loop = asyncio.get_running_loop()
            device_until = loop.time() + (job.deadline_s or self.config.device_deadline_s)
            for check in job.checks:
                await emit(await self._check(check, device_until), job)

    # -- the run -------------------------------------------------------------------------
    async def run(self, jobs: Sequence[Job], on_result: OnResult | None = None) -> RunOutcome:
        """Run every job, each result emitted as it completes (see :func:`run_jobs` for the
        run record)."""
        outcome = RunOutcome(status=RunStatus.RUNNING)

        async def emit(result: ProbeResult, job: Job) -> None:
            outcome.results.append(result)
            if self.sink is not None:
                await self.sink.add(result, job)
            if on_result is not None:
                on_result(result, job)

        names = list(
            dict.fromkeys(c.probe for j in jobs for c in j.checks if c.skip_reason is None)
        )
        await self._start_probes(names)
        try:
            async with asyncio.TaskGroup() as tg:
                for job in jobs:
                    tg.create_task(self._job(job, emit))
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from group
        finally:
            await self._stop_probes()
        outcome.status = RunStatus.COMPLETED
        return outcome


class RunRecorder(Protocol):
    """A sink that also opens and closes the run record."""

    async def add(self, result: ProbeResult, job: Job) -> None:
        """Record one result."""

    async def finish(self, status: RunStatus, counts: Mapping[str, Any], note: str | None) -> None:
        """Close the run record (also after cancellation)."""


async def run_jobs(
    runner: Runner, jobs: Sequence[Job], recorder: RunRecorder, on_result: OnResult | None = None
) -> RunOutcome:
    """Run ``jobs`` and close the run record: completed, or interrupted on cancel/crash.

    The results measured before an interruption stay recorded; the exception propagates.
    """
    partial = RunOutcome(status=RunStatus.RUNNING)

    def seen(result: ProbeResult, job: Job) -> None:
        partial.results.append(result)
        if on_result is not None:
            on_result(result, job)

    runner.sink = recorder
    try:
        outcome = await runner.run(jobs, seen)
    except asyncio.CancelledError:
        await recorder.finish(RunStatus.INTERRUPTED, _counts(partial), "interrupted (signal)")
        raise
    except BaseException as exc:
        note = f"interrupted by an error: {_describe(exc)}"
        await recorder.finish(RunStatus.INTERRUPTED, _counts(partial), note)
        raise
    await recorder.finish(outcome.status, _counts(outcome), None)
    return outcome


def _counts(outcome: RunOutcome) -> dict[str, Any]:
    return {**outcome.counts, "results": len(outcome.results)}
