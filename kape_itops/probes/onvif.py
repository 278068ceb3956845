"""The ONVIF camera/NVR probe: a layered check that stops at the first failing layer.

1. reachability: TCP connect to the ONVIF service port (the target's port, else ``onvif_port``);
2. clock: GetSystemDateAndTime without credentials (with them when the device insists, else the
   HTTP ``Date`` header) → clock drift, its own finding (warn > 5 s, crit > 300 s);
3. device information: GetDeviceInformation signed with the camera's clock offset, compared with
   the inventory (a swapped camera is flagged);
4. media profiles: GetServices/GetCapabilities, GetProfiles, GetStreamUri for the main profile;
5. snapshot and stream: GetSnapshotUri + an authenticated GET that must return a real JPEG, and
   RTSP OPTIONS/DESCRIBE at the port the stream URI names (``rtsp_port``, when set, overrides it:
   a port-forward the camera does not know about);
6. recording (NVRs): the ONVIF Recording service's recordings and job states.

Metrics: ``layer`` (the last layer passed), ``failed_layer`` and ``layer_name`` when one failed,
``clock_drift_s``, ``clock_source``, ``manufacturer``, ``model``, ``firmware``, ``serial``,
``profiles``, ``stream_uri``, ``rtsp_port`` (the port the stream check used), ``recording``,
``layer_ms`` (time spent per layer) and a few details. What the layers before a failing one
learned stays in the metrics and is named in the reason. Snapshots are only written
when the ``save_snapshot_dir`` setting is given (the CLI's ``--save-snapshot DIR``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import yaml

from kape_itops.atomic import output_folder, write_bytes
from kape_itops.config import Settings
from kape_itops.datafiles import data_folder, shipped_schema
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.errors import ConfigError, OutputError, ProbeError, SecretsError
from kape_itops.probes.base import ProbeContext, ProbeResult, Target, worst
from kape_itops.probes.onvif_client import (
    MEDIA_NS,
    RECORDING_NS,
    OnvifCallError,
    OnvifClient,
    fetch_snapshot,
    preload_wsdl,
)
from kape_itops.probes.onvif_eval import (
    LAYERS,
    Finding,
    SnapshotLimits,
    choose_main_profile,
    compare_identity,
    drift_finding,
    firmware_change,
    inspect_jpeg,
    recording_finding,
    strip_userinfo,
)
from kape_itops.probes.rtsp import check_stream, split_uri, with_port
from kape_itops.yamlsafe import load_yaml

PROTOCOL = "onvif"

DEFAULTS: dict[str, Any] = {
    "onvif_port": 80,
    "rtsp_port": None,
    "timeout_s": None,
    "thresholds": {"clock_drift_s": {"warn": 5, "crit": 300}},
    "snapshot": {
        "enabled": True,
        "min_bytes": 1024,
        "max_bytes": 16777216,
        "min_width": 64,
        "min_height": 48,
    },
    "stream_check": True,
    "recording": "auto",
    "manufacturer_aliases": {
        "Hikvision": ["HIKVISION", "Hangzhou Hikvision Digital Technology"],
        "Dahua": ["Dahua Technology", "Zhejiang Dahua Technology"],
        "EZVIZ": ["Ezviz"],
        "TP-Link": ["TP-LINK", "Tapo", "VIGI"],
        "Uniview": ["UNV", "Zhejiang Uniview Technologies"],
        "Axis": ["AXIS", "Axis Communications"],
    },
}
"""Built-in settings; ``probes/onvif.yaml`` ships the same values (a test keeps them equal)."""

RUNNER_KEYS = frozenset({"port", "check_timeout_s", "lab_ports"})
"""Keys the probe engine puts into every probe's settings (``thresholds`` is in DEFAULTS)."""


@dataclass(frozen=True, slots=True)
class OnvifSettings:
    """The settings of one check, from :data:`DEFAULTS` overlaid with ``Target.settings``."""

    onvif_port: int = 80
    rtsp_port: int | None = None
    """Overrides the stream URI's port when set; None: the port the camera names."""
    timeout_s: float | None = None
    drift_warn_s: float = 5.0
    drift_crit_s: float = 300.0
    snapshot_enabled: bool = True
    snapshot: SnapshotLimits = field(default_factory=SnapshotLimits)
    stream_check: bool = True
    recording: str = "auto"
    manufacturer_aliases: Mapping[str, list[str]] = field(default_factory=dict)
    save_snapshot_dir: Path | None = None

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, Any], base: Mapping[str, Any] = DEFAULTS
    ) -> OnvifSettings:
        """Parse ``raw`` laid on ``base``; :class:`ProbeError` names the bad key."""
        merged = merge_settings(base, raw)
        known = set(DEFAULTS) | RUNNER_KEYS | {"save_snapshot_dir"}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ProbeError(f"onvif settings: unknown key(s) {', '.join(unknown)}")

        def number(key: str, value: Any, minimum: float = 0) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
                raise ProbeError(
                    f"onvif settings: {key} must be a number >= {minimum:g}, not {value!r}"
                )
            return float(value)

        def port(key: str, value: Any) -> int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                raise ProbeError(
                    f"onvif settings: {key} must be a TCP port (1-65535), not {value!r}"
                )
            return value

        snap = merged["snapshot"]
        if not isinstance(snap, Mapping):
            raise ProbeError("onvif settings: snapshot must be a mapping")
        recording = merged["recording"]
        if recording not in ("auto", True, False):
            raise ProbeError(
                f"onvif settings: recording must be auto, true or false, not {recording!r}"
            )
        timeout = merged["timeout_s"]
        thresholds = merged.get("thresholds") or {}
        drift = thresholds.get("clock_drift_s") or {} if isinstance(thresholds, Mapping) else {}
        if not isinstance(drift, Mapping):
            raise ProbeError("onvif settings: thresholds.clock_drift_s must be {warn, crit}")
        rtsp = merged["rtsp_port"]
        onvif_port = merged.get("port", merged["onvif_port"])
        save = merged.get("save_snapshot_dir")
        return cls(
            onvif_port=port("onvif_port", onvif_port),
            rtsp_port=None if rtsp is None else port("rtsp_port", rtsp),
            timeout_s=None if timeout is None else number("timeout_s", timeout, 0.01),
            drift_warn_s=number("thresholds.clock_drift_s.warn", drift.get("warn", 5)),
            drift_crit_s=number("thresholds.clock_drift_s.crit", drift.get("crit", 300)),
            snapshot_enabled=bool(snap.get("enabled", True)),
            snapshot=SnapshotLimits(
                min_bytes=int(number("snapshot.min_bytes", snap["min_bytes"])),
                max_bytes=int(number("snapshot.max_bytes", snap["max_bytes"], 1)),
                min_width=int(number("snapshot.min_width", snap["min_width"])),
                min_height=int(number("snapshot.min_height", snap["min_height"])),
            ),
            stream_check=bool(merged["stream_check"]),
            recording="auto" if recording == "auto" else ("yes" if recording else "no"),
            manufacturer_aliases={
                str(k): [str(x) for x in v] for k, v in merged["manufacturer_aliases"].items()
            },
            save_snapshot_dir=Path(save) if save else None,
        )


def merge_settings(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``; nested mappings are merged key by key."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge_settings(result[key], value)
        else:
            result[key] = value
    return result


PROFILE_FILE = "onvif.yaml"
SCHEMA_FILE = "schema/onvif.schema.json"


def load_profile(path: Path) -> dict[str, Any]:
    """The ``defaults`` of an ``onvif.yaml``, validated by the schema next to it, on DEFAULTS.

    Raises :class:`ConfigError` naming the file and every problem found.
    """
    try:
        doc = load_yaml(path)
        schema_path = path.parent / SCHEMA_FILE
        if not schema_path.is_file():
            schema_path = shipped_schema("probes", Path(SCHEMA_FILE).name)
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    validator = jsonschema.Draft202012Validator(schema)
    problems = [
        f"at {'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
        for e in validator.iter_errors(doc)
    ]
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return merge_settings(DEFAULTS, doc["defaults"])


def default_profile_path() -> Path:
    """``probes/onvif.yaml`` of the data folder (local over shipped)."""
    return data_folder(Settings().data_dir).area("probes").file(PROFILE_FILE)


class _LayerFailed(Exception):
    def __init__(self, layer: int, status: ProbeStatus, message: str) -> None:
        super().__init__(message)
        self.layer = layer
        self.status = status
        self.message = message


_CALL_STATUS = {"auth": ProbeStatus.UNKNOWN}


def _fail(layer: int, exc: OnvifCallError) -> _LayerFailed:
    message = exc.message
    if exc.kind == "auth" and layer >= 3:
        message += (
            " — the request was signed with the camera's own clock, so this is not clock drift"
        )
    return _LayerFailed(layer, _CALL_STATUS.get(exc.kind, ProbeStatus.CRIT), message)


async def _tcp_open(host: str, port: int, timeout_s: float) -> str | None:
    """None when a TCP connection succeeds, else why not."""
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        return exc.strerror or str(exc)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class _Check:
    """The state of one target's check while its layers run."""

    target: Target
    settings: OnvifSettings
    timeout_s: float
    http: aiohttp.ClientSession
    username: str | None
    password: str | None = field(repr=False)
    credential_problem: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    layer_ms: dict[str, float] = field(default_factory=dict)
    client: OnvifClient | None = None
    addresses: dict[str, str] = field(default_factory=dict)
    media_xaddr: str = ""
    main_token: str = ""
    stream_uri: str = ""

    @property
    def port(self) -> int:
        return self.target.port or self.settings.onvif_port

    async def run(self) -> None:
        layers = [
            self._reachability,
            self._clock,
            self._identity,
            self._media,
            self._snapshot_and_stream,
        ]
        if self._wants_recording():
            layers.append(self._recording)
        self.metrics["layer"] = 0
        for number, layer in enumerate(layers, start=1):
            t0 = time.perf_counter()
            try:
                await layer()
            finally:
                self.layer_ms[str(number)] = round((time.perf_counter() - t0) * 1000, 2)
            self.metrics["layer"] = number

    def _wants_recording(self) -> bool:
        if self.settings.recording == "auto":
            device = self.target.device
            return device is not None and device.kind == DeviceKind.NVR
        return self.settings.recording == "yes"

    async def _reachability(self) -> None:
        """The ONVIF service port only: the RTSP port is the stream URI's, known at layer 4."""
        host = self.target.address
        why = await _tcp_open(host, self.port, self.timeout_s)
        if why is not None:
            raise _LayerFailed(1, ProbeStatus.CRIT, f"TCP {host}:{self.port} (onvif) {why}")

    async def _clock(self) -> None:
        client = self.client = OnvifClient(
            self.target.address, self.port, self.username, self.password, self.timeout_s
        )
        before = time.time()
        source = "soap"
        camera: dt.datetime | None = None
        try:
            camera = await client.system_time(authenticated=False)
        except OnvifCallError as exc:
            if exc.kind in {"timeout", "unreachable", "invalid_xml"}:
                raise _LayerFailed(2, ProbeStatus.CRIT, exc.message) from exc
            first = exc
            if self.username and self.password is not None:
                before = time.time()
                with contextlib.suppress(OnvifCallError):
                    camera = await client.system_time(authenticated=True)
                    source = "soap-auth"
            if camera is None:
                camera = client.last_http_date
                source = "http-date"
            if camera is None:
                raise _LayerFailed(
                    2, ProbeStatus.CRIT, f"{first.message}; no HTTP Date header either"
                ) from exc
        after = time.time()
        local_mid = dt.datetime.fromtimestamp((before + after) / 2, dt.UTC)
        # The device reports whole seconds: its clock is on average half a second later.
        drift = (camera - local_mid).total_seconds() + 0.5
        client.set_clock_offset(dt.timedelta(seconds=drift))
        self.metrics["clock_drift_s"] = round(drift, 1)
        self.metrics["clock_source"] = source
        finding = drift_finding(drift, self.settings.drift_warn_s, self.settings.drift_crit_s)
        self.metrics.setdefault("levels", {})["clock_drift_s"] = finding.status.value
        self.findings.append(finding)

    async def _identity(self) -> None:
        if self.credential_problem:
            raise _LayerFailed(3, ProbeStatus.UNKNOWN, self.credential_problem)
        assert self.client is not None
        try:
            identity = await self.client.device_information()
        except OnvifCallError as exc:
            raise _fail(3, exc) from exc
        self.metrics.update(
            manufacturer=identity.manufacturer,
            model=identity.model,
            firmware=identity.firmware,
            serial=identity.serial,
        )
        if self.client.repaired_utf8:
            self.metrics["invalid_utf8"] = True
            self.findings.append(
                Finding(ProbeStatus.WARN, "device strings are not valid UTF-8 (shown with U+FFFD)")
            )
        self.findings += compare_identity(
            self.target.device, identity, self.settings.manufacturer_aliases
        )
        previous = self.target.previous.metrics if self.target.previous else None
        change = firmware_change(previous, identity.firmware)
        if change:
            self.findings.append(change)

    async def _media(self) -> None:
        assert self.client is not None
        try:
            addresses, via = await self.client.service_addresses()
            self.addresses = addresses
            self.metrics["services_via"] = via
            media = addresses.get(MEDIA_NS)
            if not media:
                raise _LayerFailed(4, ProbeStatus.CRIT, f"{via} lists no media service")
            profiles = await self.client.profiles(media)
            main = choose_main_profile(profiles)
            if main is None:
                raise _LayerFailed(4, ProbeStatus.CRIT, "GetProfiles returned no media profile")
            self.metrics["profiles"] = len(profiles)
            self.metrics["main_profile"] = main.token
            if main.width and main.height:
                self.metrics["resolution"] = f"{main.width}x{main.height}"
            if main.encoding:
                self.metrics["encoding"] = main.encoding
            self.stream_uri = await self.client.stream_uri(media, main.token)
            self.main_token = main.token
            self.media_xaddr = media
            self.metrics["stream_uri"] = strip_userinfo(self.stream_uri)
        except OnvifCallError as exc:
            raise _fail(4, exc) from exc

    async def _snapshot_and_stream(self) -> None:
        problems: list[tuple[ProbeStatus, str]] = []
        jobs = []
        if self.settings.snapshot_enabled:
            jobs.append(self._snapshot())
        if self.settings.stream_check:
            jobs.append(self._stream())
        for outcome in await asyncio.gather(*jobs):
            if outcome is not None:
                problems.append(outcome)
        if problems:
            raise _LayerFailed(
                5, worst([s for s, _ in problems]), "; ".join(m for _, m in problems)
            )

    async def _snapshot(self) -> tuple[ProbeStatus, str] | None:
        assert self.client is not None
        try:
            uri = await self.client.snapshot_uri(self.media_xaddr, self.main_token)
            status, body, auth, _ctype = await fetch_snapshot(
                self.http,
                uri,
                self.username,
                self.password,
                self.timeout_s,
                self.settings.snapshot.max_bytes,
            )
        except OnvifCallError as exc:
            failed = _fail(5, exc)
            return failed.status, failed.message
        if auth:
            self.metrics["snapshot_auth"] = auth
        if status == 401:
            return ProbeStatus.UNKNOWN, "snapshot credentials rejected (HTTP 401)"
        if status == 404:
            return ProbeStatus.CRIT, "snapshot URL answered HTTP 404 (no snapshot)"
        if status != 200:
            return ProbeStatus.CRIT, f"snapshot URL answered HTTP {status}"
        jpeg = inspect_jpeg(body, self.settings.snapshot)
        self.metrics["snapshot_bytes"] = jpeg.size
        if jpeg.width:
            self.metrics["snapshot_size"] = f"{jpeg.width}x{jpeg.height}"
        if not jpeg.ok:
            return ProbeStatus.CRIT, jpeg.reason
        if self.settings.save_snapshot_dir is not None:
            try:
                self.metrics["snapshot_path"] = str(self._save(body))
            except OutputError as exc:  # the camera is fine; saving its picture was not
                self.metrics["snapshot_error"] = str(exc)
        return None

    def _save(self, body: bytes) -> Path:
        folder = self.settings.save_snapshot_dir
        assert folder is not None
        output_folder(folder, perms=0o700)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"{_UNSAFE_NAME.sub('_', self.target.label)}-{stamp}.jpg"
        write_bytes(path, body, perms=0o600)
        return path

    async def _stream(self) -> tuple[ProbeStatus, str] | None:
        uri = self.stream_uri
        if self.settings.rtsp_port is not None:
            uri = with_port(uri, self.settings.rtsp_port)
        with contextlib.suppress(ValueError):
            self.metrics["rtsp_port"] = split_uri(uri)[1]
        result = await check_stream(uri, self.username, self.password, self.timeout_s)
        if result.status is not None:
            self.metrics["rtsp_status"] = result.status
        if not result.ok:
            status = (
                ProbeStatus.UNKNOWN
                if "authentication rejected" in result.reason
                else ProbeStatus.CRIT
            )
            return status, result.reason
        return None

    async def _recording(self) -> None:
        assert self.client is not None
        xaddr = self.addresses.get(RECORDING_NS)
        if not xaddr:
            raise _LayerFailed(
                6,
                ProbeStatus.WARN,
                "the device exposes no ONVIF Recording service (check recording by SNMP)",
            )
        try:
            state = await self.client.recording_state(xaddr)
        except OnvifCallError as exc:
            raise _fail(6, exc) from exc
        finding = recording_finding(state)
        self.metrics.update(
            recording=state.active_jobs > 0, recordings=state.recordings, recording_jobs=state.jobs
        )
        self.metrics.setdefault("levels", {})["recording"] = finding.status.value
        if finding.status != ProbeStatus.OK:
            raise _LayerFailed(6, finding.status, finding.message)
        self.findings.append(finding)


def _learned(m: Mapping[str, Any]) -> list[str]:
    """What the layers found out, in words: identity, profiles, snapshot, stream."""
    parts = []
    ident = " ".join(str(m[k]) for k in ("manufacturer", "model") if m.get(k))
    if ident:
        parts.append(ident + (f" fw {m['firmware']}" if m.get("firmware") else ""))
    if "profiles" in m:
        parts.append(f"{m['profiles']} profile(s)")
    if "snapshot_size" in m:
        parts.append(f"JPEG {m['snapshot_size']}")
    if m.get("rtsp_status") == 200:
        parts.append("RTSP answers")
    return parts


def _summary(check: _Check) -> str:
    return ", ".join([f"layers 1-{check.metrics['layer']} passed", *_learned(check.metrics)])


class OnvifProbe:
    """ONVIF camera and NVR health (see the module docstring for the layers)."""

    name = PROTOCOL

    def __init__(self, profile: Path | None = None) -> None:
        self._ctx = ProbeContext()
        self._http: aiohttp.ClientSession | None = None
        self._profile_path = profile
        self._base: Mapping[str, Any] = DEFAULTS

    async def start(self, ctx: ProbeContext) -> None:
        """Load ``probes/onvif.yaml`` (when present), parse the WSDLs, open the snapshot session."""
        self._ctx = ctx
        path = self._profile_path or default_profile_path()
        if self._profile_path is not None or path.is_file():
            self._base = load_profile(path)
        await preload_wsdl()
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)

    async def stop(self) -> None:
        """Close the snapshot session."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _credentials(self, target: Target) -> tuple[str | None, str | None, str | None]:
        name = target.credential
        if not name:
            return (
                None,
                None,
                "no ONVIF credential configured for this device (secrets file [NAME.onvif])",
            )
        try:
            cred = self._ctx.secrets.credential(name, PROTOCOL)
        except SecretsError as exc:
            return None, None, str(exc)
        user = cred.get("username") or cred.get("user")
        secret = cred.secret("password")
        if not user or secret is None:
            return None, None, f"credential '{name}' needs username and password in [{name}.onvif]"
        return user, secret.reveal(), None

    async def check(self, target: Target) -> ProbeResult:
        """Run the layers on one target; never raises for the device's fault."""
        settings = OnvifSettings.from_mapping(target.settings, self._base)
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        own_session = self._http is None
        http = self._http or aiohttp.ClientSession(trust_env=False)
        user, password, problem = self._credentials(target)
        check = _Check(
            target=target,
            settings=settings,
            timeout_s=settings.timeout_s or self._ctx.timeout_s,
            http=http,
            username=user,
            password=password,
            credential_problem=problem,
        )
        failure: _LayerFailed | None = None
        try:
            await check.run()
        except _LayerFailed as exc:
            failure = exc
        finally:
            if check.client is not None:
                await check.client.close()
            if own_session:
                await http.close()
        metrics = dict(check.metrics)
        metrics["layer_ms"] = check.layer_ms
        notes = [f.message for f in check.findings if f.status != ProbeStatus.OK]
        statuses = [f.status for f in check.findings]
        if failure is not None:
            metrics["failed_layer"] = failure.layer
            metrics["layer_name"] = LAYERS[failure.layer]
            statuses.append(failure.status)
            reason = f"layer {failure.layer} ({LAYERS[failure.layer]}) failed: {failure.message}"
            learned = _learned(check.metrics)
            if learned:
                reason += f" (learned: {', '.join(learned)})"
        else:
            metrics["layer_name"] = LAYERS[check.metrics["layer"]]
            reason = _summary(check)
            notes += [
                f.message
                for f in check.findings
                if f.status == ProbeStatus.OK and "drift" not in f.message
            ]
        if notes:
            reason += "; " + "; ".join(notes)
        return ProbeResult(
            probe=PROTOCOL,
            target=target.label,
            status=worst(statuses),
            reason=reason,
            started_at=started,
            duration_ms=round((time.perf_counter() - t0) * 1000, 2),
            metrics=metrics,
            method="onvif",
            asset_tag=target.device.asset_tag if target.device else None,
        )
