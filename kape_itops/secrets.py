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

Secret values are wrapped in :class:`Secret`, whose ``str``/``repr`` never show the value.
"""

from __future__ import annotations

import os
import pwd
import stat
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from kape_itops.errors import SecretsError
from kape_itops.limits import Limits, too_big

SENSITIVE_KEYS = frozenset(
    {"community", "auth_key", "priv_key", "password", "passphrase", "secret", "token"}
)
SERVICE_PARTS: tuple[str, ...] = ("telegram", "smtp")
"""Parts any entry may have besides the probe kinds' protocols: the server's alert channels
(``[alerts.telegram]``, ``[alerts.smtp]``, read by :mod:`kape_itops.notify`)."""


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
        try:
            raw = tomllib.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise SecretsError(f"secrets file {path} is not UTF-8 text") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SecretsError(f"secrets file {path} is not valid TOML: {exc}") from exc
        except RecursionError as exc:
            raise SecretsError(f"secrets file {path} is nested too deeply") from exc
        return cls(_parse(raw, path, protocols), path)

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
