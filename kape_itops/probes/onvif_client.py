"""The one place that talks to onvif-zeep-async: SOAP calls, WS-Security and error translation.

WS-Security UsernameToken digests are signed with the camera's own clock (``Created`` shifted
by the measured offset), so a drifting clock never looks like a wrong password. Every library
exception is turned into :class:`OnvifCallError` by :func:`translate`, here and nowhere else.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import zeep.exceptions

from kape_itops.probes.onvif_eval import Identity, MediaProfile, RecordingState
from kape_itops.probes.onvif_lib import (
    SERVICES,
    AsyncTransportProtocolErrorHandler,
    ONVIFError,
    ONVIFService,
    ONVIFTimeoutError,
)
from kape_itops.probes.wsdl import WSDL_DIR

for _name in ("onvif", "zeep", "zeep.client", "zeep.xsd.schema"):
    logging.getLogger(_name).setLevel(logging.ERROR)

DEVICE_NS = SERVICES["devicemgmt"]["ns"]
MEDIA_NS = SERVICES["media"]["ns"]
RECORDING_NS = SERVICES["recording"]["ns"]

T = TypeVar("T")


class OnvifCallError(Exception):
    """A device-side failure of one ONVIF call, already put into words.

    ``kind`` is one of: ``timeout``, ``unreachable``, ``auth``, ``fault``, ``invalid_xml``,
    ``http``, ``unsupported``, ``error``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


_AUTH_WORDS = re.compile(
    r"not\s*authori[sz]ed|unauthori[sz]ed|authenticat|password|FailedAuthentication", re.I
)


def _fault_text(exc: zeep.exceptions.Fault) -> str:
    parts = [str(exc.message or "")]
    parts += [str(exc.code or "")]
    parts += [str(getattr(s, "localname", s)) for s in (exc.subcodes or [])]
    return " ".join(p for p in parts if p)


def translate(exc: BaseException, operation: str, timeout_s: float) -> OnvifCallError:
    """Put any exception raised while calling ``operation`` into our words (and kinds)."""
    if isinstance(exc, OnvifCallError):
        return exc
    if isinstance(exc, InvalidXml):
        return OnvifCallError("invalid_xml", f"{operation}: the device sent invalid XML ({exc})")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | ONVIFTimeoutError):
        return OnvifCallError("timeout", f"{operation}: no answer within {timeout_s:g} s")
    if isinstance(exc, zeep.exceptions.Fault):
        text = _fault_text(exc)
        if _AUTH_WORDS.search(text):
            return OnvifCallError(
                "auth", f"{operation}: credentials rejected ({exc.message or 'not authorized'})"
            )
        if re.search(r"ActionNotSupported|not\s*supported|NoSuchService", text, re.I):
            return OnvifCallError("unsupported", f"{operation}: not supported by the device")
        return OnvifCallError("fault", f"{operation}: SOAP fault: {(exc.message or text)[:200]}")
    if isinstance(exc, zeep.exceptions.TransportError):
        status = exc.status_code
        message = str(exc)
        if "invalid XML" in message:
            return OnvifCallError("invalid_xml", f"{operation}: the device sent invalid XML")
        if status == 401:
            return OnvifCallError("auth", f"{operation}: credentials rejected (HTTP 401)")
        if status == 404:
            return OnvifCallError("unsupported", f"{operation}: service not found (HTTP 404)")
        return OnvifCallError("http", f"{operation}: HTTP {status}")
    if isinstance(exc, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError):
        return OnvifCallError(
            "invalid_xml", f"{operation}: the device sent an unusable answer ({exc})"
        )
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return OnvifCallError("unreachable", f"{operation}: connection refused or unreachable")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return OnvifCallError("http", f"{operation}: the device closed the connection")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return OnvifCallError("http", f"{operation}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ONVIFError):
        if exc.__cause__ is not None:
            return translate(exc.__cause__, operation, timeout_s)
        return OnvifCallError("error", f"{operation}: {exc.reason}")
    if isinstance(exc, AttributeError | KeyError | TypeError | ValueError):
        return OnvifCallError("invalid_xml", f"{operation}: answer lacks expected fields ({exc})")
    return OnvifCallError("error", f"{operation}: {type(exc).__name__}: {exc}")


_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9_\-]+)[\"']")


def repair_utf8(content: bytes) -> bytes | None:
    """Bytes with invalid UTF-8 sequences replaced (U+FFFD), or None when nothing needed fixing.

    Only UTF-8 documents (declared or by default) are touched; other declared encodings are
    left to the XML parser.
    """
    declared = _XML_DECL.match(content)
    if declared and declared.group(1).decode("ascii").replace("_", "-").casefold() not in {
        "utf-8",
        "utf8",
    }:
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("utf-8", errors="replace").encode("utf-8")
    return None


class InvalidXml(Exception):
    """A SOAP answer that is not well-formed XML (zeep itself parses leniently)."""


def check_well_formed(content: bytes) -> None:
    """Raise :class:`InvalidXml` unless ``content`` is one well-formed XML document."""
    try:
        ET.fromstring(content)  # noqa: S314 - expat, no external entities; only checks form
    except ET.ParseError as exc:
        raise InvalidXml(str(exc)[:120]) from exc


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


def pin_host(url: str, host: str) -> str:
    """``url`` with its host replaced by ``host`` (port and path kept).

    Devices often advertise a LAN address other than the one we reach them by; every follow-up
    request goes to the device being probed, never to an address it names.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def camera_time(answer: Any) -> dt.datetime:
    """The device clock (UTC) from a GetSystemDateAndTime answer."""
    stamp = getattr(answer, "UTCDateTime", None) or getattr(answer, "LocalDateTime", None)
    if stamp is None:
        raise OnvifCallError("invalid_xml", "GetSystemDateAndTime: no UTCDateTime in the answer")
    d, t = stamp.Date, stamp.Time
    try:
        return dt.datetime(
            int(d.Year),
            int(d.Month),
            int(d.Day),
            int(t.Hour),
            int(t.Minute),
            int(t.Second),
            tzinfo=dt.UTC,
        )
    except (TypeError, ValueError) as exc:
        raise OnvifCallError(
            "invalid_xml", f"GetSystemDateAndTime: impossible date ({exc})"
        ) from exc


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An HTTP ``Date`` header as an aware UTC datetime, or None."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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


def _extension_xaddr(ext: Any, name: str) -> str | None:
    """The XAddr of capability ``name`` under Capabilities/Extension.

    zeep lets the leading ``xs:any namespace="##other"`` swallow the ONVIF elements that follow
    it, so they may arrive as raw XML elements in ``_value_1`` instead of typed fields.
    """
    if ext is None:
        return None
    part = getattr(ext, name, None)
    if part is not None and getattr(part, "XAddr", None):
        return str(part.XAddr)
    for raw in getattr(ext, "_value_1", None) or []:
        tag = getattr(raw, "tag", None)
        if isinstance(tag, str) and tag.rpartition("}")[2] == name:
            for child in raw:
                if str(child.tag).rpartition("}")[2] == "XAddr" and child.text:
                    return str(child.text).strip()
    return None


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
            manufacturer=_text(getattr(info, "Manufacturer", None)),
            model=_text(getattr(info, "Model", None)),
            firmware=_text(getattr(info, "FirmwareVersion", None)),
            serial=_text(getattr(info, "SerialNumber", None)),
            hardware_id=_text(getattr(info, "HardwareId", None)),
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
        recording = _extension_xaddr(getattr(caps, "Extension", None), "Recording")
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
                    name=_text(getattr(p, "Name", None)),
                    encoding=_text(getattr(enc, "Encoding", None)) if enc is not None else None,
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
        uri = _text(getattr(answer, "Uri", None))
        if not uri:
            raise OnvifCallError("invalid_xml", "GetStreamUri: the answer holds no URI")
        return pin_host(uri, self.host)

    async def snapshot_uri(self, media_xaddr: str, token: str) -> str:
        """GetSnapshotUri for a profile."""
        svc = await self._service("media", media_xaddr)
        answer = await self._call(
            "GetSnapshotUri", lambda: svc.GetSnapshotUri({"ProfileToken": token})
        )
        uri = _text(getattr(answer, "Uri", None))
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
    session: aiohttp.ClientSession,
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
