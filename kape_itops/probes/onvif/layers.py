"""The layers of one ONVIF camera check, run in order until the first one fails.

:class:`CameraCheck` holds what each layer learned (metrics and findings); a failing layer raises
:class:`LayerFailed`. The layers are listed in :mod:`kape_itops.probes.onvif.probe`; every device
call goes through :mod:`~kape_itops.probes.onvif.client` and :mod:`~kape_itops.probes.onvif.rtsp`,
every judgement through :mod:`~kape_itops.probes.onvif.evaluate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.atomic import output_folder, write_bytes
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.errors import OutputError
from kape_itops.probes.base import Target, worst
from kape_itops.probes.onvif.client import (
    MEDIA_NS,
    RECORDING_NS,
    HttpSession,
    OnvifClient,
    fetch_snapshot,
    tcp_open,
)
from kape_itops.probes.onvif.errors import OnvifCallError
from kape_itops.probes.onvif.evaluate import (
    Finding,
    choose_main_profile,
    compare_identity,
    drift_finding,
    firmware_change,
    inspect_jpeg,
    recording_finding,
    strip_userinfo,
)
from kape_itops.probes.onvif.rtsp import check_stream, split_uri, with_port
from kape_itops.probes.onvif.settings import OnvifSettings


class LayerFailed(Exception):
    """Layer ``layer`` failed with ``status``; the check stops here."""

    def __init__(self, layer: int, status: ProbeStatus, message: str) -> None:
        super().__init__(message)
        self.layer = layer
        self.status = status
        self.message = message


_CALL_STATUS = {"auth": ProbeStatus.UNKNOWN}


def _fail(layer: int, exc: OnvifCallError) -> LayerFailed:
    message = exc.message
    if exc.kind == "auth" and layer >= 3:
        message += (
            " — the request was signed with the camera's own clock, so this is not clock drift"
        )
    return LayerFailed(layer, _CALL_STATUS.get(exc.kind, ProbeStatus.CRIT), message)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class CameraCheck:
    """The state of one target's check while its layers run."""

    target: Target
    settings: OnvifSettings
    timeout_s: float
    http: HttpSession
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
        why = await tcp_open(host, self.port, self.timeout_s)
        if why is not None:
            raise LayerFailed(1, ProbeStatus.CRIT, f"TCP {host}:{self.port} (onvif) {why}")

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
                raise LayerFailed(2, ProbeStatus.CRIT, exc.message) from exc
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
                raise LayerFailed(
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
            raise LayerFailed(3, ProbeStatus.UNKNOWN, self.credential_problem)
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
                raise LayerFailed(4, ProbeStatus.CRIT, f"{via} lists no media service")
            profiles = await self.client.profiles(media)
            main = choose_main_profile(profiles)
            if main is None:
                raise LayerFailed(4, ProbeStatus.CRIT, "GetProfiles returned no media profile")
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
            raise LayerFailed(5, worst([s for s, _ in problems]), "; ".join(m for _, m in problems))

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
            raise LayerFailed(
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
            raise LayerFailed(6, finding.status, finding.message)
        self.findings.append(finding)
