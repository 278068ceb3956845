"""The SSH probe: health commands over netmiko, read into metrics, judged by thresholds.

The rules that judge a session's results are in :mod:`.evaluate`; this module opens sessions.

netmiko blocks, so each device's session runs in a worker thread; a semaphore of the same size
as the pool bounds how many sessions are open at once, and every session has connect and
command timeouts (so a device that hangs costs at most those, and never stalls the run).

``Target.settings`` (the ``ssh`` section of a kind profile, with overrides) may hold:
``platform`` (command set name, else the device's platform or manufacturer), ``port``,
``connect_timeout_s``, ``command_timeout_s``, ``checks`` (names to run; default all),
``thresholds`` (over the command set's), ``config_hash`` (also hash the scrubbed running
configuration: ``config_sha256``/``config_changed``), ``known_hosts`` (file) and ``trust_new``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ConfigError, ProbeError, SecretsError
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.ssh.client import (
    DEFAULT_COMMAND_TIMEOUT_S,
    DEFAULT_CONNECT_TIMEOUT_S,
    SshFailure,
    SshLogin,
    SshOptions,
    SshSession,
    connect,
    login_from_credential,
)
from kape_itops.probes.ssh.evaluate import Collected, clean_config, evaluate
from kape_itops.probes.ssh.hostkeys import KnownHosts
from kape_itops.probes.ssh.parse import ParseFailed, interpret
from kape_itops.probes.ssh.settings import (
    CommandSet,
    CommandSets,
    default_probes_dir,
    load_command_sets,
)
from kape_itops.secrets import SecretStore

DEFAULT_CONCURRENCY = 16
RAW_LIMIT = 4000
T = TypeVar("T")


class SshWorkers:
    """A bounded pool of threads for blocking SSH sessions, used from asyncio."""

    def __init__(self, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if concurrency < 1:
            raise ProbeError("SSH concurrency must be at least 1")
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="itops-ssh")
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker once a slot is free."""
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        """Stop accepting work; running sessions end by their own timeouts."""
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class SshJob:
    """Everything one device's session needs, resolved before the thread starts."""

    host: str
    port: int
    commands: CommandSet
    login: SshLogin
    options: SshOptions
    checks: tuple[str, ...] = ()
    config_hash: bool = False


def collect(job: SshJob) -> Collected:
    """Open a session, run the health commands and read them (blocking; runs in a thread)."""
    out = Collected()
    try:
        session = connect(job.host, job.port, job.commands.device_type, job.login, job.options)
    except SshFailure as exc:
        out.failure = exc
        return out
    with session:
        try:
            _run_checks(session, job, out)
            if job.config_hash and job.commands.backup is not None:
                out.config = fetch_config(session, job.commands)
        except SshFailure as exc:
            out.failure = exc
    return out


def _run_checks(session: SshSession, job: SshJob, out: Collected) -> None:
    cs = job.commands
    if cs.enable:
        session.enable()
    for hc in cs.checks:
        if job.checks and hc.name not in job.checks:
            continue
        text = session.run(hc.command, hc.timeout_s)
        try:
            out.metrics.update(interpret(hc.parser, hc.reads, cs.device_type, hc.command, text))
        except ParseFailed as exc:
            out.unreadable.append(f"'{hc.command}' ({exc})")
            out.raw[hc.command] = text[:RAW_LIMIT]


def fetch_config(session: SshSession, commands: CommandSet) -> str:
    """The running configuration as the device prints it (enable mode entered if needed)."""
    if commands.backup is None:
        raise ConfigError(f"platform {commands.platform} has no backup command")
    if commands.enable:
        session.enable()
    return session.run(commands.backup.command, commands.backup.timeout_s)


def login_for(
    secrets: SecretStore, credential: str | None, override: SshLogin | None
) -> SshLogin | None:
    """The explicit login, else the named ``[name.ssh]`` credential, else None."""
    if override is not None:
        return override
    if credential is None:
        return None
    return login_from_credential(secrets.credential(credential, "ssh"))


class SshProbe:
    """Probe kind ``ssh`` (see the module docstring for the settings it reads)."""

    name = "ssh"

    def __init__(
        self,
        *,
        probes_dir: Path | None = None,
        command_sets: CommandSets | None = None,
        known_hosts: KnownHosts | None = None,
        insecure_no_host_key_check: bool = False,
        login: SshLogin | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._probes_dir = probes_dir
        self.command_sets = command_sets
        self._known_hosts = known_hosts
        self._insecure = insecure_no_host_key_check
        self._login = login
        self._concurrency = concurrency
        self._ctx = ProbeContext()
        self._workers: SshWorkers | None = None

    async def start(self, ctx: ProbeContext) -> None:
        """Load the command sets and start the worker pool."""
        self._ctx = ctx
        if self.command_sets is None:
            try:
                self.command_sets = load_command_sets(self._probes_dir or default_probes_dir())
            except ConfigError as exc:
                raise ProbeError(str(exc)) from exc
        self._workers = SshWorkers(self._concurrency)

    async def stop(self) -> None:
        """Stop the worker pool."""
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def _known_hosts_for(self, settings: Mapping[str, Any]) -> KnownHosts | None:
        if self._insecure:
            return None
        if self._known_hosts is not None:
            return self._known_hosts
        path = settings.get("known_hosts")
        return KnownHosts(
            Path(str(path)) if path else None, trust_new=bool(settings.get("trust_new", False))
        )

    def plan(self, target: Target) -> SshJob | str:
        """The session to open for ``target``, or why it cannot be probed."""
        assert self.command_sets is not None, "start() first"
        s = target.settings
        override = s.get("platform")
        if target.device is not None:
            cs = self.command_sets.for_device(target.device, override)
        else:
            cs = self.command_sets.find(override)
        if cs is None:
            return (
                "no SSH platform for this device: set its inventory 'platform' to one of "
                + ", ".join(self.command_sets.names)
            )
        try:
            login = login_for(self._ctx.secrets, target.credential, self._login)
        except SecretsError as exc:
            return str(exc)
        if login is None:
            return "no SSH credential: set the device's or the school's 'credential'"
        options = SshOptions(
            self._known_hosts_for(s),
            float(s.get("connect_timeout_s", DEFAULT_CONNECT_TIMEOUT_S)),
            float(s.get("command_timeout_s", DEFAULT_COMMAND_TIMEOUT_S)),
        )
        return SshJob(
            host=target.address,
            port=int(target.port or s.get("port") or 22),
            commands=cs,
            login=login,
            options=options,
            checks=tuple(s.get("checks") or ()),
            config_hash=bool(s.get("config_hash", False)),
        )

    async def check(self, target: Target) -> ProbeResult:
        """Run the health commands of one device; never raises for the device's fault."""
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        job = self.plan(target)
        asset = target.device.asset_tag if target.device is not None else None
        if isinstance(job, str):
            return ProbeResult(
                self.name,
                target.label,
                ProbeStatus.UNKNOWN,
                job,
                started,
                (time.perf_counter() - t0) * 1000,
                {},
                "ssh",
                asset,
            )
        if self._workers is None:
            raise ProbeError("SshProbe.check() called before start()")
        collected = await self._workers.run(collect, job)
        if collected.config is not None:
            collected.config = clean_config(collected.config, job.commands).sha256
        thresholds = {**job.commands.thresholds, **dict(target.settings.get("thresholds") or {})}
        status, reason, metrics = evaluate(collected, thresholds, target.previous)
        metrics["platform"] = job.commands.platform
        return ProbeResult(
            probe=self.name,
            target=f"{job.host}:{job.port}",
            status=status,
            reason=reason,
            started_at=started,
            duration_ms=(time.perf_counter() - t0) * 1000,
            metrics=metrics,
            method=f"ssh {job.commands.device_type}",
            asset_tag=asset,
        )
