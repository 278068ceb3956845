"""Device-supplied strings (SNMP DisplayString, SSH output) as safe, readable text.

Agents send DisplayString as raw bytes in whatever encoding their firmware uses. We decode
UTF-8 first. Bytes that are not UTF-8 at all (no valid multi-byte sequence anywhere) are
read as Windows-1252, the superset of Latin-1 that printers and older firmware use for
``Toner réserve``, provided every byte is defined there and the result holds no control
characters (those mean binary data, not text). Anything else keeps each undecodable byte
visible as ``\\xNN`` in place, so words stay whole. Control and bidi characters (terminal
escapes, NULs used as padding, U+202E) are escaped too, so a hostile ``sysName`` cannot move
the cursor, recolour a terminal or reorder what is read. Rich-markup and HTML escaping stay with
the renderers; this module only makes text printable.

SSH output arrives as a stream: :func:`stream_decoder` reads it as UTF-8 across chunk
boundaries and takes each byte that is not UTF-8 as Windows-1252 (``\\xNN`` where that has
no character), instead of dropping it as netmiko does.
"""

from __future__ import annotations

import codecs
import re

from kape_itops.domain.text import reveal

_NEWLINES = re.compile(r"[\r\n\t]+")
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters (other than TAB, CR, LF) that mark bytes as binary data, not text."""
_FALLBACK = "cp1252"
"""Windows-1252: Latin-1's printable range plus € and typographic quotes in 0x80-0x9f."""


def decode_text(raw: bytes) -> str:
    """Bytes as text: UTF-8, else Windows-1252 when plausible, else UTF-8 with ``\\xNN``.

    Control characters are returned as they are; :func:`printable` escapes them.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = raw.decode("utf-8", errors="backslashreplace")
    if lenient.isascii():  # no valid UTF-8 sequence: a single-byte encoding, not broken UTF-8
        try:
            legacy = raw.decode(_FALLBACK)
        except UnicodeDecodeError:
            return lenient
        if not _BINARY.search(legacy):
            return legacy
    return lenient


def printable(text: str, *, single_line: bool = True) -> str:
    """Text with control and bidi characters shown as ``\\xNN``/``\\uNNNN`` (:func:`reveal`).

    ``single_line`` folds CR/LF/TAB runs to a space; otherwise CRLF becomes LF.
    """
    text = _NEWLINES.sub(" ", text).strip() if single_line else text
    return reveal(text)


def decode_display(raw: bytes, *, single_line: bool = True) -> str:
    """Bytes of a DisplayString as printable text (see the module docstring).

    Trailing NUL padding (common in printer MIBs) is dropped; ``single_line`` folds CR/LF/TAB
    runs into one space, as a table cell needs.
    """
    return printable(decode_text(raw.rstrip(b"\x00")), single_line=single_line)


def _device_bytes(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each undecodable byte as Windows-1252, else as ``\\xNN``."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    out = []
    for b in exc.object[exc.start : exc.end]:
        try:
            out.append(bytes([b]).decode(_FALLBACK))
        except UnicodeDecodeError:
            out.append(f"\\x{b:02x}")
    return "".join(out), exc.end


DEVICE_ERRORS = "itops-device-bytes"
"""Name of the codec error handler that reads stray bytes as Windows-1252."""
codecs.register_error(DEVICE_ERRORS, _device_bytes)


def stream_decoder() -> codecs.IncrementalDecoder:
    """An incremental UTF-8 decoder for device output (see the module docstring)."""
    return codecs.getincrementaldecoder("utf-8")(errors=DEVICE_ERRORS)


def hex_bytes(raw: bytes) -> str:
    """Bytes as ``0x…`` hex, for octet strings that are not text (MAC addresses, bitmaps)."""
    return "0x" + raw.hex()
