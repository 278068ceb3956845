"""What an ONVIF device sent, read into our terms: pure functions, no I/O.

Bytes of a SOAP answer (invalid UTF-8 repaired, well-formedness checked), the URIs a device
names (pinned to the address we reach it by), its clock and the zeep answer objects' fields.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kape_itops.probes.onvif.errors import InvalidXml, OnvifCallError

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


def check_well_formed(content: bytes) -> None:
    """Raise :class:`InvalidXml` unless ``content`` is one well-formed XML document."""
    try:
        ET.fromstring(content)  # noqa: S314 - expat, no external entities; only checks form
    except ET.ParseError as exc:
        raise InvalidXml(str(exc)[:120]) from exc


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


def text_or_none(value: Any) -> str | None:
    """``value`` as stripped text; None when absent or blank."""
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


def extension_xaddr(ext: Any, name: str) -> str | None:
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
