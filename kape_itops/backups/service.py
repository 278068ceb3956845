"""The backup service: fetch running configurations over SSH, scrub, hash, store versioned.

Per device: connect (host key verified), fetch the platform's backup command, drop volatile
lines, mask secrets, SHA-256; a configuration equal to the newest stored one is recorded as
``unchanged`` (a row without content), never duplicated. Sessions run in a bounded pool of
threads with connect/command timeouts and a per-device deadline, so one hung device never
stalls the run. Each backup run is a row of ``probe_runs`` that the backups point to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kape_itops.domain.backups import BackupOutcome, BackupStatus, ConfigEntry, unified_diff
from kape_itops.domain.enums import DeviceKind, DeviceStatus, RunStatus
from kape_itops.domain.inventory import Device, DeviceFilter
from kape_itops.errors import NotFoundError, SecretsError, UsageError
from kape_itops.probes.addressmap import AddressMap
from kape_itops.probes.profiles import Profiles
from kape_itops.probes.ssh.client import (
    DEFAULT_COMMAND_TIMEOUT_S,
    DEFAULT_CONNECT_TIMEOUT_S,
    SshFailure,
    SshLogin,
    SshOptions,
    connect,
)
from kape_itops.probes.ssh.evaluate import clean_config
from kape_itops.probes.ssh.hostkeys import KnownHosts
from kape_itops.probes.ssh.probe import (
    DEFAULT_CONCURRENCY,
    SshWorkers,
    fetch_config,
    login_for,
)
from kape_itops.probes.ssh.settings import CommandSet, CommandSets
from kape_itops.secrets import SecretStore
from kape_itops.store.backup_repo import BackupRepo
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo

NETWORK_KINDS = (DeviceKind.ROUTER, DeviceKind.SWITCH, DeviceKind.HOTSPOT)
"""Kinds selected by default (when no asset tag is named)."""


@dataclass(frozen=True, slots=True)
class BackupTarget:
    """Where and how to fetch one device's configuration."""

    device: Device
    address: str
    port: int
    commands: CommandSet
    login: SshLogin
    options: SshOptions


@dataclass(slots=True)
class BackupReport:
    """One backup run."""

    run_id: int | None
    outcomes: list[BackupOutcome] = field(default_factory=list)

    def count(self, status: BackupStatus) -> int:
        """How many devices ended in ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass(frozen=True, slots=True)
class BackupSettings:
    """How the service connects."""

    known_hosts: KnownHosts | None
    """None only when the user explicitly disabled host-key checks."""
    login: SshLogin | None = None
    """An explicit login for every device (else each device's credential)."""
    concurrency: int = DEFAULT_CONCURRENCY
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fetch(target: BackupTarget) -> tuple[str | None, SshFailure | None]:
    try:
        session = connect(
            target.address, target.port, target.commands.device_type, target.login, target.options
        )
    except SshFailure as exc:
        return None, exc
    with session:
        try:
            return fetch_config(session, target.commands), None
        except SshFailure as exc:
            return None, exc


class BackupService:
    """Configuration backups of the devices in ``store``."""

    def __init__(
        self,
        store: Store,
        actor: str,
        command_sets: CommandSets,
        settings: BackupSettings,
        *,
        secrets: SecretStore | None = None,
        profiles: Profiles | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self.command_sets = command_sets
        self.settings = settings
        self.secrets = secrets or SecretStore.empty()
        self.profiles = profiles

    # -- selection -------------------------------------------------------------------------
    def _ssh_settings(self, device: Device) -> Mapping[str, Any]:
        if self.profiles is None:
            return {}
        return self.profiles.settings_for(device, "ssh")

    def targets(
        self, flt: DeviceFilter, address_map: AddressMap | None = None
    ) -> tuple[list[BackupTarget], list[BackupOutcome]]:
        """The devices to back up, and those skipped with the reason."""
        if not flt.tags and not flt.kinds:
            flt = DeviceFilter(
                schools=flt.schools, kinds=NETWORK_KINDS, statuses=flt.statuses, tags=flt.tags
            )
        with self.store.session() as s:
            repo = InventoryRepo(s)
            if flt.tags:
                found = repo.devices_by_tag(list(flt.tags))
                missing = [t for t in flt.tags if t not in found]
                if missing:
                    raise NotFoundError(f"no device with asset tag {', '.join(missing)}")
            devices = list(repo.iter_devices(flt))
            school_creds = {sc.code: sc.credential for sc in repo.schools()}
        targets: list[BackupTarget] = []
        skipped: list[BackupOutcome] = []

        def skip(d: Device, why: str) -> None:
            skipped.append(BackupOutcome(d.asset_tag, BackupStatus.SKIPPED, why))

        for d in devices:
            if d.status in (DeviceStatus.RETIRED, DeviceStatus.LOST):
                skip(d, f"status {d.status}")
                continue
            if d.probes and "ssh" not in d.probes and d.asset_tag not in flt.tags:
                skip(d, "SSH is not among the device's probes (name it with --tag to force)")
                continue
            settings = self._ssh_settings(d)
            cs = self.command_sets.for_device(d, settings.get("platform"))
            if cs is None:
                skip(
                    d,
                    "no SSH platform: set the inventory 'platform' ("
                    + ", ".join(self.command_sets.names)
                    + ")",
                )
                continue
            if cs.backup is None:
                skip(d, f"platform {cs.platform} has no backup command")
                continue
            address = d.ip or d.hostname
            if not address:
                skip(d, "no IP address or host name in the inventory")
                continue
            port = int(settings.get("port") or 22)
            if address_map is not None:
                mapped = address_map.lookup(address)
                if mapped is None:
                    skip(d, f"address {address} is not in the lab address map; not contacted")
                    continue
                address, port = mapped.address, int(mapped.ports.get("ssh", port))
            try:
                login = login_for(
                    self.secrets, d.credential or school_creds.get(d.school), self.settings.login
                )
            except SecretsError as exc:
                skip(d, str(exc))
                continue
            if login is None:
                skip(d, "no SSH credential: set the device's or the school's 'credential'")
                continue
            options = SshOptions(
                self.settings.known_hosts,
                float(settings.get("connect_timeout_s", self.settings.connect_timeout_s)),
                float(settings.get("command_timeout_s", self.settings.command_timeout_s)),
            )
            targets.append(BackupTarget(d, address, port, cs, login, options))
        return targets, skipped

    # -- the run ---------------------------------------------------------------------------
    async def run(
        self,
        flt: DeviceFilter,
        address_map: AddressMap | None = None,
        on_outcome: Callable[[BackupOutcome], None] | None = None,
    ) -> BackupReport:
        """Back up every selected device; outcomes in completion order."""
        targets, skipped = await asyncio.to_thread(self.targets, flt, address_map)
        report = BackupReport(None, list(skipped))
        if not targets:
            return report
        selection = {
            "backup": True,
            "schools": list(flt.schools),
            "tags": list(flt.tags),
            "lab": address_map.source if address_map else None,
        }
        with self.store.write() as s:
            report.run_id = ProbeRepo(s).start_run(self.actor, selection)
        workers = SshWorkers(self.settings.concurrency)
        write_lock = asyncio.Lock()
        status = RunStatus.INTERRUPTED
        try:

            async def one(t: BackupTarget) -> None:
                outcome = await self._one(t, workers, write_lock, report.run_id)
                report.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)

            await asyncio.gather(*(one(t) for t in targets))
            status = RunStatus.COMPLETED
        finally:
            workers.close()
            counts = {s.value: report.count(s) for s in BackupStatus}
            with self.store.write() as s:
                ProbeRepo(s).finish_run(report.run_id, status, counts, "ssh backup")
        return report

    async def _one(
        self, t: BackupTarget, workers: SshWorkers, lock: asyncio.Lock, run_id: int | None
    ) -> BackupOutcome:
        tag = t.device.asset_tag
        t0 = time.perf_counter()
        deadline = t.options.connect_timeout_s * 3 + t.options.command_timeout_s * 3 + 10

        def elapsed() -> float:
            return (time.perf_counter() - t0) * 1000

        try:
            raw, failure = await asyncio.wait_for(workers.run(_fetch, t), deadline)
        except TimeoutError:
            reason = f"no answer within the {deadline:g} s device deadline"
            return BackupOutcome(tag, BackupStatus.FAILED, reason, duration_ms=elapsed())
        if failure is not None or raw is None:
            why = failure.message if failure else "no output"
            return BackupOutcome(tag, BackupStatus.FAILED, why, duration_ms=elapsed())
        clean = clean_config(raw, t.commands)
        if not clean.text.strip():
            reason = f"'{t.commands.backup.command if t.commands.backup else ''}' returned nothing"
            return BackupOutcome(tag, BackupStatus.FAILED, reason, duration_ms=elapsed())
        async with lock:
            changed, version, first = await asyncio.to_thread(
                self._store, tag, clean.sha256, clean.text, run_id
            )
        status = (
            BackupStatus.FIRST
            if first
            else BackupStatus.CHANGED
            if changed
            else BackupStatus.UNCHANGED
        )
        reason = {
            BackupStatus.FIRST: f"first version stored ({clean.masked} secret value(s) masked)",
            BackupStatus.CHANGED: f"changed: version {version} stored",
            BackupStatus.UNCHANGED: f"unchanged since version {version}",
        }[status]
        return BackupOutcome(
            tag, status, reason, clean.sha256, version, clean.masked, duration_ms=elapsed()
        )

    def _store(self, tag: str, sha: str, text: str, run_id: int | None) -> tuple[bool, int, bool]:
        with self.store.write() as s:
            repo = BackupRepo(s)
            device_id = repo.device_id(tag)
            if device_id is None:
                raise NotFoundError(f"device '{tag}' disappeared during the backup")
            first = repo.latest_sha(device_id) is None
            changed = repo.record(device_id, _now(), sha, text, run_id)
            version = repo.history(tag)[-1].version
        return changed, version, first

    # -- reading ---------------------------------------------------------------------------
    def history(self, tag: str) -> list[ConfigEntry]:
        """Every backup of a device, oldest first."""
        with self.store.session() as s:
            repo = BackupRepo(s)
            if repo.device_id(tag) is None:
                raise NotFoundError(f"no device with asset tag '{tag}'")
            return repo.history(tag)

    def diff(
        self,
        tag: str,
        from_ref: str | None = None,
        to_ref: str | None = None,
        tz: dt.tzinfo = dt.UTC,
    ) -> tuple[ConfigEntry, ConfigEntry, str]:
        """The unified diff between two stored versions (default: the last two).

        A date/time reference without an offset is read in ``tz``.
        """
        with self.store.session() as s:
            repo = BackupRepo(s)
            if repo.device_id(tag) is None:
                raise NotFoundError(f"no device with asset tag '{tag}'")
            versions = [e for e in repo.history(tag, with_content=True) if e.changed]
        if not versions:
            raise NotFoundError(f"no configuration backup of '{tag}' yet: run 'itops ssh backup'")
        new = pick_version(versions, to_ref, "--to", tz) if to_ref else versions[-1]
        if from_ref:
            old = pick_version(versions, from_ref, "--from", tz)
        else:
            older = [v for v in versions if v.version < new.version]
            if not older:
                raise UsageError(
                    f"'{tag}' has only version {new.version} up to there; nothing to compare "
                    "(give --from)"
                )
            old = older[-1]
        return old, new, unified_diff(old, new)


def pick_version(
    versions: list[ConfigEntry], ref: str, option: str, tz: dt.tzinfo = dt.UTC
) -> ConfigEntry:
    """A version by number (``3``/``v3``) or the newest at or before a date or time.

    A date or time without an offset is read in ``tz``; a date means the end of that day.
    """
    text = ref.strip()
    m = re.fullmatch(r"v?(\d{1,9})", text, re.I)
    if m:
        n = int(m.group(1))
        for v in versions:
            if v.version == n:
                return v
        raise UsageError(f"{option} {ref}: no version {n} (versions 1..{versions[-1].version})")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"{option} {ref[:40] + ('…' if len(ref) > 40 else '')!r}: expected a version number (3, v3) or a date/time "
            "(2026-11-29, 2026-11-29T08:00)"
        ) from exc
    if len(text) == 10:  # the end of that day (no day after 9999-12-31 is needed)
        when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    before = [v for v in versions if v.taken_at <= when]
    if not before:
        raise UsageError(f"{option} {ref}: no version stored at or before {when.isoformat()}")
    return before[-1]
