"""A real ONVIF device simulator: SOAP over HTTP, a digest-protected JPEG snapshot, a tiny RTSP server.

Each :class:`SimEndpoint` is one camera or NVR listening on its own address and port. The SOAP
server verifies WS-Security UsernameToken digests against its *own* clock (real time plus the
configured offset) and answers GetSystemDateAndTime, GetDeviceInformation, GetCapabilities,
GetServices, GetProfiles, GetStreamUri, GetSnapshotUri and, for NVRs, GetRecordings,
GetRecordingJobs and GetRecordingJobState. :class:`SimFaults` switches on the failures the probe
must tell apart.

``start_onvif_sim(endpoints)`` runs the servers on a private event loop in a background thread
and returns a handle with ``.endpoints`` (ports resolved) and ``.stop()``. ``python -m
kape_itops.lab.onvif_sim --count N`` runs a fleet in its own process (for benchmarks) and prints
the endpoints as JSON on one line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import sys
import threading
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from kape_itops.lab.onvif_jpeg import SNAPSHOT_JPEG

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
UT_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = UT_PROFILE + "#PasswordDigest"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_DEVICE = "http://www.onvif.org/ver10/device/wsdl"
NS_MEDIA = "http://www.onvif.org/ver10/media/wsdl"
NS_RECORDING = "http://www.onvif.org/ver10/recording/wsdl"
REALM = "kape-itops-sim"
DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "itops-lab"  # noqa: S105 - the simulator's well-known lab password


@dataclass(frozen=True, slots=True)
class SimFaults:
    """Switchable failures; the defaults are a healthy device."""

    clock_offset_s: float = 0.0
    """The device clock runs this many seconds ahead (negative: behind)."""
    reject_auth: bool = False
    """The device's password was changed: every signed call is refused."""
    slow_s: float = 0.0
    """Delay before answering SOAP calls (in ``slow_ops``, or all when empty)."""
    slow_ops: frozenset[str] = frozenset()
    invalid_xml_ops: frozenset[str] = frozenset()
    """Operations answered with broken XML."""
    invalid_utf8: bool = False
    """Device strings (manufacturer, model) carry bytes that are not UTF-8."""
    snapshot_missing: bool = False
    """The snapshot URL answers 404."""
    snapshot_not_jpeg: bool = False
    """The snapshot URL answers 200 with an HTML page."""
    rtsp_closed: bool = False
    """Nothing listens on the advertised RTSP port."""
    auth_for_time: bool = False
    """GetSystemDateAndTime demands credentials too (some firmware does)."""
    no_get_services: bool = False
    """GetServices is not implemented (the client must use GetCapabilities)."""
    recording_stopped: bool = False
    """NVR: every recording job is idle."""
    snapshot_auth: str = "digest"
    """``digest``, ``basic`` or ``none``."""


@dataclass(frozen=True, slots=True)
class SimEndpoint:
    """One simulated camera or NVR. Port 0 picks a free port."""

    address: str = "127.0.0.1"
    port: int = 0
    rtsp_port: int | None = 0
    """Where the RTSP server listens (0: a free port; None: no RTSP server)."""
    stream_uri_port: int | None = None
    """The port GetStreamUri names when it differs from ``rtsp_port`` (a port-forward)."""
    kind: str = "camera"
    manufacturer: str = "Hikvision"
    model: str = "DS-2CD1023G0-I"
    firmware: str = "V5.7.3 build 220112"
    serial: str = "DS-2CD1023G0-I20230101AAWRJ00001"
    hardware_id: str = "88"
    username: str = DEFAULT_USER
    password: str = DEFAULT_PASSWORD
    auth_window_s: float = 5.0
    """How far a WS-Security ``Created`` stamp may be from the device clock."""
    faults: SimFaults = field(default_factory=SimFaults)

    def base_url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"


# ---------------------------------------------------------------- WS-Security (pure)


def username_token_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA1(nonce + created + password)), the WS-Security PasswordDigest."""
    raw = nonce + created.encode("utf-8") + password.encode("utf-8")
    return base64.b64encode(hashlib.sha1(raw, usedforsecurity=False).digest()).decode("ascii")


def check_username_token(
    envelope: ET.Element,
    username: str,
    password: str,
    device_now: dt.datetime,
    window_s: float,
) -> str | None:
    """None when the envelope carries a valid token for the device clock, else why not."""
    token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return "no UsernameToken"
    user = token.findtext(f"{{{WSSE}}}Username") or ""
    pw_el = token.find(f"{{{WSSE}}}Password")
    nonce_text = token.findtext(f"{{{WSSE}}}Nonce") or ""
    created = token.findtext(f"{{{WSU}}}Created") or ""
    if pw_el is None or user != username:
        return "unknown user"
    given = pw_el.text or ""
    if pw_el.get("Type", PASSWORD_DIGEST) == PASSWORD_DIGEST:
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
            stamp = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return "malformed token"
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        if abs((stamp - device_now).total_seconds()) > window_s:
            return "Created outside the device's time window"
        expected = username_token_digest(nonce, created, password)
        return None if hmac.compare_digest(expected, given) else "wrong digest"
    return None if hmac.compare_digest(given, password) else "wrong password"


# ---------------------------------------------------------------- SOAP answers


def _envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP_ENV}" xmlns:tt="http://www.onvif.org/ver10/schema" '
        f'xmlns:tds="{NS_DEVICE}" xmlns:trt="{NS_MEDIA}" xmlns:trc="{NS_RECORDING}" '
        'xmlns:ter="http://www.onvif.org/ver10/error">'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    )


def _fault(code: str, subcode: str, text: str) -> str:
    return _envelope(
        f"<env:Fault><env:Code><env:Value>env:{code}</env:Value><env:Subcode><env:Value>{subcode}"
        f'</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">{escape(text)}'
        "</env:Text></env:Reason></env:Fault>"
    )


def _time_answer(now: dt.datetime) -> str:
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>ICT-7</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
        f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
        f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
        f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


_BAD_UTF8 = "\ue000"
"""Placeholder replaced by invalid UTF-8 bytes after the answer is encoded."""


def _info_answer(ep: SimEndpoint) -> str:
    maker = escape(ep.manufacturer)
    model = escape(ep.model)
    if ep.faults.invalid_utf8:
        maker = maker[:3] + _BAD_UTF8 + maker[3:]
        model = model + _BAD_UTF8
    return (
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{maker}</tds:Manufacturer><tds:Model>{model}</tds:Model>"
        f"<tds:FirmwareVersion>{escape(ep.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{escape(ep.serial)}</tds:SerialNumber>"
        f"<tds:HardwareId>{escape(ep.hardware_id)}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def _services_answer(ep: SimEndpoint) -> str:
    base = ep.base_url()
    services = [(NS_DEVICE, "device_service"), (NS_MEDIA, "media_service")]
    if ep.kind == "nvr":
        services.append((NS_RECORDING, "recording_service"))
    items = "".join(
        f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}/onvif/{path}</tds:XAddr>"
        "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
        for ns, path in services
    )
    return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"


def _capabilities_answer(ep: SimEndpoint) -> str:
    base = ep.base_url()
    recording = (
        f"<tt:Extension><tt:Recording><tt:XAddr>{base}/onvif/recording_service</tt:XAddr>"
        "<tt:ReceiverSource>false</tt:ReceiverSource><tt:MediaProfileSource>true"
        "</tt:MediaProfileSource><tt:DynamicRecordings>false</tt:DynamicRecordings>"
        "<tt:DynamicTracks>false</tt:DynamicTracks><tt:MaxStringLength>64</tt:MaxStringLength>"
        "</tt:Recording></tt:Extension>"
        if ep.kind == "nvr"
        else ""
    )
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{base}/onvif/device_service</tt:XAddr></tt:Device>"
        f"<tt:Media><tt:XAddr>{base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        f"{recording}</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def _profile(token: str, name: str, width: int, height: int) -> str:
    return (
        f'<trt:Profiles token="{token}" fixed="true"><tt:Name>{name}</tt:Name>'
        '<tt:VideoSourceConfiguration token="vsc0"><tt:Name>vsc0</tt:Name><tt:UseCount>2</tt:UseCount>'
        '<tt:SourceToken>vs0</tt:SourceToken><tt:Bounds x="0" y="0" width="1920" height="1080"/>'
        "</tt:VideoSourceConfiguration>"
        f'<tt:VideoEncoderConfiguration token="vec-{token}"><tt:Name>vec-{token}</tt:Name>'
        "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{width}</tt:Width><tt:Height>{height}</tt:Height></tt:Resolution>"
        "<tt:Quality>5</tt:Quality><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
        "</tt:VideoEncoderConfiguration></trt:Profiles>"
    )


def _profiles_answer() -> str:
    return (
        "<trt:GetProfilesResponse>"
        + _profile("sub", "subStream", 640, 360)
        + _profile("main", "mainStream", 1920, 1080)
        + "</trt:GetProfilesResponse>"
    )


def _uri_answer(op: str, uri: str) -> str:
    return (
        f"<trt:{op}Response><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
        f"</trt:MediaUri></trt:{op}Response>"
    )


def _recordings_answer() -> str:
    return (
        "<trc:GetRecordingsResponse><trc:RecordingItem><tt:RecordingToken>rec0</tt:RecordingToken>"
        "<tt:Configuration><tt:Source><tt:SourceId>cam1</tt:SourceId><tt:Name>Gate</tt:Name>"
        "<tt:Location>Gate</tt:Location><tt:Description>gate camera</tt:Description>"
        "<tt:Address>rtsp://cam1/</tt:Address></tt:Source><tt:Content>gate</tt:Content>"
        "<tt:MaximumRetentionTime>P30D</tt:MaximumRetentionTime></tt:Configuration>"
        "<tt:Tracks><tt:Track><tt:TrackToken>video0</tt:TrackToken><tt:Configuration>"
        "<tt:TrackType>Video</tt:TrackType><tt:Description>video</tt:Description>"
        "</tt:Configuration></tt:Track></tt:Tracks></trc:RecordingItem></trc:GetRecordingsResponse>"
    )


def _jobs_answer(active: bool) -> str:
    mode = "Active" if active else "Idle"
    return (
        "<trc:GetRecordingJobsResponse><trc:JobItem><tt:JobToken>job0</tt:JobToken>"
        "<tt:JobConfiguration><tt:RecordingToken>rec0</tt:RecordingToken>"
        f"<tt:Mode>{mode}</tt:Mode><tt:Priority>1</tt:Priority></tt:JobConfiguration>"
        "</trc:JobItem></trc:GetRecordingJobsResponse>"
    )


def _job_state_answer(active: bool) -> str:
    state = "Active" if active else "Idle"
    return (
        "<trc:GetRecordingJobStateResponse><trc:State><tt:RecordingToken>rec0</tt:RecordingToken>"
        f"<tt:State>{state}</tt:State></trc:State></trc:GetRecordingJobStateResponse>"
    )


def _stream_uri(ep: SimEndpoint, host: str) -> str:
    """The main stream's URI; without any RTSP port it names none (RTSP's own default, 554)."""
    port = ep.stream_uri_port or ep.rtsp_port
    return f"rtsp://{host}{f':{port}' if port else ''}/Streaming/Channels/101"


# ---------------------------------------------------------------- one device


class _Device:
    """The HTTP and RTSP servers of one endpoint."""

    def __init__(self, ep: SimEndpoint) -> None:
        self.ep = ep
        self._nonces: dict[str, None] = {}
        self._runner: web.AppRunner | None = None
        self._rtsp: asyncio.Server | None = None
        self.requests = 0

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.ep.faults.clock_offset_s)

    def _date_header(self) -> str:
        return email.utils.format_datetime(self.now().replace(microsecond=0), usegmt=True)

    async def start(self) -> SimEndpoint:
        ep = self.ep
        http_sock = _listen(ep.address, ep.port)
        port = http_sock.getsockname()[1]
        rtsp_port = ep.rtsp_port
        rtsp_sock = None
        if rtsp_port is not None:
            rtsp_sock = _listen(ep.address, rtsp_port)
            rtsp_port = rtsp_sock.getsockname()[1]
            if ep.faults.rtsp_closed:
                rtsp_sock.close()
                rtsp_sock = None
        self.ep = dataclasses.replace(ep, port=port, rtsp_port=rtsp_port)
        app = web.Application(client_max_size=256 * 1024)
        app.router.add_post("/onvif/{service}", self._soap)
        app.router.add_get("/onvif/snapshot.jpg", self._snapshot)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        await web.SockSite(self._runner, http_sock).start()
        if rtsp_sock is not None:
            self._rtsp = await asyncio.start_server(self._rtsp_client, sock=rtsp_sock)
        return self.ep

    async def stop_rtsp(self) -> None:
        """Stop the RTSP server only (the ONVIF service keeps answering)."""
        if self._rtsp is not None:
            self._rtsp.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._rtsp.wait_closed()
            self._rtsp = None

    async def stop(self) -> None:
        await self.stop_rtsp()
        if self._runner is not None:
            await self._runner.cleanup()

    def _reply(self, xml: str, status: int = 200) -> web.Response:
        payload = xml.encode("utf-8")
        if _BAD_UTF8 in xml:
            payload = payload.replace(_BAD_UTF8.encode("utf-8"), b"\xff\xfe")
        return web.Response(
            body=payload,
            status=status,
            headers={
                "Content-Type": 'application/soap+xml; charset="utf-8"',
                "Date": self._date_header(),
            },
        )

    def _not_authorized(self) -> web.Response:
        return self._reply(_fault("Sender", "ter:NotAuthorized", "Sender not Authorized"), 400)

    async def _soap(self, request: web.Request) -> web.Response:
        self.requests += 1
        ep, faults = self.ep, self.ep.faults
        body = await request.read()
        try:
            envelope = ET.fromstring(body)  # noqa: S314 - expat resolves no external entities
            payload = envelope.find(f"{{{SOAP_ENV}}}Body")
            op = payload[0].tag.rpartition("}")[2] if payload is not None and len(payload) else ""
        except (ET.ParseError, ValueError):
            return self._reply(
                _fault("Sender", "ter:WellFormed", "request is not well-formed XML"), 400
            )
        if faults.slow_s and (not faults.slow_ops or op in faults.slow_ops):
            await asyncio.sleep(faults.slow_s)
        public = op == "GetSystemDateAndTime" and not faults.auth_for_time
        if not public:
            password = ep.password + "-changed" if faults.reject_auth else ep.password
            if check_username_token(envelope, ep.username, password, self.now(), ep.auth_window_s):
                return self._not_authorized()
        if op in faults.invalid_xml_ops:
            return self._reply(
                f'<?xml version="1.0"?><env:Envelope xmlns:env="{SOAP_ENV}"><env:Body><broken'
            )
        answer = self._answer(op, request.match_info["service"])
        if answer is None:
            return self._reply(
                _fault(
                    "Receiver", "ter:ActionNotSupported", f"{op or 'empty body'} is not supported"
                ),
                400,
            )
        return self._reply(_envelope(answer))

    def _answer(self, op: str, service: str) -> str | None:
        ep, faults = self.ep, self.ep.faults
        host = f"[{ep.address}]" if ":" in ep.address else ep.address
        nvr = ep.kind == "nvr"
        device_ops = {
            "GetSystemDateAndTime": lambda: _time_answer(self.now()),
            "GetDeviceInformation": lambda: _info_answer(ep),
            "GetCapabilities": lambda: _capabilities_answer(ep),
        }
        if not faults.no_get_services:
            device_ops["GetServices"] = lambda: _services_answer(ep)
        media_ops = {
            "GetProfiles": _profiles_answer,
            "GetStreamUri": lambda: _uri_answer("GetStreamUri", _stream_uri(ep, host)),
            "GetSnapshotUri": lambda: _uri_answer(
                "GetSnapshotUri", f"{ep.base_url()}/onvif/snapshot.jpg"
            ),
        }
        recording_ops = {
            "GetRecordings": _recordings_answer,
            "GetRecordingJobs": lambda: _jobs_answer(not faults.recording_stopped),
            "GetRecordingJobState": lambda: _job_state_answer(not faults.recording_stopped),
        }
        table = {
            "device_service": device_ops,
            "media_service": media_ops,
            "recording_service": recording_ops if nvr else {},
        }.get(service, {})
        build: Callable[[], str] | None = table.get(op)
        return build() if build is not None else None

    # -------------------------------------------------------------- snapshot (HTTP auth)

    def _challenge(self, scheme: str) -> web.Response:
        if scheme == "basic":
            value = f'Basic realm="{REALM}"'
        else:
            nonce = os.urandom(16).hex()
            self._nonces[nonce] = None
            while len(self._nonces) > 256:
                self._nonces.pop(next(iter(self._nonces)))
            value = f'Digest realm="{REALM}", qop="auth", nonce="{nonce}", algorithm=MD5'
        return web.Response(
            status=401, headers={"WWW-Authenticate": value, "Date": self._date_header()}
        )

    def _authorized(self, request: web.Request, scheme: str) -> bool:
        header = request.headers.get("Authorization", "")
        ep = self.ep
        if scheme == "basic":
            expected = base64.b64encode(f"{ep.username}:{ep.password}".encode()).decode("ascii")
            return hmac.compare_digest(header, f"Basic {expected}")
        if not header.startswith("Digest "):
            return False
        params = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', header[7:])
        }
        if params.get("username") != ep.username or params.get("nonce") not in self._nonces:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

        ha1 = md5(f"{ep.username}:{REALM}:{ep.password}")
        ha2 = md5(f"{request.method}:{params.get('uri', '')}")
        if params.get("qop"):
            expected = md5(
                f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:{params['qop']}:{ha2}"
            )
        else:
            expected = md5(f"{ha1}:{params['nonce']}:{ha2}")
        return hmac.compare_digest(expected, params.get("response", ""))

    async def _snapshot(self, request: web.Request) -> web.Response:
        self.requests += 1
        faults = self.ep.faults
        scheme = faults.snapshot_auth
        if scheme != "none" and not self._authorized(request, scheme):
            return self._challenge(scheme)
        if faults.snapshot_missing:
            return web.Response(status=404, text="not found", headers={"Date": self._date_header()})
        if faults.snapshot_not_jpeg:
            return web.Response(
                status=200,
                text="<html><body>Please log in</body></html>",
                content_type="text/html",
            )
        return web.Response(body=SNAPSHOT_JPEG, content_type="image/jpeg")

    # -------------------------------------------------------------- RTSP

    async def _rtsp_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonce = os.urandom(12).hex()
        try:
            for _ in range(16):
                try:
                    async with asyncio.timeout(10):
                        head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                writer.write(self._rtsp_answer(head.decode("latin-1"), nonce))
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            writer.close()

    def _rtsp_answer(self, head: str, nonce: str) -> bytes:
        lines = head.split("\r\n")
        method, uri = ([*lines[0].split(" "), "", ""])[:2]
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        cseq = headers.get("cseq", "0")
        if method == "OPTIONS":
            return (
                f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
            ).encode()
        if method != "DESCRIBE":
            return f"RTSP/1.0 405 Method Not Allowed\r\nCSeq: {cseq}\r\n\r\n".encode()
        if not self._rtsp_authorized(headers.get("authorization", ""), uri, nonce):
            return (
                f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                f'WWW-Authenticate: Digest realm="{REALM}", nonce="{nonce}"\r\n\r\n'
            ).encode()
        sdp = (
            b"v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=kape-itops sim\r\nt=0 0\r\n"
            b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
        )
        return (
            f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n"
            f"Content-Base: {uri}/\r\nContent-Length: {len(sdp)}\r\n\r\n"
        ).encode() + sdp

    def _rtsp_authorized(self, header: str, uri: str, nonce: str) -> bool:
        if not header.startswith("Digest "):
            return False
        params = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', header[7:])
        }

        def md5(text: str) -> str:
            return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

        ha1 = md5(f"{self.ep.username}:{REALM}:{self.ep.password}")
        ha2 = md5(f"DESCRIBE:{params.get('uri', uri)}")
        expected = md5(f"{ha1}:{nonce}:{ha2}")
        return params.get("nonce") == nonce and hmac.compare_digest(
            expected, params.get("response", "")
        )


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


# ---------------------------------------------------------------- running


class OnvifSimHandle:
    """Simulated devices served from a background thread; ``stop()`` shuts them down."""

    def __init__(self, endpoints: Sequence[SimEndpoint]) -> None:
        self._wanted = list(endpoints)
        self._devices: list[_Device] = []
        self.endpoints: list[SimEndpoint] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="onvif-sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._stop_all())
        self._loop.close()

    async def _start(self) -> None:
        for ep in self._wanted:
            device = _Device(ep)
            self._devices.append(device)
            self.endpoints.append(await device.start())

    async def _stop_all(self) -> None:
        for device in self._devices:
            await device.stop()

    def start(self) -> OnvifSimHandle:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("ONVIF simulator did not start within 60 s")
        if self._error is not None:
            self._thread.join(5)
            raise RuntimeError(f"ONVIF simulator failed to start: {self._error}") from self._error
        return self

    def request_count(self) -> int:
        """SOAP and snapshot requests served so far (all devices)."""
        return sum(d.requests for d in self._devices)

    def stop_rtsp(self, index: int = 0) -> None:
        """Stop the RTSP server of endpoint ``index``; its ONVIF service keeps running."""
        done = asyncio.run_coroutine_threadsafe(self._devices[index].stop_rtsp(), self._loop)
        done.result(timeout=10)

    def stop(self) -> None:
        """Stop every server and the thread (idempotent)."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> OnvifSimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_onvif_sim(endpoints: Sequence[SimEndpoint]) -> OnvifSimHandle:
    """Start simulated ONVIF devices on their addresses; returns a handle with ``.stop()``."""
    return OnvifSimHandle(endpoints).start()


class WsdResponder:
    """A WS-Discovery responder: answers Probe datagrams with a ProbeMatch per endpoint.

    Bound to ``bind``; with ``group`` it also joins that multicast group on the interface that
    owns ``bind``'s address. Runs in a thread until ``stop()``.
    """

    def __init__(
        self,
        endpoints: Sequence[SimEndpoint],
        bind: tuple[str, int] = ("127.0.0.1", 0),
        group: str | None = None,
    ) -> None:
        self.endpoints = list(endpoints)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0" if group else bind[0], bind[1]))  # noqa: S104 - group member
        if group:
            membership = socket.inet_aton(group) + socket.inet_aton(bind[0])
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.probes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="wsd-responder", daemon=True)
        self._thread.start()

    def _match(self, ep: SimEndpoint, relates_to: str) -> bytes:
        scopes = " ".join(
            [
                "onvif://www.onvif.org/type/video_encoder",
                f"onvif://www.onvif.org/hardware/{ep.model}",
                f"onvif://www.onvif.org/name/{ep.manufacturer}",
            ]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:a="{WSA}" xmlns:d="{WSD}" '
            'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
            f"<s:Header><a:Action>{WSD}/ProbeMatches</a:Action>"
            f"<a:MessageID>urn:uuid:{os.urandom(16).hex()}</a:MessageID>"
            f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
            "<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>"
            f"urn:uuid:sim-{escape(ep.serial or f'{ep.address}-{ep.port}')}</a:Address>"
            "</a:EndpointReference>"
            "<d:Types>dn:NetworkVideoTransmitter</d:Types>"
            f"<d:Scopes>{escape(scopes)}</d:Scopes>"
            f"<d:XAddrs>{ep.base_url()}/onvif/device_service</d:XAddrs>"
            "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>"
            "</s:Body></s:Envelope>"
        ).encode()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                root = ET.fromstring(data)  # noqa: S314 - expat resolves no external entities
            except ET.ParseError:
                continue
            if root.find(f"{{{SOAP_ENV}}}Body/{{{WSD}}}Probe") is None:
                continue
            self.probes += 1
            relates = root.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}MessageID") or ""
            for ep in self.endpoints:
                with contextlib.suppress(OSError):
                    self.sock.sendto(self._match(ep, relates), peer)

    def stop(self) -> None:
        """Stop answering and close the socket."""
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


LAB_KINDS = frozenset({"camera", "nvr"})


def lab_faults(asset_tag: str, kind: str) -> SimFaults:
    """A few deterministic, realistic failures so a lab run has something to find.

    By a checksum of the asset tag: about 1 camera in 12 has lost NTP (clock 1 h off), 1 in 12
    drifts 10 s, 1 in 12 serves a login page instead of a snapshot; 1 NVR in 5 has stopped
    recording.
    """
    pick = zlib.crc32(asset_tag.encode("utf-8"))
    if kind == "nvr":
        return SimFaults(recording_stopped=pick % 5 == 0)
    return {
        0: SimFaults(clock_offset_s=3600),
        1: SimFaults(clock_offset_s=10),
        2: SimFaults(snapshot_not_jpeg=True),
    }.get(pick % 12, SimFaults())


class LabOnvifHandle:
    """The lab's ONVIF simulators: ``ports`` maps inventory address → {onvif, rtsp}."""

    def __init__(self, handle: OnvifSimHandle, ips: Sequence[str]) -> None:
        self._handle = handle
        self._ips = list(ips)
        self.ports = {
            ip: {"onvif": ep.port, "rtsp": ep.rtsp_port or 0}
            for ip, ep in zip(ips, handle.endpoints, strict=True)
        }

    def stop_rtsp(self, ip: str) -> None:
        """Stop the RTSP server of the device at inventory address ``ip`` (ONVIF stays up)."""
        self._handle.stop_rtsp(self._ips.index(ip))

    def stop(self) -> None:
        """Stop every simulated camera and NVR."""
        self._handle.stop()


def lab_component(devices: Sequence[Any], ctx: Any) -> list[LabOnvifHandle]:
    """``itops lab up`` plug-in (``kape_itops.lab.onvif_sim:lab_component``).

    Simulates every deployed camera and NVR at ``ctx.address(ip)`` on free ports, with the lab
    credentials ``admin`` / ``itops-lab`` (secrets file: ``[cameras.onvif]``). Serial numbers are
    not reported (the lab does not know them), so the inventory comparison checks maker and model.
    """
    chosen = [d for d in devices if d.kind in LAB_KINDS and d.ip and d.status == "deployed"]
    if not chosen:
        return []
    endpoints = [
        SimEndpoint(
            address=ctx.address(d.ip),
            kind=d.kind,
            manufacturer=d.manufacturer or "Hikvision",
            model=d.model or ("DS-7608NI-K2" if d.kind == "nvr" else "DS-2CD1023G0-I"),
            serial="",
            faults=lab_faults(d.asset_tag, d.kind),
        )
        for d in chosen
    ]
    return [LabOnvifHandle(start_onvif_sim(endpoints), [d.ip for d in chosen])]


def fleet(count: int, address: str = "127.0.0.1", nvr_every: int = 0) -> list[SimEndpoint]:
    """``count`` healthy devices on free ports, every ``nvr_every``-th one an NVR."""
    result = []
    for i in range(count):
        nvr = bool(nvr_every) and i % nvr_every == nvr_every - 1
        result.append(
            SimEndpoint(
                address=address,
                kind="nvr" if nvr else "camera",
                model="DS-7608NI-K2" if nvr else "DS-2CD1023G0-I",
                serial=f"SIM{i:05d}",
            )
        )
    return result


def endpoint_json(ep: SimEndpoint) -> dict[str, object]:
    """An endpoint as plain JSON (faults left out)."""
    data = dataclasses.asdict(ep)
    data.pop("faults")
    data.pop("password")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Run a fleet of healthy simulated devices until stdin closes or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m kape_itops.lab.onvif_sim")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--nvr-every", type=int, default=0)
    args = parser.parse_args(argv)
    handle = start_onvif_sim(fleet(args.count, args.address, args.nvr_every))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(json.dumps([endpoint_json(e) for e in handle.endpoints]), flush=True)

    def wait_stdin() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    stop.wait()
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
