"""The SNMP health probe: profile-driven GETs and column walks, judged by :mod:`snmp_eval`.

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
from kape_itops.errors import ConfigError
from kape_itops.probes.base import ProbeContext, ProbeResult, Target
from kape_itops.probes.snmp_client import (
    Endpoint,
    SnmpAuth,
    SnmpClient,
    SnmpFailure,
    auth_from_credential,
)
from kape_itops.probes.snmp_eval import (
    Kind,
    Outcome,
    Value,
    as_text,
    cross_check,
    eval_clients,
    eval_cpu,
    eval_devices,
    eval_interfaces,
    eval_printer,
    eval_storage,
    eval_system,
    match_vendor,
    rows_from_columns,
)
from kape_itops.probes.snmp_profiles import ProfileSet, SnmpProfile, load_profiles
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
_TABLES = {
    "interfaces": ("interfaces", "columns"),
    "storage": ("storage", "columns"),
    "devices": ("devices", "columns"),
    "cpu": ("cpu", "columns"),
}
_PRINTER_TABLES = ("supplies", "alerts", "status")


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
        out = Outcome()
        prev_metrics, prev_at = baseline(target.previous)
        out.metrics["sampled_at"] = now.isoformat()
        system = profile.section("system")
        scalar_oids = {k: str(v).strip(".") for k, v in system.items()}
        got = await self._client.get(ep, auth, list(scalar_oids.values()))
        values = {k: got.get(oid, Value(Kind.NO_SUCH_OBJECT)) for k, oid in scalar_oids.items()}
        eval_system(values, scalar_oids, prev_metrics, prev_at, now, out)

        columns = self._columns(profile)
        vendor = None
        if "clients" in profile.checks:
            vendors = profile.section("clients").get("vendors") or []
            vendor = match_vendor(out.metrics.get("sys_object_id"), vendors)
            if vendor is not None:
                for i, oid in enumerate(vendor.get("walk", [])):
                    columns[f"clients.walk.{i}"] = str(oid).strip(".")
        walked: dict[str, list[tuple[str, Value]]] = {}
        if columns:
            by_oid = await self._client.walk(
                ep, auth, list(columns.values()), profile.max_repetitions, profile.max_rows
            )
            walked = {key: by_oid.get(oid, []) for key, oid in columns.items()}
        self._judge(profile, columns, walked, out, prev_metrics, prev_at, now)

        if "clients" in profile.checks:
            cells = [
                v for key, rows in walked.items() if key.startswith("clients.") for _o, v in rows
            ]
            if vendor is not None and vendor.get("get"):
                gets = [str(o).strip(".") for o in vendor["get"]]
                cells += list((await self._client.get(ep, auth, gets)).values())
            eval_clients(vendor, cells, profile.thresholds, out)

        if target.device is not None:
            cross_check(
                out.metrics.get("sys_name"),
                out.metrics.get("serial"),
                target.device.hostname,
                target.device.serial,
                out,
            )
        return out

    @staticmethod
    def _columns(profile: SnmpProfile) -> dict[str, str]:
        """``"<check>.<column>" -> oid`` for every table the profile's checks read."""
        columns: dict[str, str] = {}
        for check, (section, key) in _TABLES.items():
            if check in profile.checks:
                for name, oid in (profile.section(section).get(key) or {}).items():
                    columns[f"{check}.{name}"] = str(oid).strip(".")
        if "printer" in profile.checks:
            printer = profile.section("printer")
            for table in _PRINTER_TABLES:
                for name, oid in (printer.get(table) or {}).items():
                    columns[f"printer.{table}.{name}"] = str(oid).strip(".")
            for scalar in ("page_count", "serial"):
                if printer.get(scalar):
                    columns[f"printer.{scalar}.value"] = str(printer[scalar]).strip(".")
        return columns

    @staticmethod
    def _judge(
        profile: SnmpProfile,
        columns: Mapping[str, str],
        walked: Mapping[str, list[tuple[str, Value]]],
        out: Outcome,
        prev_metrics: Mapping[str, Any] | None,
        prev_at: dt.datetime | None,
        now: dt.datetime,
    ) -> None:
        def table(prefix: str) -> dict[str, dict[str, Value]]:
            picked = {k[len(prefix) :]: v for k, v in walked.items() if k.startswith(prefix)}
            bases = {k[len(prefix) :]: v for k, v in columns.items() if k.startswith(prefix)}
            return rows_from_columns(picked, bases)

        if "interfaces" in profile.checks:
            elapsed = (now - prev_at).total_seconds() if prev_at else None
            eval_interfaces(
                table("interfaces."),
                profile.section("interfaces"),
                prev_metrics,
                elapsed,
                bool(out.metrics.get("rebooted")),
                out,
            )
        if "printer" in profile.checks:
            first = table("printer.page_count.")
            page = next(iter(first.values()), {}).get("value") if first else None
            serials = table("printer.serial.")
            serial = as_text(next(iter(serials.values()), {}).get("value")) if serials else None
            if serial:
                out.metrics["serial"] = serial
            eval_printer(
                table("printer.supplies."),
                table("printer.alerts."),
                table("printer.status."),
                page,
                profile.thresholds,
                out,
            )
        if "storage" in profile.checks:
            eval_storage(table("storage."), profile.section("storage"), profile.thresholds, out)
        if "devices" in profile.checks:
            eval_devices(table("devices."), profile.section("devices"), out)
        if "cpu" in profile.checks:
            eval_cpu(table("cpu."), profile.thresholds, out)
