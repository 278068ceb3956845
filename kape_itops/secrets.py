"""The secrets file: named credential entries that devices and schools reference.

The file is TOML, owned by the user who runs kape-itops and readable by that owner only
(mode 0600 or stricter)::

    [school-default.snmp]          # entry "school-default", its SNMP part
    version = "2c"
    community = "not-public"

    [core-v3.snmp]
    version = "3"
    user = "monitor"
    auth_protocol = "SHA"          # MD5, SHA, SHA-256, SHA-512
    auth_key = "..."
    priv_protocol = "AES"          # DES, AES (AES-128), AES-256
    priv_key = "..."

    [school-default.ssh]
    username = "admin"
    password = "..."               # or key_file = "/path/to/id_ed25519"

    [cameras.onvif]
    username = "admin"
    password = "..."

    [alerts.telegram]              # the server's alerts (kape_itops.notify)
    token = "123456:ABC..."
    chat_id = "-1001234567890"

    [alerts.smtp]
    host = "smtp.example.org"
    port = 587
    security = "starttls"          # starttls, ssl, none (loopback only with a password)
    username = "itops"
    password = "..."
    sender = "itops@example.org"
    to = ["it@example.org", "head@example.org"]

    [server.sync]                  # written by 'itops sync join' (kape_itops.sync.site)
    url = "https://itops.example.org"
    site = "UUID"                  # this site's id, issued by the server
    school = "KEP-DCP"
    credential = "..."             # the site's bearer credential
    signing_key = "..."            # hex Ed25519 private key: signs the site's bundles
    cafile = "/etc/itops/server.pem"   # optional: the pinned server certificate

Secret values are wrapped in :class:`Secret`, whose ``str``/``repr`` never show the value.
"""

from __future__ import annotations

import os
import pwd
import re
import stat
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kape_itops.errors import SecretsError
from kape_itops.limits import Limits, too_big

SENSITIVE_KEYS = frozenset(
    {
        "community",
        "auth_key",
        "priv_key",
        "password",
        "passphrase",
        "secret",
        "token",
        "credential",
        "signing_key",
    }
)
SERVICE_PARTS: tuple[str, ...] = ("telegram", "smtp", "sync", "mail")
"""Parts any entry may have besides the probe kinds' protocols: the server's alert channels
(``[alerts.telegram]``, ``[alerts.smtp]``, read by :mod:`kape_itops.notify`), the monthly
report by e-mail (``[reports.mail]``) and a site's link to the server (``[server.sync]``)."""


class Secret:
    """A secret string that does not reveal itself when printed or logged."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value, for handing to a protocol library only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Credential:
    """One protocol part of a named entry: plain settings plus secret values."""

    name: str
    protocol: str
    settings: Mapping[str, str]
    secrets: Mapping[str, Secret]

    def get(self, key: str, default: str | None = None) -> str | None:
        """A non-secret setting."""
        return self.settings.get(key, default)

    def secret(self, key: str) -> Secret | None:
        """A secret value, or None when the entry has none under that key."""
        return self.secrets.get(key)


class SecretStore:
    """The loaded secrets file."""

    def __init__(self, entries: Mapping[str, Mapping[str, Credential]], path: Path | None) -> None:
        self._entries = entries
        self.path = path

    @classmethod
    def empty(cls) -> SecretStore:
        """A store with no entries (no secrets file configured)."""
        return cls({}, None)

    @classmethod
    def load(cls, path: Path, *, protocols: Collection[str] | None = None) -> SecretStore:
        """Load and check the file; refuse it unless it is a regular file of ours only we read.

        The checks look at the opened file itself (``fstat``), so it cannot be swapped between
        the check and the read. ``protocols``: the parts an entry may have (the probe kinds'
        secrets protocols, from the caller: this layer knows no probe kinds); None allows any.
        """
        return cls(_parse(_toml(_read(path), path), path, protocols), path)

    @classmethod
    def from_settings(
        cls, path: Path | None, *, protocols: Collection[str] | None = None
    ) -> SecretStore:
        """Load ``path`` when given, else an empty store."""
        return cls.load(path, protocols=protocols) if path is not None else cls.empty()

    def names(self) -> list[str]:
        """Entry names, sorted."""
        return sorted(self._entries)

    def has(self, name: str) -> bool:
        """Whether an entry of that name exists."""
        return name in self._entries

    def credential(self, name: str, protocol: str) -> Credential:
        """The ``protocol`` part of entry ``name``; a clear error when absent."""
        where = (
            f" in {self.path}"
            if self.path
            else " (no secrets file given: --secrets or ITOPS_SECRETS)"
        )
        entry = self._entries.get(name)
        if entry is None:
            raise SecretsError(f"credential '{name}' is not defined{where}")
        part = entry.get(protocol)
        if part is None:
            raise SecretsError(f"credential '{name}' has no [{name}.{protocol}] part{where}")
        return part


def _read(path: Path) -> bytes:
    """The file's bytes, after the checks of :func:`_check_file` on the opened file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise SecretsError(f"secrets file {path} does not exist") from exc
    except OSError as exc:
        raise SecretsError(f"secrets file {path} cannot be read: {exc.strerror}") from exc
    try:
        _check_file(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    limit = Limits.from_env().max_file_bytes
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise SecretsError(f"secrets file {path} cannot be read: {exc.strerror}") from exc
    if len(data) > limit:
        raise SecretsError(too_big(f"secrets file {path}", len(data), limit, "max_file_mb"))
    return data


def _toml(data: bytes, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SecretsError(f"secrets file {path} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SecretsError(f"secrets file {path} is not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise SecretsError(f"secrets file {path} is nested too deeply") from exc


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _check_file(path: Path, st: os.stat_result) -> None:
    """Refuse anything but a regular file owned by us and closed to group and others."""
    if not stat.S_ISREG(st.st_mode):
        raise SecretsError(f"secrets file {path} is not a regular file")
    me = os.geteuid()
    if st.st_uid != me:
        raise SecretsError(
            f"secrets file {path} belongs to {_user(st.st_uid)}, who could change it, not to "
            f"{_user(me)}, who runs kape-itops; it must be yours: chown {_user(me)} {path}"
        )
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(
            f"secrets file {path} has mode {stat.S_IMODE(st.st_mode):04o}; "
            f"it must be readable by its owner only: chmod 600 {path}"
        )


def _parse(
    raw: Mapping[str, object], path: Path, protocols: Collection[str] | None
) -> dict[str, dict[str, Credential]]:
    entries: dict[str, dict[str, Credential]] = {}
    for name, body in raw.items():
        if not isinstance(body, dict):
            raise SecretsError(f"{path}: entry '{name}' must be a table like [{name}.snmp]")
        parts: dict[str, Credential] = {}
        for protocol, fields in body.items():
            if protocols is not None and protocol not in (*protocols, *SERVICE_PARTS):
                raise SecretsError(
                    f"{path}: entry '{name}' has unknown part '{protocol}' "
                    f"(expected one of {', '.join((*protocols, *SERVICE_PARTS))})"
                )
            if not isinstance(fields, dict):
                raise SecretsError(f"{path}: [{name}.{protocol}] must be a table")
            settings: dict[str, str] = {}
            secrets: dict[str, Secret] = {}
            for key, value in fields.items():
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    value = ", ".join(value)  # a list (e-mail recipients): comma-separated text
                if not isinstance(value, str | int):
                    raise SecretsError(f"{path}: [{name}.{protocol}] {key} must be a string")
                if key in SENSITIVE_KEYS:
                    secrets[key] = Secret(str(value))
                else:
                    settings[key] = str(value)
            parts[protocol] = Credential(name, protocol, settings, secrets)
        entries[name] = parts
    return entries


def env_secret(var: str) -> Secret | None:
    """A secret from an environment variable, or None when unset or empty."""
    value = os.environ.get(var)
    return Secret(value) if value else None


# -- [server.sync]: a site's link to the server --------------------------------------------
SYNC_ENTRY, SYNC_PART = "server", "sync"
_SYNC_HEADER = re.compile(r"^\s*\[\s*server\s*\.\s*sync\s*\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")
_KEEP = re.compile(r"^\s*(#.*)?$")  # blank and comment lines before the next table stay


@dataclass(frozen=True, slots=True)
class SyncSecrets:
    """The ``[server.sync]`` section, written by ``itops sync join``."""

    url: str
    site: str
    school: str
    credential: Secret
    signing_key: Secret
    cafile: str | None = None

    def as_toml(self) -> str:
        """The section as TOML text (the one place secret values are revealed: the file)."""
        lines = ["[server.sync]                  # written by 'itops sync join'"]
        values = {
            "url": self.url,
            "site": self.site,
            "school": self.school,
            "credential": self.credential.reveal(),
            "signing_key": self.signing_key.reveal(),
        }
        if self.cafile:
            values["cafile"] = self.cafile
        lines += [f"{k} = {_toml_string(v)}" for k, v in values.items()]
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, str]:
        """The section's values as the TOML parser gives them back."""
        out = {
            "url": self.url,
            "site": self.site,
            "school": self.school,
            "credential": self.credential.reveal(),
            "signing_key": self.signing_key.reveal(),
        }
        if self.cafile:
            out["cafile"] = self.cafile
        return out


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def read_sync_section(path: Path) -> SyncSecrets | None:
    """The ``[server.sync]`` section of the secrets file, or None when it has none."""
    raw = _toml(_read(path), path)
    server = raw.get(SYNC_ENTRY)
    part = server.get(SYNC_PART) if isinstance(server, dict) else None
    if part is None:
        return None
    if not isinstance(part, dict):
        raise SecretsError(f"{path}: [server.sync] must be a table")
    for key in ("url", "site", "school", "credential", "signing_key"):
        if not isinstance(part.get(key), str) or not part[key]:
            raise SecretsError(
                f"{path}: [server.sync] has no '{key}'; join again: itops sync join URL TOKEN"
            )
    cafile = part.get("cafile")
    return SyncSecrets(
        url=part["url"],
        site=part["site"],
        school=part["school"],
        credential=Secret(part["credential"]),
        signing_key=Secret(part["signing_key"]),
        cafile=str(cafile) if cafile else None,
    )


def _replace_section(text: str, block: str) -> str:
    """``text`` with its ``[server.sync]`` table replaced by ``block`` (or ``block`` appended);
    every other byte kept."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _SYNC_HEADER.match(line)), None)
    if start is None:
        if not text:
            return block
        sep = "" if text.endswith("\n") else "\n"
        return text + sep + "\n" + block
    end = next((j for j in range(start + 1, len(lines)) if _TABLE.match(lines[j])), len(lines))
    while end > start + 1 and _KEEP.match(lines[end - 1]):
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def write_sync_section(path: Path, section: SyncSecrets) -> None:
    """Write ``[server.sync]`` into the secrets file atomically, mode 0600.

    The rest of the file is kept byte for byte; the result is parsed back and must hold the
    old content plus exactly this section, else nothing is written (SecretsError: the file
    defines ``server.sync`` in a form only a person should change).
    """
    from kape_itops.atomic import write_text

    old = _read(path).decode("utf-8", errors="strict") if os.path.lexists(path) else ""
    before = _toml(old.encode("utf-8"), path)
    new = _replace_section(old, section.as_toml())
    expected = {k: v for k, v in before.items() if k != SYNC_ENTRY}
    server = before.get(SYNC_ENTRY)
    others = {k: v for k, v in server.items() if k != SYNC_PART} if isinstance(server, dict) else {}
    expected[SYNC_ENTRY] = {**others, SYNC_PART: section.as_dict()}
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        after = None
    if after != expected:
        raise SecretsError(
            f"cannot update [server.sync] in {path}: the file defines server.sync in another "
            "form; remove it by hand and join again"
        )
    write_text(path, new, perms=0o600)
