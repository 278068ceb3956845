"""WS-Discovery messages for ONVIF devices: the Probe to send and the ProbeMatches parsed; pure."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

WSD_GROUP = "239.255.255.250"
WSD_PORT = 3702
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NVT = "http://www.onvif.org/ver10/network/wsdl"


@dataclass(frozen=True, slots=True)
class Discovered:
    """One device that answered the probe."""

    source: str
    """The address the reply came from."""
    endpoint: str
    """The device's stable endpoint reference (``urn:uuid:…``)."""
    xaddrs: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def scope(self, key: str) -> str | None:
        """An ONVIF scope value, e.g. ``name``, ``hardware``, ``location`` (URL-decoded)."""
        prefix = f"onvif://www.onvif.org/{key}/"
        for s in self.scopes:
            if s.casefold().startswith(prefix):
                return unquote(s[len(prefix) :])
        return None

    @property
    def address(self) -> str:
        """The device's IP: the host of its first XAddr, else the reply's source."""
        for x in self.xaddrs:
            host = urlsplit(x).hostname
            if host:
                return host
        return self.source


def build_probe(message_id: str | None = None) -> tuple[str, bytes]:
    """A WS-Discovery Probe for ONVIF video transmitters: (message id, datagram)."""
    mid = message_id or f"urn:uuid:{uuid.uuid4()}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:dn="{NVT}">'
        f"<s:Header><a:Action>{WSD}/Probe</a:Action><a:MessageID>{mid}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    )
    return mid, xml.encode("utf-8")


def parse_matches(data: bytes, source: str, message_id: str | None = None) -> list[Discovered]:
    """The ProbeMatch entries of one reply; [] for anything else (or a reply to another probe)."""
    try:
        root = ET.fromstring(data)  # noqa: S314 - expat resolves no external entities
    except ET.ParseError:
        return []
    if message_id is not None:
        relates = root.findtext(f"{{{SOAP12}}}Header/{{{WSA}}}RelatesTo")
        if relates is not None and relates.strip() != message_id:
            return []
    found = []
    for match in root.iter(f"{{{WSD}}}ProbeMatch"):
        endpoint = (match.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address") or "").strip()
        xaddrs = tuple((match.findtext(f"{{{WSD}}}XAddrs") or "").split())
        scopes = tuple((match.findtext(f"{{{WSD}}}Scopes") or "").split())
        types = tuple((match.findtext(f"{{{WSD}}}Types") or "").split())
        if endpoint or xaddrs:
            found.append(Discovered(source, endpoint or xaddrs[0], xaddrs, scopes, types))
    return found
