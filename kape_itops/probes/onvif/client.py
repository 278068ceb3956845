"""The one place that talks to ONVIF devices: SOAP calls, WS-Security, snapshot GETs, TCP.

WS-Security UsernameToken digests are signed with the camera's own clock (``Created`` shifted
by the measured offset), so a drifting clock never looks like a wrong password. Every library
exception is turned into :class:`~kape_itops.probes.onvif.errors.OnvifCallError` by
:func:`~kape_itops.probes.onvif.errors.translate`. What the answers hold is read by the pure
functions of :mod:`kape_itops.probes.onvif.answers`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from kape_itops.probes.onvif.answers import (
    camera_time,
    check_well_formed,
    extension_xaddr,
    parse_http_date,
    pin_host,
    repair_utf8,
    text_or_none,
)
from kape_itops.probes.onvif.errors import OnvifCallError, translate
from kape_itops.probes.onvif.evaluate import Identity, MediaProfile, RecordingState
from kape_itops.probes.onvif.lib import (
    SERVICES,
    AsyncTransportProtocolErrorHandler,
    ONVIFService,
)
from kape_itops.probes.onvif.wsdl import WSDL_DIR

for _name in ("onvif", "zeep", "zeep.client", "zeep.xsd.schema"):
    logging.getLogger(_name).setLevel(logging.ERROR)

DEVICE_NS = SERVICES["devicemgmt"]["ns"]
MEDIA_NS = SERVICES["media"]["ns"]
RECORDING_NS = SERVICES["recording"]["ns"]

T = TypeVar("T")

HttpSession: TypeAlias = aiohttp.ClientSession
"""The HTTP session snapshots are fetched with."""


class _RepairingTransport(AsyncTransportProtocolErrorHandler):  # type: ignore[misc]
    """The library's transport, plus: invalid UTF-8 repaired, XML checked strictly, Date kept."""

    def __init__(self, session: aiohttp.ClientSession, state: _TransportState) -> None:
        super().__init__(session=session, verify_ssl=False, cache=None)
        self._state = state

    def _aiohttp_to_requests_response(
        self, aiohttp_response: aiohttp.ClientResponse, content: bytes
    ) -> Any:
        self._state.last_date = aiohttp_response.headers.get("Date")
        fixed = repair_utf8(content)
        if fixed is not None:
            self._state.repaired_utf8 = True
            content = fixed
        if content:
            check_well_formed(content)
        return super()._aiohttp_to_requests_response(aiohttp_response, content)


class _TransportState:
    __slots__ = ("last_date", "repaired_utf8")

    def __init__(self) -> None:
        self.last_date: str | None = None
        self.repaired_utf8 = False


async def preload_wsdl(wsdl_dir: Path = WSDL_DIR) -> None:
    """Parse the WSDLs once, up front, so concurrent first checks do not each parse them.

    Building a service without calling it sends nothing; the library caches parsed documents.
    """
    for name in ("devicemgmt", "media", "recording"):
        spec = SERVICES[name]
        service = ONVIFService(
            "http://127.0.0.1:9/onvif/unused",
            None,
            None,
            str(wsdl_dir / spec["wsdl"]),
            no_cache=True,
            binding_name=f"{{{spec['ns']}}}{spec['binding']}",
        )
        try:
            await service.setup()
        finally:
            await service.close()


def _bind(fn: Callable[[Any], Awaitable[Any]], arg: Any) -> Callable[[], Awaitable[Any]]:
    return lambda: fn(arg)


class OnvifClient:
    """The SOAP side of one camera check: devicemgmt, media and recording services."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        timeout_s: float,
        wsdl_dir: Path = WSDL_DIR,
    ) -> None:
        self.host = host
        self.port = port
        self._user = username
        self._password = password
        self.timeout_s = timeout_s
        self._wsdl_dir = wsdl_dir
        self._offset: dt.timedelta | None = None
        self._state = _TransportState()
        self._services: dict[str, ONVIFService] = {}
        bracketed = f"[{host}]" if ":" in host else host
        self.device_xaddr = f"http://{bracketed}:{port}/onvif/device_service"

    @property
    def repaired_utf8(self) -> bool:
        """Whether any answer carried invalid UTF-8 that was replaced."""
        return self._state.repaired_utf8

    @property
    def last_http_date(self) -> dt.datetime | None:
        """The ``Date`` header of the last SOAP answer, if it had one."""
        return parse_http_date(self._state.last_date)

    def set_clock_offset(self, offset: dt.timedelta) -> None:
        """Sign WS-Security tokens with ``now + offset`` (the camera's clock)."""
        self._offset = offset
        for service in self._services.values():
            wsse = getattr(service.zeep_client, "wsse", None)
            if wsse is not None:
                wsse.dt_diff = offset

    async def _service(self, name: str, xaddr: str) -> ONVIFService:
        existing = self._services.get(name)
        if existing is not None and existing.xaddr == xaddr:
            return existing
        spec = SERVICES[name]

        def build() -> ONVIFService:
            svc = ONVIFService(
                xaddr,
                self._user,
                self._password,
                str(self._wsdl_dir / spec["wsdl"]),
                encrypt=True,
                no_cache=True,
                dt_diff=self._offset,
                binding_name=f"{{{spec['ns']}}}{spec['binding']}",
                binding_key=(name, None),
            )
            session = svc.transport.session
            svc.transport = _RepairingTransport(session, self._state)
            return svc

        service = build()
        if existing is not None:
            await existing.close()
        self._services[name] = service
        await self._call(name, service.setup)
        return service

    async def _call(self, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await fn()
        except Exception as exc:
            raise translate(exc, operation, self.timeout_s) from exc

    async def system_time(self, authenticated: bool) -> dt.datetime:
        """GetSystemDateAndTime, without or with WS-Security; the camera clock in UTC."""
        svc = await self._service("devicemgmt", self.device_xaddr)
        call = svc.GetSystemDateAndTime if authenticated else svc.authless_GetSystemDateAndTime
        answer = await self._call("GetSystemDateAndTime", lambda: call())
        return camera_time(answer)

    async def device_information(self) -> Identity:
        """GetDeviceInformation (signed)."""
        svc = await self._service("devicemgmt", self.device_xaddr)
        info = await self._call("GetDeviceInformation", lambda: svc.GetDeviceInformation())
        return Identity(
            manufacturer=text_or_none(getattr(info, "Manufacturer", None)),
            model=text_or_none(getattr(info, "Model", None)),
            firmware=text_or_none(getattr(info, "FirmwareVersion", None)),
            serial=text_or_none(getattr(info, "SerialNumber", None)),
            hardware_id=text_or_none(getattr(info, "HardwareId", None)),
        )

    async def service_addresses(self) -> tuple[dict[str, str], str]:
        """Namespace → XAddr from GetServices, else GetCapabilities; and which call answered."""
        svc = await self._service("devicemgmt", self.device_xaddr)
        try:
            services = await self._call(
                "GetServices", lambda: svc.GetServices({"IncludeCapability": False})
            )
        except OnvifCallError as exc:
            if exc.kind in {"timeout", "auth", "unreachable"}:
                raise
        else:
            found = {
                str(s.Namespace): pin_host(str(s.XAddr), self.host)
                for s in services or []
                if getattr(s, "Namespace", None) and getattr(s, "XAddr", None)
            }
            if found:
                return found, "GetServices"
        caps = await self._call("GetCapabilities", lambda: svc.GetCapabilities({"Category": "All"}))
        found = {}
        for name, key in (("Device", DEVICE_NS), ("Media", MEDIA_NS)):
            part = getattr(caps, name, None)
            if part is not None and getattr(part, "XAddr", None):
                found[key] = pin_host(str(part.XAddr), self.host)
        recording = extension_xaddr(getattr(caps, "Extension", None), "Recording")
        if recording:
            found[RECORDING_NS] = pin_host(recording, self.host)
        return found, "GetCapabilities"

    async def profiles(self, media_xaddr: str) -> list[MediaProfile]:
        """GetProfiles on the media service."""
        svc = await self._service("media", media_xaddr)
        answer = await self._call("GetProfiles", lambda: svc.GetProfiles())
        result = []
        for p in answer or []:
            enc = getattr(p, "VideoEncoderConfiguration", None)
            res = getattr(enc, "Resolution", None) if enc is not None else None
            result.append(
                MediaProfile(
                    token=str(p.token),
                    name=text_or_none(getattr(p, "Name", None)),
                    encoding=text_or_none(getattr(enc, "Encoding", None))
                    if enc is not None
                    else None,
                    width=int(res.Width) if res is not None and res.Width is not None else None,
                    height=int(res.Height) if res is not None and res.Height is not None else None,
                )
            )
        return result

    async def stream_uri(self, media_xaddr: str, token: str) -> str:
        """GetStreamUri (RTP unicast over RTSP) for a profile."""
        svc = await self._service("media", media_xaddr)
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        answer = await self._call(
            "GetStreamUri", lambda: svc.GetStreamUri({"StreamSetup": setup, "ProfileToken": token})
        )
        uri = text_or_none(getattr(answer, "Uri", None))
        if not uri:
            raise OnvifCallError("invalid_xml", "GetStreamUri: the answer holds no URI")
        return pin_host(uri, self.host)

    async def snapshot_uri(self, media_xaddr: str, token: str) -> str:
        """GetSnapshotUri for a profile."""
        svc = await self._service("media", media_xaddr)
        answer = await self._call(
            "GetSnapshotUri", lambda: svc.GetSnapshotUri({"ProfileToken": token})
        )
        uri = text_or_none(getattr(answer, "Uri", None))
        if not uri:
            raise OnvifCallError("invalid_xml", "GetSnapshotUri: the answer holds no URI")
        return pin_host(uri, self.host)

    async def recording_state(self, recording_xaddr: str) -> RecordingState:
        """GetRecordings and GetRecordingJobs (+ job states) on the recording service."""
        svc = await self._service("recording", recording_xaddr)
        recordings = await self._call("GetRecordings", lambda: svc.GetRecordings())
        jobs = await self._call("GetRecordingJobs", lambda: svc.GetRecordingJobs())
        modes: list[str] = []
        states: list[str] = []
        for job in jobs or []:
            config = getattr(job, "JobConfiguration", None)
            modes.append(str(getattr(config, "Mode", "") or ""))
            token = getattr(job, "JobToken", None)
            if token is None:
                continue
            try:
                state = await self._call(
                    "GetRecordingJobState", _bind(svc.GetRecordingJobState, {"JobToken": token})
                )
            except OnvifCallError as exc:
                if exc.kind in {"timeout", "unreachable"}:
                    raise
                continue
            states.append(str(getattr(state, "State", "") or ""))
        active = sum(1 for m in modes if m.casefold() == "active")
        if states:
            active = sum(1 for s in states if s.casefold() in {"active", "partiallyactive"})
        return RecordingState(
            recordings=len(recordings or []),
            jobs=len(modes),
            active_jobs=active,
            job_states=tuple(states),
        )

    async def close(self) -> None:
        """Close every service's HTTP session."""
        for service in self._services.values():
            try:
                await service.close()
            except (OSError, aiohttp.ClientError, RuntimeError):
                continue
        self._services.clear()


async def fetch_snapshot(
    session: HttpSession,
    uri: str,
    username: str | None,
    password: str | None,
    timeout_s: float,
    max_bytes: int,
) -> tuple[int, bytes, str | None, str | None]:
    """GET a snapshot, answering a digest or basic challenge.

    Returns the HTTP status, up to ``max_bytes + 1`` bytes of body, the auth scheme used and the
    content type. Raises :class:`OnvifCallError` for transport failures.
    """
    parts = urlsplit(uri)
    user = username or (parts.username or None)
    secret = password if password is not None else parts.password
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def get(**kwargs: Any) -> tuple[int, bytes, str | None, str]:
        async with session.get(clean, timeout=timeout, allow_redirects=False, **kwargs) as response:
            body = await response.content.read(max_bytes + 1)
            return (
                response.status,
                body,
                response.headers.get("Content-Type"),
                response.headers.get("WWW-Authenticate", ""),
            )

    try:
        async with asyncio.timeout(timeout_s * 2):
            status, body, ctype, challenge = await get()
            scheme = challenge.split(" ", 1)[0].casefold()
            if status != 401 or not user or secret is None:
                return status, body, None, ctype
            if scheme == "digest":
                middleware = aiohttp.DigestAuthMiddleware(user, secret)
                status, body, ctype, _ = await get(middlewares=(middleware,))
                return status, body, "digest", ctype
            if scheme == "basic":
                token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
                status, body, ctype, _ = await get(headers={"Authorization": f"Basic {token}"})
                return status, body, "basic", ctype
            return status, body, None, ctype
    except Exception as exc:
        raise translate(exc, "snapshot GET", timeout_s) from exc


def http_session(shared: bool) -> HttpSession:
    """A snapshot session: ``shared`` (one per run, for every camera) has no connection limit."""
    if shared:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)
    return aiohttp.ClientSession(trust_env=False)


async def tcp_open(host: str, port: int, timeout_s: float) -> str | None:
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
