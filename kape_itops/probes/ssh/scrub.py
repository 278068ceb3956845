"""Pure secret scrubbing of device configurations, before anything is hashed or stored.

Each rule set (``cisco``, ``routeros``, ``generic``; a command set names its own with
``scrub:``) masks the *value* of password, secret, community and key settings and keeps the
rest of the line, so diffs still show which setting changed place. Masked values read
:data:`MASK`; a changed password therefore does not show in a diff (by design: the hash of a
short password would be guessable). The ``generic`` rules run after every rule set as a net.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "<masked>"
RULESETS = ("cisco", "routeros", "generic")


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """The scrubbed text and how many values were masked."""

    text: str
    masked: int


_M = MASK
# (pattern, replacement) — patterns are per line, case-insensitive.
_CISCO: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^(\s*enable (?:secret|password)(?: level \d+)?(?: [0-9]| encrypted)?) \S+"),
        rf"\1 {_M}",
    ),
    (
        re.compile(r"^(\s*username \S+(?: .*?)? (?:secret|password)(?: [0-9]| encrypted)?) \S+"),
        rf"\1 {_M}",
    ),
    (re.compile(r"^(\s*snmp-server community) \S+"), rf"\1 {_M}"),
    (
        re.compile(
            r"^(\s*snmp-server host \S+(?: (?:informs|traps))?(?: version \S+)?"
            r"(?: (?:auth|noauth|priv))?) \S+"
        ),
        rf"\1 {_M}",
    ),
    (
        re.compile(r"^(\s*snmp-server user \S+ \S+(?: remote \S+)?(?: v3)? auth \S+) \S+"),
        rf"\1 {_M}",
    ),
    (re.compile(r"(\bpriv (?:des|3des|aes(?: \d+)?)) \S+"), rf"\1 {_M}"),
    (re.compile(r"^(\s*(?:tacacs|radius)-server key(?: [0-9])?) \S+"), rf"\1 {_M}"),
    (re.compile(r"^(\s*(?:key|password|secret)(?: [0-9])?) \S+"), rf"\1 {_M}"),
    (re.compile(r"^(\s*crypto isakmp key(?: [0-9])?) \S+"), rf"\1 {_M}"),
    (re.compile(r"(\b(?:pre-shared-key|wpa-psk)(?: (?:ascii|hex))?(?: [0-9])?) \S+"), rf"\1 {_M}"),
    (re.compile(r"(\bauthentication-key(?: \d+)?(?: md5)?) (?!<masked>)\S+"), rf"\1 {_M}"),
    (re.compile(r"(\bmessage-digest-key \d+ md5(?: [0-9])?) \S+"), rf"\1 {_M}"),
]

_RVALUE = r'(?:"(?:[^"\\]|\\.)*"|\S+)'
_ROUTEROS_KEYS = (
    "password",
    "secret",
    "passphrase",
    "wpa-pre-shared-key",
    "wpa2-pre-shared-key",
    "wpa3-pre-shared-key",
    "pre-shared-key",
    "private-key",
    "preshared-key",
    "authentication-key",
    "auth-key",
    "authentication-password",
    "encryption-password",
    "radius-secret",
    "psk",
    "key",
)
_ROUTEROS_KV = re.compile(rf"(?<![\w-])((?:{'|'.join(map(re.escape, _ROUTEROS_KEYS))})=){_RVALUE}")
_ROUTEROS_NAME = re.compile(rf"(?<![\w-])(name=){_RVALUE}")

_GENERIC = re.compile(
    r"(?i)\b((?:password|passwd|secret|community|passphrase|psk|pre-shared-key|"
    r"auth[-_]?key|priv[-_]?key|private[-_]?key|api[-_]?key|token)"
    r"(?:\s*[=:]\s*|\s+(?:[0-9]\s+)?))"
    r"(?!<masked>)([^\s\"']+|\"[^\"]*\"|'[^']*')"
)


def _join_continuations(text: str) -> str:
    """RouterOS exports wrap long lines with a trailing backslash; join them first."""
    return re.sub(r"\\\r?\n\s*", "", text)


def _cisco(line: str) -> tuple[str, int]:
    count = 0
    for pattern, repl in _CISCO:
        line, n = pattern.subn(repl, line)
        count += n
    return line, count


def _routeros(line: str, section: str) -> tuple[str, int]:
    line, n = _ROUTEROS_KV.subn(rf"\1{MASK}", line)
    if section.startswith("/snmp community"):
        line, m = _ROUTEROS_NAME.subn(rf"\1{MASK}", line)
        n += m
    return line, n


def _generic(line: str) -> tuple[str, int]:
    if MASK in line:
        return line, 0
    return _GENERIC.subn(rf"\1{MASK}", line)


def scrub(text: str, ruleset: str = "generic") -> Scrubbed:
    """Mask every secret value in a configuration (pure)."""
    if ruleset not in RULESETS:
        raise ValueError(f"unknown scrub rule set '{ruleset}' (expected {', '.join(RULESETS)})")
    if ruleset == "routeros":
        text = _join_continuations(text)
    out: list[str] = []
    total = 0
    section = ""
    for line in text.splitlines():
        n = 0
        if ruleset == "cisco":
            line, n = _cisco(line)
        elif ruleset == "routeros":
            stripped = line.strip()
            if stripped.startswith("/"):
                section = stripped
                line, n = _routeros(line, section)
            elif not stripped.startswith("#"):
                line, n = _routeros(line, section)
        if n == 0:
            line, n = _generic(line)
        total += n
        out.append(line)
    trailer = "\n" if text.endswith("\n") else ""
    return Scrubbed("\n".join(out) + trailer, total)
