"""Database URLs shown to people or written to files: every form of password masked.

A password can sit in a URL's user part (``user:pw@host``), in its query (``?password=``,
``?sslpassword=``), inside a libpq connection string (``password=pw``, also as a query value
or percent-encoded: ``password%3Dpw``). :func:`safe_url` masks all of them; :func:`scrub`
also removes the URL's own secrets, in any spelling, from a driver's error text.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
UNPARSEABLE = "<unparseable database URL>"
MIN_SCRUB_CHARS = 4
"""Secrets shorter than this are masked where they sit in a URL, not searched for in text."""

_SECRET_KEY = r"\w*pass(?:word|wd|phrase)?|pwd"  # noqa: S105 (a key name pattern)
_SECRET_KEY_RE = re.compile(rf"(?i)^(?:{_SECRET_KEY})$")
_KEY_VALUE = re.compile(
    rf"(?i)\b({_SECRET_KEY})(\s*(?:=|%3D)\s*)"
    r"(\*\*\*(?![^\s&;,:])|'(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^\s&;,]*)"
)
"""``password=value`` (quoted or not), also percent-encoded, as in conninfo strings and queries."""
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/?#@:]*):\S*@")
"""``scheme://user:password@``, up to the last ``@`` of the word."""


def mask_text(text: str) -> str:
    """``text`` with every URL user password and ``password=`` value replaced by ``***``."""
    text = _USERINFO.sub(rf"\1:{MASK}@", text)
    return _KEY_VALUE.sub(rf"\1\2{MASK}", text)


def _parse(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError, TypeError):
        return None


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def safe_url(url: str) -> str:
    """The URL for messages and files people read: every password masked."""
    parsed = _parse(url)
    if parsed is None:
        return UNPARSEABLE
    query = {
        key: MASK
        if _SECRET_KEY_RE.match(key) or any(mask_text(v) != v for v in _values(value))
        else value
        for key, value in parsed.query.items()
    }
    parsed = parsed.set(query=query)
    if parsed.host and "@" in parsed.host:  # an unencoded '@' in the password
        parsed = parsed.set(host=MASK + parsed.host[parsed.host.rindex("@") :])
    shown = parsed.render_as_string(hide_password=True).replace(quote(MASK, safe=""), MASK)
    return mask_text(shown)


def has_password(url: str) -> bool:
    """Whether ``url`` holds a password in any form (an unparseable URL counts as one)."""
    parsed = _parse(url)
    if parsed is None or parsed.password is not None:
        return True
    return bool(secrets_of(url)) or mask_text(url) != url


def secrets_of(url: str) -> set[str]:
    """The URL's secret values, as written and percent-decoded or -encoded."""
    found: set[str] = set()
    parsed = _parse(url)
    if parsed is not None:
        if parsed.password:
            found.add(str(parsed.password))
        for key, value in parsed.query.items():
            if _SECRET_KEY_RE.match(key):
                found.update(_values(value))
        if parsed.host and "@" in parsed.host:  # the rest of a password with an unencoded '@'
            found.add(parsed.host[: parsed.host.rindex("@")])
    raw = _USERINFO.search(url)
    if raw:
        userinfo = raw.group(0)[len(raw.group(1)) + 1 : -1]
        found.add(userinfo)
    for match in _KEY_VALUE.finditer(unquote_plus(url)):
        value = match.group(3)
        if value[:1] in ("'", '"'):  # a quoted conninfo value: \' and \\ are escapes
            value = re.sub(r"\\(.)", r"\1", value[1:].removesuffix(value[0]))
        found.add(value)
    spelled = set()
    for secret in found:
        spelled |= {secret, unquote(secret), unquote_plus(secret), quote(secret, safe="")}
        spelled.add(quote_plus(secret, safe=""))
    return {s for s in spelled if s}


def scrub(text: str, url: str) -> str:
    """``text`` (say a driver's error) without any secret of ``url`` in any spelling."""
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        if len(secret) >= MIN_SCRUB_CHARS:
            text = text.replace(secret, MASK)
    return mask_text(text)


def conninfo_url(value: str) -> str:
    """A libpq connection string as a SQLAlchemy URL (its parameters become the query).

    Raises ValueError with a message that quotes nothing of ``value`` (it may hold a password).
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(value)
    except ProgrammingError as exc:
        raise ValueError("not a valid libpq connection string (key=value ...)") from exc
    query = {k: str(v) for k, v in params.items() if v is not None}
    return URL.create("postgresql+psycopg", query=query).render_as_string(hide_password=False)
