"""Runner behaviour with small in-test probes (doubles of the probe protocol, no sockets)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.registry import ProbeRegistry
from kape_itops.probes.runner import Check, Job, Runner, RunnerConfig, run_jobs


def result(
    target: Target, status: ProbeStatus = ProbeStatus.OK, reason: str = "fine"
) -> ProbeResult:
    return ProbeResult("test", target.address, status, reason, dt.datetime.now(dt.UTC), 1.0)


class Gauge:
    """Counts probes in flight, in all and per school."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.school_now: Counter[str] = Counter()
        self.school_peak: Counter[str] = Counter()


class SlowProbe:
    """Sleeps a little and records concurrency."""

    name = "slow"

    def __init__(self, gauge: Gauge, delay: float = 0.01) -> None:
        self.gauge = gauge
        self.delay = delay

    async def start(self, ctx: ProbeContext) -> None:
        pass

    async def check(self, target: Target) -> ProbeResult:
        g = self.gauge
        school = str(target.settings.get("school"))
        g.now += 1
        g.school_now[school] += 1
        g.peak = max(g.peak, g.now)
        g.school_peak[school] = max(g.school_peak[school], g.school_now[school])
        await asyncio.sleep(self.delay)
        g.now -= 1
        g.school_now[school] -= 1
        return result(target)

    async def stop(self) -> None:
        pass


class ScriptedProbe:
    """Returns the statuses of a script in turn (then the last one), or raises/hangs."""

    name = "scripted"

    def __init__(self, script: list[ProbeStatus | str]) -> None:
        self.script = script
        self.calls = 0
        self.started = 0
        self.stopped = 0

    async def start(self, ctx: ProbeContext) -> None:
        self.started += 1

    async def check(self, target: Target) -> ProbeResult:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if step == "raise":
            raise RuntimeError("boom at the device")
        if step == "hang":
            await asyncio.sleep(3600)
        if step == "cancelled":
            raise asyncio.CancelledError
        assert isinstance(step, ProbeStatus)
        return result(target, step, f"scripted {step}")

    async def stop(self) -> None:
        self.stopped += 1


def registry(**probes: Any) -> ProbeRegistry:
    factories: dict[str, Callable[[], Any]] = {n: (lambda p=p: p) for n, p in probes.items()}
    return ProbeRegistry(paths={}, factories=factories)


def job(key: str, probe: str, school: str = "S1", n: int = 1, **kw: Any) -> Job:
    target = Target(address=f"127.0.0.{abs(hash(key)) % 200 + 1}", settings={"school": school})
    return Job(key=key, checks=tuple(Check(probe, target) for _ in range(n)), school=school, **kw)


class ListSink:
    def __init__(self, fail_after: int | None = None) -> None:
        self.results: list[ProbeResult] = []
        self.finished: list[tuple[RunStatus, Mapping[str, Any], str | None]] = []
        self.fail_after = fail_after

    async def add(self, r: ProbeResult, j: Job) -> None:
        if self.fail_after is not None and len(self.results) >= self.fail_after:
            raise OSError("disk full")
        self.results.append(r)

    async def finish(self, status: RunStatus, counts: Mapping[str, Any], note: str | None) -> None:
        self.finished.append((status, counts, note))


def test_global_concurrency_is_bounded() -> None:
    gauge = Gauge()
    runner = Runner(registry(slow=SlowProbe(gauge)), RunnerConfig(concurrency=3, per_school=100))
    jobs = [job(f"D{i}", "slow", school=f"S{i}") for i in range(20)]
    outcome = asyncio.run(runner.run(jobs))
    assert len(outcome.results) == 20
    assert gauge.peak == 3


def test_per_school_concurrency_is_bounded() -> None:
    gauge = Gauge()
    runner = Runner(registry(slow=SlowProbe(gauge)), RunnerConfig(concurrency=10, per_school=2))
    jobs = [job(f"{s}-{i}", "slow", school=s) for s in ("A", "B") for i in range(8)]
    outcome = asyncio.run(runner.run(jobs))
    assert outcome.counts["ok"] == 16
    assert gauge.school_peak == {"A": 2, "B": 2}
    assert gauge.peak == 4


def test_device_deadline_cuts_off_remaining_checks() -> None:
    probe = ScriptedProbe(["hang"])
    cfg = RunnerConfig(probe_timeout_s=30, retries=0)
    jobs = [job("D1", "scripted", n=2, deadline_s=0.1)]
    outcome = asyncio.run(Runner(registry(scripted=probe), cfg).run(jobs))
    first, second = outcome.results
    assert first.status == second.status == ProbeStatus.UNKNOWN
    assert first.reason == "cut off by the device deadline"
    assert second.reason == "device deadline reached before this probe ran"
    assert probe.calls == 1


def test_probe_timeout_is_its_own_reason() -> None:
    probe = ScriptedProbe(["hang"])
    target = Target("127.0.0.1")
    jobs = [Job("D1", (Check("scripted", target, timeout_s=0.05),), deadline_s=30)]
    outcome = asyncio.run(Runner(registry(scripted=probe), RunnerConfig(retries=0)).run(jobs))
    assert outcome.results[0].reason == "probe timed out after 0.05 s"


def test_unknown_is_retried_with_exponential_backoff() -> None:
    probe = ScriptedProbe([ProbeStatus.UNKNOWN, ProbeStatus.UNKNOWN, ProbeStatus.OK])
    pauses: list[float] = []

    async def fake_sleep(s: float) -> None:
        pauses.append(s)

    cfg = RunnerConfig(retries=3, backoff_s=0.5, backoff_factor=2.0)
    runner = Runner(registry(scripted=probe), cfg, sleep=fake_sleep)
    outcome = asyncio.run(runner.run([job("D1", "scripted")]))
    (r,) = outcome.results
    assert r.status == ProbeStatus.OK
    assert r.attempts == 3
    assert pauses == [0.5, 1.0]


def test_retries_stop_at_the_configured_count() -> None:
    probe = ScriptedProbe([ProbeStatus.UNKNOWN])

    async def no_sleep(_s: float) -> None:
        return None

    runner = Runner(registry(scripted=probe), RunnerConfig(retries=2), sleep=no_sleep)
    (r,) = asyncio.run(runner.run([job("D1", "scripted")])).results
    assert (r.status, r.attempts, probe.calls) == (ProbeStatus.UNKNOWN, 3, 3)


def test_crit_and_warn_are_not_retried() -> None:
    probe = ScriptedProbe([ProbeStatus.CRIT])
    (r,) = asyncio.run(
        Runner(registry(scripted=probe), RunnerConfig(retries=5)).run([job("D1", "scripted")])
    ).results
    assert (r.status, r.attempts, probe.calls) == (ProbeStatus.CRIT, 1, 1)


def test_backoff_never_passes_the_deadline() -> None:
    probe = ScriptedProbe([ProbeStatus.UNKNOWN])
    cfg = RunnerConfig(retries=5, backoff_s=10)
    outcome = asyncio.run(
        Runner(registry(scripted=probe), cfg).run([job("D1", "scripted", deadline_s=0.5)])
    )
    assert probe.calls == 1
    assert outcome.results[0].attempts == 1


def test_backoff_schedule_is_capped() -> None:
    cfg = RunnerConfig(backoff_s=1, backoff_factor=3, backoff_max_s=5)
    assert [cfg.backoff(i) for i in (1, 2, 3, 4)] == [1, 3, 5, 5]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"concurrency": 0}, "at least 1"),
        ({"retries": -1}, "negative"),
        ({"probe_timeout_s": 0}, "positive"),
    ],
)
def test_config_rejects_bad_limits(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunnerConfig(**kw)


def test_exception_becomes_unknown_and_the_run_goes_on() -> None:
    bad = ScriptedProbe(["raise"])
    good = ScriptedProbe([ProbeStatus.OK])
    jobs = [job("D1", "bad"), job("D2", "good")]
    outcome = asyncio.run(Runner(registry(bad=bad, good=good), RunnerConfig(retries=0)).run(jobs))
    by_probe = {r.probe: r for r in outcome.results}
    assert by_probe["bad"].status == ProbeStatus.UNKNOWN
    assert by_probe["bad"].reason == "probe failed: RuntimeError: boom at the device"
    assert by_probe["good"].status == ProbeStatus.OK


def test_cancellation_leaking_from_a_probe_is_unknown() -> None:
    leaky = ScriptedProbe(["cancelled"])
    jobs = [job("D1", "leaky", n=2)]
    outcome = asyncio.run(Runner(registry(leaky=leaky), RunnerConfig(retries=0)).run(jobs))
    assert [r.reason for r in outcome.results] == ["probe failed: cancelled inside the probe"] * 2


def test_missing_probe_module_is_unknown_not_a_crash() -> None:
    reg = ProbeRegistry(paths={"snmp": "kape_itops.probes.no_such_module:SnmpProbe"})
    outcome = asyncio.run(Runner(reg).run([job("D1", "snmp"), job("D2", "nosuch")]))
    reasons = sorted(r.reason for r in outcome.results)
    assert all(r.status == ProbeStatus.UNKNOWN for r in outcome.results)
    assert reasons[0].startswith(
        "probe not available: cannot import kape_itops.probes.no_such_module"
    )
    assert reasons[1] == "probe not available: no probe kind 'nosuch'"


def test_probe_that_fails_to_start_is_unknown() -> None:
    class NoStart(ScriptedProbe):
        async def start(self, ctx: ProbeContext) -> None:
            raise OSError("no raw socket")

    outcome = asyncio.run(Runner(registry(x=NoStart([ProbeStatus.OK]))).run([job("D1", "x")]))
    assert outcome.results[0].reason == "probe could not start: OSError: no raw socket"


def test_start_and_stop_bracket_the_run_once() -> None:
    probe = ScriptedProbe([ProbeStatus.OK])
    asyncio.run(Runner(registry(p=probe)).run([job(f"D{i}", "p") for i in range(5)]))
    assert (probe.started, probe.calls, probe.stopped) == (1, 5, 1)


def test_skip_reason_records_unknown_without_probing() -> None:
    probe = ScriptedProbe([ProbeStatus.OK])
    check = Check("p", Target("10.30.1.5"), skip_reason="not in the lab address map")
    outcome = asyncio.run(Runner(registry(p=probe)).run([Job("D1", (check,))]))
    assert outcome.results[0].reason == "not in the lab address map"
    assert probe.calls == 0
    assert probe.started == 0


def test_result_that_is_not_a_probe_result_is_unknown() -> None:
    class Bad(ScriptedProbe):
        async def check(self, target: Target) -> Any:
            return {"status": "ok"}

    outcome = asyncio.run(Runner(registry(b=Bad([]))).run([job("D1", "b")]))
    assert outcome.results[0].reason == "probe returned dict, not a ProbeResult"


def test_completed_run_is_recorded_with_counts() -> None:
    sink = ListSink()
    probe = ScriptedProbe([ProbeStatus.OK, ProbeStatus.WARN])
    outcome = asyncio.run(
        run_jobs(Runner(registry(p=probe)), [job("D1", "p"), job("D2", "p")], sink)
    )
    assert outcome.status == RunStatus.COMPLETED
    assert len(sink.results) == 2
    status, counts, note = sink.finished[0]
    assert status == RunStatus.COMPLETED
    assert counts == {"ok": 1, "warn": 1, "crit": 0, "unknown": 0, "results": 2}
    assert note is None


def test_cancelled_run_is_interrupted_and_keeps_earlier_results() -> None:
    gauge = Gauge()
    sink = ListSink()

    async def main() -> None:
        runner = Runner(registry(slow=SlowProbe(gauge, delay=0.02)), RunnerConfig(concurrency=1))
        task = asyncio.create_task(
            run_jobs(runner, [job(f"D{i}", "slow") for i in range(50)], sink)
        )
        for _ in range(500):
            await asyncio.sleep(0.01)
            if len(sink.results) >= 3:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert 3 <= len(sink.results) < 50
    status, counts, note = sink.finished[0]
    assert status == RunStatus.INTERRUPTED
    assert counts["results"] == len(sink.results)
    assert note == "interrupted (signal)"


def test_crash_is_interrupted_and_propagates_the_error() -> None:
    sink = ListSink(fail_after=2)
    probe = ScriptedProbe([ProbeStatus.OK])
    runner = Runner(registry(p=probe), RunnerConfig(concurrency=1))
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(run_jobs(runner, [job(f"D{i}", "p") for i in range(6)], sink))
    status, counts, note = sink.finished[0]
    assert status == RunStatus.INTERRUPTED
    assert len(sink.results) == counts["results"] == 2
    assert note == "interrupted by an error: OSError: disk full"
    assert probe.stopped == 1


def test_asset_tag_and_probe_name_are_filled_in() -> None:
    from kape_itops.domain.enums import DeviceKind
    from kape_itops.domain.inventory import Device

    device = Device("KAPE-1", DeviceKind.PRINTER, "S1")
    probe = ScriptedProbe([ProbeStatus.OK])
    check = Check("alias", Target("127.0.0.1", port=9100, device=device))
    outcome = asyncio.run(Runner(registry(alias=probe)).run([Job("KAPE-1", (check,))]))
    r = outcome.results[0]
    assert (r.asset_tag, r.probe, r.target) == ("KAPE-1", "alias", "127.0.0.1:9100")
