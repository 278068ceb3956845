"""ONVIF call failures in our words: :class:`OnvifCallError` and :func:`translate`.

Every exception onvif-zeep-async, zeep or aiohttp raises during a call is turned into an
:class:`OnvifCallError` (with a ``kind``) by :func:`translate`, here and nowhere else.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import zeep.exceptions

from kape_itops.probes.onvif.lib import ONVIFError, ONVIFTimeoutError


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


class InvalidXml(Exception):
    """A SOAP answer that is not well-formed XML (zeep itself parses leniently)."""
