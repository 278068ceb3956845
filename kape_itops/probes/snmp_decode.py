"""Device-supplied SNMP strings as safe text.

Agents send DisplayString as raw bytes in whatever encoding their firmware uses. We decode
UTF-8 strictly and, when that fails, keep every undecodable byte visible as ``\\xNN`` instead
of guessing latin-1 or dropping it. Control characters (terminal escapes, NULs used as padding)
are escaped too, so a hostile ``sysName`` cannot move the cursor or recolour a terminal.
Rich-markup and HTML escaping stay with the renderers; this module only makes text printable.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"[\r\n\t]+")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def decode_display(raw: bytes, *, single_line: bool = True) -> str:
    """Bytes of a DisplayString as printable text; undecodable bytes shown as ``\\xNN``.

    Trailing NUL padding (common in printer MIBs) is dropped; ``single_line`` folds CR/LF/TAB
    runs into one space, as a table cell needs.
    """
    text = raw.rstrip(b"\x00").decode("utf-8", errors="backslashreplace")
    if single_line:
        text = _NEWLINES.sub(" ", text).strip()
    return _CONTROL.sub(_escape_control, text)


def hex_bytes(raw: bytes) -> str:
    """Bytes as ``0x…`` hex, for octet strings that are not text (MAC addresses, bitmaps)."""
    return "0x" + raw.hex()
