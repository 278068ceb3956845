"""The SNMP health probe: profile-driven GETs and column walks, judged by the checks table.

Credentials come by reference: ``Target.credential`` names a ``[name.snmp]`` entry of the
secrets file, else ``ITOPS_SNMP_COMMUNITY`` gives a v2c community. They are handed to the
client only; results, reasons and metrics never contain them. A device that does not answer,
answers with an authentication error or runs past its deadline gives an ``unknown`` result
with the reason, never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kape_itops.datafiles import DataDir
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ConfigError
from kape_itops.probes.base import ProbeContext, Target
from kape_itops.probes.snmp.checks import CHECKS, FIRST
from kape_itops.probes.snmp.checks.base import Answer, Context, Outcome
from kape_itops.probes.snmp.checks.system import cross_check
from kape_itops.probes.snmp.client import (
    Endpoint,
    SnmpAuth,
    SnmpClient,
    SnmpFailure,
    auth_from_credential,
)
from kape_itops.probes.snmp.settings import ProfileSet, SnmpProfile, load_profiles
from kape_itops.probes.snmp.values import Kind, Value
from kape_itops.secrets import SecretStore, env_secret

__all__ = ["COMMUNITY_ENV", "DEFAULT_PROFILE", "PROTOCOL", "SnmpProbe", "resolve_auth"]

PROTOCOL = "snmp"
COMMUNITY_ENV = "ITOPS_SNMP_COMMUNITY"
DEFAULT_PORT = 161
DEFAULT_PROFILE: dict[DeviceKind, str] = {
    DeviceKind.PRINTER: "printer",
    DeviceKind.SWITCH: "switch",
    DeviceKind.ROUTER: "router",
    DeviceKind.HOTSPOT: "hotspot",
    DeviceKind.NVR: "nvr",
    DeviceKind.UPS: "ups",
    DeviceKind.DESKTOP: "host",
    DeviceKind.LAPTOP: "host",
}


CARRIED = ("uptime_ticks", "uptime_wraps", "if_counters", "sampled_at")
"""What a failed check keeps from the last good one, so the next good check still sees
reboots and counter deltas across the gap."""


def baseline(previous: ProbeResult | None) -> tuple[Mapping[str, Any] | None, dt.datetime | None]:
    """The previous counters and when they were sampled (a failed result carries them)."""
    if previous is None:
        return None, None
    at = previous.started_at
    sampled = previous.metrics.get("sampled_at")
    if isinstance(sampled, str):
        with contextlib.suppress(ValueError):
            at = dt.datetime.fromisoformat(sampled)
    return previous.metrics, at


def carry_forward(previous: ProbeResult | None) -> dict[str, Any]:
    """The baseline of the previous result, for a result that measured nothing."""
    if previous is None or "uptime_ticks" not in previous.metrics:
        return {}
    kept = {k: previous.metrics[k] for k in CARRIED if k in previous.metrics}
    kept.setdefault("sampled_at", previous.started_at.isoformat())
    return kept


class CredentialMissing(Exception):
    """No usable SNMP credential for a target (becomes an ``unknown`` result)."""


def resolve_auth(target: Target, secrets: SecretStore) -> SnmpAuth:
    """The target's credential reference, else ``ITOPS_SNMP_COMMUNITY`` as v2c."""
    if target.credential:
        cred = secrets.credential(target.credential, PROTOCOL)
        try:
            return auth_from_credential(cred)
        except ValueError as exc:
            raise ConfigError(f"credential '{target.credential}' [{PROTOCOL}]: {exc}") from exc
    community = env_secret(COMMUNITY_ENV)
    if community is not None:
        return SnmpAuth(version="2c", community=community)
    raise CredentialMissing(
        f"no SNMP credential: give the device or school a credential, use --credential, "
        f"or set {COMMUNITY_ENV}"
    )


class SnmpProbe:
    """SNMP v1/v2c/v3 health of one device per :meth:`check`; one client per run."""

    name = PROTOCOL

    def __init__(self, profiles_dir: Path | DataDir | None = None) -> None:
        self._profiles_dir = profiles_dir
        self._profiles: ProfileSet | None = None
        self._client = SnmpClient()
        self._ctx = ProbeContext()

    async def start(self, ctx: ProbeContext) -> None:
        """Open the run's dispatcher; profiles are loaded once, on first use."""
        self._ctx = ctx
        await self._client.start()

    async def stop(self) -> None:
        """Close the run's sockets."""
        await self._client.close()

    def _profile(self, target: Target) -> SnmpProfile:
        settings = target.settings
        directory = settings.get("profiles_dir")
        if self._profiles is None or (
            directory and Path(str(directory)) != self._profiles.directory
        ):
            self._profiles = load_profiles(
                Path(str(directory)) if directory else self._profiles_dir
            )
        name = settings.get("profile")
        if not name:
            kind = target.device.kind if target.device is not None else None
            name = DEFAULT_PROFILE.get(kind, "base") if kind is not None else "base"
        return self._profiles.get(str(name)).with_settings(settings)

    async def check(self, target: Target) -> ProbeResult:
        """Probe one target; every device fault is a result."""
        started = dt.datetime.now(dt.UTC)
        t0 = time.monotonic()
        method: str | None = None
        metrics: dict[str, Any] = {}
        deadline = 0.0
        try:
            profile = self._profile(target)
            auth = resolve_auth(target, self._ctx.secrets)
            method = f"snmp {auth.describe()}"
            ep = Endpoint(
                target.address,
                target.port or DEFAULT_PORT,
                timeout_s=profile.timeout_s,
                retries=profile.retries,
            )
            metrics["profile"] = profile.name
            deadline = profile.deadline_s
            async with asyncio.timeout(deadline):
                outcome = await self._measure(ep, auth, profile, target, started)
            status, reason = outcome.status, outcome.reason
            metrics.update(outcome.metrics)
            metrics["findings"] = [f"{f.status.value}: {f.text}" for f in outcome.findings]
        except TimeoutError:
            status = ProbeStatus.UNKNOWN
            reason = (
                f"no complete answer within the deadline of {deadline:g} s "
                f"({target.address}:{target.port or DEFAULT_PORT})"
            )
            metrics["error"] = "deadline"
        except SnmpFailure as exc:
            status, reason = ProbeStatus.UNKNOWN, exc.message
            metrics["error"] = exc.kind
        except (CredentialMissing, ConfigError) as exc:
            status, reason = ProbeStatus.UNKNOWN, str(exc)
            metrics["error"] = "config"
        if "error" in metrics:
            metrics.update(carry_forward(target.previous))
        return ProbeResult(
            probe=PROTOCOL,
            target=target.label,
            status=status,
            reason=reason,
            started_at=started,
            duration_ms=(time.monotonic() - t0) * 1000,
            metrics=metrics,
            method=method,
            asset_tag=target.device.asset_tag if target.device is not None else None,
        )

    async def _measure(
        self,
        ep: Endpoint,
        auth: SnmpAuth,
        profile: SnmpProfile,
        target: Target,
        now: dt.datetime,
    ) -> Outcome:
        """The system GET, then one walk and one GET for the profile's other checks."""
        out = Outcome()
        prev_metrics, prev_at = baseline(target.previous)
        out.metrics["sampled_at"] = now.isoformat()
        ctx = Context(profile.sections, profile.thresholds, now, prev_metrics, prev_at)
        first = CHECKS[FIRST]
        asked = _oids(first.ask(ctx, out.metrics).get)
        got = await self._client.get(ep, auth, list(asked.values()))
        first.judge(ctx, Answer(_pick(asked, got), asked), out)

        runs = [(n, c) for n, c in CHECKS.items() if n != FIRST and n in profile.checks]
        asks = {name: check.ask(ctx, out.metrics) for name, check in runs}
        columns = {f"{n}.{k}": o for n, a in asks.items() for k, o in _oids(a.walk).items()}
        scalars = {f"{n}.{k}": o for n, a in asks.items() for k, o in _oids(a.get).items()}
        walked: dict[str, list[tuple[str, Value]]] = {}
        if columns:
            by_oid = await self._client.walk(
                ep, auth, list(columns.values()), profile.max_repetitions, profile.max_rows
            )
            walked = {key: by_oid.get(oid, []) for key, oid in columns.items()}
        got = {}
        if scalars:
            got = await self._client.get(ep, auth, list(dict.fromkeys(scalars.values())))
        for name, check in runs:
            check.judge(ctx, _answer(name + ".", scalars, got, columns, walked), out)

        if target.device is not None:
            cross_check(
                out.metrics.get("sys_name"),
                out.metrics.get("serial"),
                target.device.hostname,
                target.device.serial,
                out,
            )
        return out


def _oids(asked: Mapping[str, str]) -> dict[str, str]:
    """Asked OIDs without the leading dot a profile may write."""
    return {key: str(oid).strip(".") for key, oid in asked.items()}


def _pick(asked: Mapping[str, str], got: Mapping[str, Value]) -> dict[str, Value]:
    """The answer to each asked scalar (noSuchObject when the agent left it out)."""
    return {key: got.get(oid, Value(Kind.NO_SUCH_OBJECT)) for key, oid in asked.items()}


def _answer(
    prefix: str,
    scalars: Mapping[str, str],
    got: Mapping[str, Value],
    columns: Mapping[str, str],
    walked: Mapping[str, list[tuple[str, Value]]],
) -> Answer:
    """One check's share of the run's GET and walk, keyed as it asked."""
    n = len(prefix)
    asked = {k[n:]: oid for k, oid in scalars.items() if k.startswith(prefix)}
    return Answer(
        scalars=_pick(asked, got),
        oids=asked,
        walked={k[n:]: rows for k, rows in walked.items() if k.startswith(prefix)},
        bases={k[n:]: oid for k, oid in columns.items() if k.startswith(prefix)},
    )
