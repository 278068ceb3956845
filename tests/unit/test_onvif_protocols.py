"""Pure protocol pieces: RTSP messages and auth, WS-Discovery messages and the inventory diff,
WS-Security tokens, error translation, URL and UTF-8 helpers."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import xml.etree.ElementTree as ET

import pytest
import zeep.exceptions

from kape_itops.discovery.diff import diff_inventory
from kape_itops.discovery.wsd_messages import Discovered, build_probe, parse_matches
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Device
from kape_itops.lab.onvif_sim import (
    PASSWORD_DIGEST,
    SOAP_ENV,
    WSSE,
    WSU,
    check_username_token,
    username_token_digest,
)
from kape_itops.probes.onvif import rtsp
from kape_itops.probes.onvif.answers import (
    check_well_formed,
    parse_http_date,
    pin_host,
    repair_utf8,
)
from kape_itops.probes.onvif.errors import InvalidXml, translate

# ---------------------------------------------------------------- RTSP


def test_rfc2617_digest_vector() -> None:
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    header = rtsp.authorization(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "qop=auth" in header and "nc=00000001" in header
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


def test_digest_without_qop_and_basic() -> None:
    header = rtsp.authorization('Digest realm="r", nonce="n"', "DESCRIBE", "rtsp://h/s", "u", "p")

    def md5(t: str) -> str:
        return hashlib.md5(t.encode(), usedforsecurity=False).hexdigest()

    expected = md5(f"{md5('u:r:p')}:n:{md5('DESCRIBE:rtsp://h/s')}")
    assert f'response="{expected}"' in header
    assert (
        rtsp.authorization('Basic realm="x"', "DESCRIBE", "u", "a", "b")
        == "Basic " + base64.b64encode(b"a:b").decode()
    )
    with pytest.raises(rtsp.RtspProtocolError, match="unsupported RTSP auth scheme"):
        rtsp.authorization("Bearer x", "DESCRIBE", "u", "a", "b")


def test_parse_head() -> None:
    status, reason, headers = rtsp.parse_head(
        b'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="x"\r\nX: 1\r\nx: 2'
    )
    assert (status, reason, headers["cseq"], headers["x"]) == (401, "Unauthorized", "2", "1, 2")
    with pytest.raises(rtsp.RtspProtocolError, match="not an RTSP response"):
        rtsp.parse_head(b"HTTP/1.1 200 OK\r\n")


def test_split_uri_and_request() -> None:
    host, port, clean, user, password = rtsp.split_uri("rtsp://ad%40min:p%3Aw@[::1]:8554/live?x=1")
    assert (host, port, clean, user, password) == (
        "::1",
        8554,
        "rtsp://[::1]:8554/live?x=1",
        "ad@min",
        "p:w",
    )
    assert rtsp.split_uri("rtsp://cam/")[1] == 554
    assert rtsp.with_port("rtsp://u:p@[::1]:554/live?x=1", 8554) == "rtsp://u:p@[::1]:8554/live?x=1"
    assert rtsp.with_port("rtsp://10.0.0.5/s", 10554) == "rtsp://10.0.0.5:10554/s"
    with pytest.raises(ValueError, match="not an rtsp"):
        rtsp.split_uri("http://cam/")
    request = rtsp.build_request("OPTIONS", "rtsp://cam/", 3, {"Accept": "application/sdp"})
    assert request == (
        b"OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 3\r\nUser-Agent: kape-itops\r\n"
        b"Accept: application/sdp\r\n\r\n"
    )


def test_sdp_media() -> None:
    assert rtsp.sdp_media(b"v=0\r\nm=video 0 RTP/AVP 96\r\nm=audio 0 RTP/AVP 0\r\n") == (
        "video",
        "audio",
    )


def test_check_stream_rejects_bad_uri_without_io() -> None:
    result = asyncio.run(rtsp.check_stream("http://x/", None, None, 0.1))
    assert not result.ok and "not an rtsp:// URI" in result.reason


# ---------------------------------------------------------------- WS-Discovery


MATCH = """<?xml version="1.0"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
<s:Header><a:RelatesTo>{relates}</a:RelatesTo></s:Header>
<s:Body><d:ProbeMatches><d:ProbeMatch>
<a:EndpointReference><a:Address>urn:uuid:1234</a:Address></a:EndpointReference>
<d:Types>dn:NetworkVideoTransmitter</d:Types>
<d:Scopes>onvif://www.onvif.org/name/Gate%20Cam onvif://www.onvif.org/location/Kampot</d:Scopes>
<d:XAddrs>http://10.30.1.31/onvif/device_service http://[fe80::1]/onvif/device_service</d:XAddrs>
</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"""


def test_probe_message_and_match_parsing() -> None:
    mid, datagram = build_probe("urn:uuid:abc")
    root = ET.fromstring(datagram)
    assert (
        root.findtext(".//{http://schemas.xmlsoap.org/ws/2004/08/addressing}MessageID")
        == "urn:uuid:abc"
    )
    assert b"dn:NetworkVideoTransmitter" in datagram
    [found] = parse_matches(MATCH.format(relates=mid).encode(), "127.0.0.1", mid)
    assert found.endpoint == "urn:uuid:1234" and found.address == "10.30.1.31"
    assert found.scope("name") == "Gate Cam" and found.scope("location") == "Kampot"
    assert found.scope("hardware") is None


def test_match_for_another_probe_or_garbage_is_ignored() -> None:
    assert parse_matches(MATCH.format(relates="urn:uuid:other").encode(), "x", "urn:uuid:abc") == []
    assert parse_matches(b"\x00garbage", "x") == []
    assert parse_matches(b"<a/>", "x") == []


def test_inventory_diff() -> None:
    def dev(
        tag: str, kind: DeviceKind, ip: str | None, status: DeviceStatus = DeviceStatus.DEPLOYED
    ) -> Device:
        return Device(tag, kind, "S1", status=status, ip=ip)

    devices = [
        dev("CAM-1", DeviceKind.CAMERA, "10.30.1.31"),
        dev("CAM-2", DeviceKind.CAMERA, "10.30.1.32"),
        dev("NVR-1", DeviceKind.NVR, "10.30.1.30"),
        dev("CAM-OLD", DeviceKind.CAMERA, "10.30.1.40", DeviceStatus.RETIRED),
        dev("PRN-1", DeviceKind.PRINTER, "10.30.1.20"),
    ]
    found = [
        Discovered("10.30.1.31", "urn:1", ("http://10.30.1.31/onvif/device_service",)),
        Discovered("10.30.1.30", "urn:2"),
        Discovered("10.30.1.99", "urn:3"),
        Discovered("10.30.1.20", "urn:4"),
    ]
    diff = diff_inventory(found, devices)
    assert [d.asset_tag for d, _ in diff.known] == ["CAM-1", "NVR-1"]
    assert [f.endpoint for f in diff.unknown] == ["urn:3"]
    assert [d.asset_tag for d in diff.missing] == ["CAM-2"]
    assert [d.asset_tag for d, _ in diff.not_cameras] == ["PRN-1"]


# ---------------------------------------------------------------- WS-Security (simulator side)


def _envelope(user: str, password: str, created: str, digest: bool = True) -> ET.Element:
    nonce = b"0123456789abcdef"
    value = username_token_digest(nonce, created, password) if digest else password
    kind = PASSWORD_DIGEST if digest else PASSWORD_DIGEST.replace("Digest", "Text")
    xml = (
        f'<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:w="{WSSE}" xmlns:u="{WSU}"><e:Header><w:Security>'
        f"<w:UsernameToken><w:Username>{user}</w:Username>"
        f'<w:Password Type="{kind}">{value}</w:Password>'
        f"<w:Nonce>{base64.b64encode(nonce).decode()}</w:Nonce><u:Created>{created}</u:Created>"
        "</w:UsernameToken></w:Security></e:Header><e:Body/></e:Envelope>"
    )
    return ET.fromstring(xml)


def test_username_token_checks() -> None:
    now = dt.datetime(2026, 11, 29, 1, 0, 0, tzinfo=dt.UTC)
    stamp = "2026-11-29T01:00:02Z"
    assert check_username_token(_envelope("admin", "pw", stamp), "admin", "pw", now, 5) is None
    assert (
        check_username_token(_envelope("admin", "bad", stamp), "admin", "pw", now, 5)
        == "wrong digest"
    )
    assert (
        check_username_token(_envelope("root", "pw", stamp), "admin", "pw", now, 5)
        == "unknown user"
    )
    late = _envelope("admin", "pw", "2026-11-29T02:00:00Z")
    assert "time window" in (check_username_token(late, "admin", "pw", now, 5) or "")
    assert (
        check_username_token(_envelope("admin", "pw", stamp, digest=False), "admin", "pw", now, 5)
        is None
    )
    assert check_username_token(
        ET.fromstring(f'<e:Envelope xmlns:e="{SOAP_ENV}"/>'), "a", "b", now, 5
    )


# ---------------------------------------------------------------- client helpers


def test_translate_kinds() -> None:
    auth = zeep.exceptions.Fault("Sender not Authorized", code="env:Sender")
    assert translate(auth, "GetDeviceInformation", 2).kind == "auth"
    unsupported = zeep.exceptions.Fault("x", subcodes=["ter:ActionNotSupported"])
    assert translate(unsupported, "GetServices", 2).kind == "unsupported"
    assert translate(zeep.exceptions.Fault("boom"), "Op", 2).message == "Op: SOAP fault: boom"
    timeout = translate(TimeoutError(), "GetProfiles", 1.5)
    assert (timeout.kind, timeout.message) == ("timeout", "GetProfiles: no answer within 1.5 s")
    assert translate(zeep.exceptions.TransportError("x", status_code=401), "Op", 1).kind == "auth"
    assert (
        translate(zeep.exceptions.TransportError("x", status_code=500), "Op", 1).message
        == "Op: HTTP 500"
    )
    assert translate(InvalidXml("bad"), "Op", 1).kind == "invalid_xml"
    assert translate(ConnectionRefusedError(), "Op", 1).kind == "unreachable"


def test_well_formed_check() -> None:
    check_well_formed(b"<a><b/></a>")
    with pytest.raises(InvalidXml):
        check_well_formed(b"<a><b></a>")


def test_repair_utf8() -> None:
    assert repair_utf8(b"<a>ok</a>") is None
    assert repair_utf8(b"<a>Hik\xffvision</a>") == "<a>Hik\ufffdvision</a>".encode()
    assert repair_utf8(b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>') is None


def test_pin_host() -> None:
    assert (
        pin_host("http://192.168.1.64:8000/onvif/Media", "127.30.1.31")
        == "http://127.30.1.31:8000/onvif/Media"
    )
    assert pin_host("rtsp://u:p@192.168.1.64/s", "::1") == "rtsp://u:p@[::1]/s"
    assert pin_host("not a url", "h") == "not a url"


def test_parse_http_date() -> None:
    assert parse_http_date("Sun, 29 Nov 2026 01:00:00 GMT") == dt.datetime(
        2026, 11, 29, 1, tzinfo=dt.UTC
    )
    assert parse_http_date(None) is None
    assert parse_http_date("yesterday") is None
