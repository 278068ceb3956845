"""Inventory-driven probe runs: select devices, run them, store every result as it comes.

:class:`ProbeService` is what ``itops probe run`` calls; :func:`run_rounds` adds ``--every``
and the signal handling: a single run is cancelled by Ctrl-C/SIGTERM (the run is stored as
``interrupted`` with every result measured so far); with ``--every`` the first signal lets the
current round finish (for at most ``grace_s``) and a second one interrupts it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeKind, RunStatus
from kape_itops.domain.inventory import Device, DeviceFilter
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import UsageError
from kape_itops.probes.addressmap import AddressMap, load_address_map
from kape_itops.probes.base import ProbeContext, Target, check_once
from kape_itops.probes.profiles import Profiles
from kape_itops.probes.ratelimit import make_budget
from kape_itops.probes.registry import ProbeRegistry, ProbeUnavailable
from kape_itops.probes.runner import Job, OnResult, Runner, RunnerConfig, RunOutcome, run_jobs
from kape_itops.probes.selection import Plan, build_plan
from kape_itops.reports import retention
from kape_itops.secrets import SecretStore
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo

PROBED_STATUSES = tuple(
    s for s in DeviceStatus if s not in (DeviceStatus.RETIRED, DeviceStatus.LOST)
)


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to probe: an inventory selection, optionally narrowed to some probe kinds."""

    schools: tuple[str, ...] = ()
    kinds: tuple[DeviceKind, ...] = ()
    tags: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    lab_state: Path | None = None
    include_undeployed: bool = False
    """Also probe devices in stock or in repair (those named in ``tags`` always are)."""

    def selection(self) -> dict[str, Any]:
        """The request as stored on the run row."""
        return {
            "schools": list(self.schools),
            "kinds": [k.value for k in self.kinds],
            "tags": list(self.tags),
            "only": list(self.only),
            "lab": str(self.lab_state) if self.lab_state else None,
            "include_undeployed": self.include_undeployed,
        }


@dataclass(slots=True)
class RunReport:
    """One finished (or interrupted) run."""

    run_id: int
    status: RunStatus
    plan: Plan
    results: list[ProbeResult] = field(default_factory=list)
    devices: dict[str, Device] = field(default_factory=dict)

    @property
    def outcome(self) -> RunOutcome:
        """The results as a runner outcome (counts, overall status)."""
        return RunOutcome(status=self.status, results=self.results)


class StoreRecorder:
    """Writes results in a worker thread as they arrive, so the event loop never blocks."""

    def __init__(self, store: Store, run_id: int, device_ids: Mapping[str, int]) -> None:
        self.store = store
        self.run_id = run_id
        self.device_ids = dict(device_ids)
        self.written = 0
        self._queue: asyncio.Queue[tuple[ProbeResult, int | None] | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def _write(self, batch: Sequence[tuple[ProbeResult, int | None]]) -> None:
        if batch:
            with self.store.write() as s:
                ProbeRepo(s).add_results(self.run_id, batch)
            self.written += len(batch)

    async def _drain(self) -> None:
        while True:
            item = await self._queue.get()
            batch: list[tuple[ProbeResult, int | None]] = []
            done = item is None
            if item is not None:
                batch.append(item)
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    done = True
                else:
                    batch.append(more)
            await asyncio.to_thread(self._write, batch)
            if done:
                return

    async def add(self, result: ProbeResult, job: Job) -> None:
        """Queue one result for writing."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        self._queue.put_nowait((result, self.device_ids.get(job.key)))

    async def finish(self, status: RunStatus, counts: Mapping[str, Any], note: str | None) -> None:
        """Write what is queued, then close the run (works inside a cancelled task too)."""
        error: BaseException | None = None
        if self._writer is not None:
            self._queue.put_nowait(None)
            try:
                await asyncio.shield(self._writer)
            except asyncio.CancelledError:
                pass
            except Exception as exc:
                error = exc
        rest: list[tuple[ProbeResult, int | None]] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                rest.append(item)
        self._write(rest)
        with self.store.write() as s:
            ProbeRepo(s).finish_run(self.run_id, status, counts, note)
        if error is not None:
            raise error


class ProbeService:
    """Probe runs over the inventory in ``store``, recorded as ``actor``."""

    def __init__(
        self,
        store: Store,
        actor: str,
        profiles: Profiles,
        *,
        registry: ProbeRegistry | None = None,
        config: RunnerConfig | None = None,
        secrets: SecretStore | None = None,
        pps: float | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self.profiles = profiles
        self.registry = registry or ProbeRegistry.default()
        self.config = config or RunnerConfig()
        self.secrets = secrets or SecretStore.empty()
        self.pps = pps
        self.last_run_id: int | None = None

    def known_probes(self) -> list[str]:
        """Every probe kind a run may name in ``only``."""
        return sorted({*self.registry.names, *(p.value for p in ProbeKind)})

    def validate(self, request: RunRequest) -> None:
        """UsageError naming unknown schools, asset tags or probe kinds."""
        unknown_probes = [p for p in request.only if p not in self.known_probes()]
        if unknown_probes:
            raise UsageError(
                f"unknown probe kind(s) {', '.join(unknown_probes)}; "
                f"choose from {', '.join(self.known_probes())}"
            )
        with self.store.session() as s:
            repo = InventoryRepo(s)
            codes = {sc.code for sc in repo.schools()}
            missing = [c for c in request.schools if c not in codes]
            if missing:
                raise UsageError(f"no school with code {', '.join(missing)}")
            if request.tags:
                found = repo.devices_by_tag(list(request.tags))
                absent = [t for t in request.tags if t not in found]
                if absent:
                    raise UsageError(f"no device with asset tag {', '.join(absent)}")

    def address_map(self, request: RunRequest) -> AddressMap | None:
        """The lab's address map when the request names a state file."""
        return load_address_map(request.lab_state) if request.lab_state else None

    def prepare(self, request: RunRequest) -> tuple[Plan, dict[str, Device], dict[str, int]]:
        """The plan (with previous results filled in), devices by tag and their ids."""
        self.validate(request)
        amap = self.address_map(request)
        flt = DeviceFilter(
            schools=request.schools,
            kinds=request.kinds,
            tags=request.tags,
            statuses=PROBED_STATUSES,
        )
        with self.store.session() as s:
            repo = InventoryRepo(s)
            devices = list(repo.iter_devices(flt))
            creds = {sc.code: sc.credential for sc in repo.schools()}
        only = list(request.only) or None
        undeployed, named = request.include_undeployed, request.tags
        draft = build_plan(
            devices,
            self.profiles,
            only=only,
            school_credentials=creds,
            include_undeployed=undeployed,
            named=named,
        )
        tags = [j.key for j in draft.jobs]
        probes = sorted({c.probe for j in draft.jobs for c in j.checks})
        with self.store.session() as s:
            prepo = ProbeRepo(s)
            previous = prepo.latest_results(probes, tags) if tags else {}
            ids = prepo.device_ids(tags)
        plan = build_plan(
            devices,
            self.profiles,
            only=only,
            address_map=amap,
            previous=previous,
            school_credentials=creds,
            include_undeployed=undeployed,
            named=named,
        )
        return plan, {d.asset_tag: d for d in devices}, ids

    def context(self) -> ProbeContext:
        """The context shared by the probes of one run."""
        return ProbeContext(secrets=self.secrets, budget=make_budget(self.pps), pps=self.pps)

    async def run(
        self,
        request: RunRequest,
        on_result: OnResult | None = None,
        on_plan: Callable[[Plan], None] | None = None,
    ) -> RunReport:
        """Probe the selection; every result is stored as it completes.

        On cancellation the run is stored as interrupted and CancelledError propagates;
        :attr:`last_run_id` names the run either way.
        """
        self.last_run_id = None
        plan, devices, ids = await asyncio.to_thread(self.prepare, request)
        if on_plan is not None:
            on_plan(plan)
        with self.store.write() as s:
            repo = ProbeRepo(s)
            repo.close_orphans()
            run_id = repo.start_run(self.actor, request.selection())
        self.last_run_id = run_id
        recorder = StoreRecorder(self.store, run_id, ids)
        runner = Runner(self.registry, self.config, self.context())
        outcome = await run_jobs(runner, plan.jobs, recorder, on_result)
        return RunReport(run_id, outcome.status, plan, outcome.results, devices)

    def latest(self, probes: Sequence[str] | None = None) -> list[tuple[ProbeResult, Device]]:
        """The newest stored result per (device, probe) of every device, with the device."""
        names = list(probes) if probes is not None else self.known_probes()
        with self.store.session() as s:
            devices = {d.asset_tag: d for d in InventoryRepo(s).iter_devices()}
            latest = ProbeRepo(s).latest_results(names)
        return [
            (result, devices[tag])
            for (tag, _probe), result in sorted(latest.items())
            if tag in devices
        ]


    def after_round(self) -> None:
        """Roll results up and prune old raw ones with the default retention (after a round)."""
        retention.after_run(self.store)


async def check_target(
    name: str,
    target: Target,
    secrets: SecretStore | None = None,
    *,
    timeout_s: float = 2.0,
    registry: ProbeRegistry | None = None,
) -> ProbeResult:
    """Probe one target once with the registry's probe kind ``name`` (nothing is stored).

    UsageError when this installation cannot make that probe (unknown kind, missing library).
    """
    try:
        probe = (registry or ProbeRegistry.default()).create(name)
    except ProbeUnavailable as exc:
        raise UsageError(str(exc)) from exc
    ctx = ProbeContext(secrets=secrets or SecretStore.empty(), timeout_s=timeout_s)
    return await check_once(probe, ctx, target)


RoundDone = Callable[[RunReport | None, int | None], None]
"""Called after each round: the report, or None and the run id when it was interrupted."""


async def run_rounds(
    service: ProbeService,
    request: RunRequest,
    *,
    every_s: float | None = None,
    grace_s: float = 30.0,
    max_rounds: int | None = None,
    on_result: OnResult | None = None,
    on_round: RoundDone | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
) -> int:
    """One run, or rounds every ``every_s`` seconds until a signal (or ``max_rounds``).

    Each round's report goes to ``on_round`` (None for an interrupted round) and is not kept,
    so a long ``--every`` loop does not grow. Returns the number of rounds.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    current: asyncio.Task[RunReport] | None = None
    received = 0

    def cancel_current() -> None:
        if current is not None and not current.done():
            current.cancel()

    def on_signal() -> None:
        nonlocal received
        received += 1
        stop.set()
        if every_s is None or received > 1:
            cancel_current()
        else:
            loop.call_later(grace_s, cancel_current)

    installed: list[signal.Signals] = []
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    rounds = 0
    try:
        while True:
            began = time.monotonic()
            current = asyncio.create_task(service.run(request, on_result, on_plan))
            try:
                report: RunReport | None = await current
            except asyncio.CancelledError:
                if not current.cancelled() or not stop.is_set():
                    raise
                report = None
            rounds += 1
            if on_round is not None:
                on_round(report, service.last_run_id)
            if every_s is None or stop.is_set():
                break
            if max_rounds is not None and rounds >= max_rounds:
                break
            pause = max(0.0, every_s - (time.monotonic() - began))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            if stop.is_set():
                break
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return rounds
