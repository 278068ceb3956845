"""SSH host-key verification against an OpenSSH-format known-hosts file.

A key seen for the first time is refused unless the caller asked to trust new keys, in which
case it is pinned (appended to the file). A key that differs from the pinned one is always
refused, whatever the caller asked: that is what a man-in-the-middle looks like.

The default file is ``$ITOPS_KNOWN_HOSTS`` or ``~/.config/itops/known_hosts``, kept apart from
the user's own ``~/.ssh/known_hosts`` so pinning for a fleet never edits the latter.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from kape_itops.atomic import write_text
from kape_itops.errors import ItopsError, OutputError

KNOWN_HOSTS_ENV = "ITOPS_KNOWN_HOSTS"
_LOCK = threading.Lock()


class HostKeyError(ItopsError):
    """The server's host key could not be verified; the connection was not used."""


class HostKeyUnknown(HostKeyError):
    """No key is pinned for this host (refused unless trusting new keys)."""


class HostKeyChanged(HostKeyError):
    """The host presented a key different from the pinned one (always refused)."""


@dataclass(frozen=True, slots=True)
class KnownKey:
    """One entry of the file that matches a host."""

    key_type: str
    key_b64: str
    line: int

    @property
    def fingerprint(self) -> str:
        """The OpenSSH SHA256 fingerprint."""
        return fingerprint(self.key_b64)


def default_path() -> Path:
    """``$ITOPS_KNOWN_HOSTS`` or ``~/.config/itops/known_hosts``."""
    env = os.environ.get(KNOWN_HOSTS_ENV)
    return Path(env) if env else Path.home() / ".config" / "itops" / "known_hosts"


def host_pattern(host: str, port: int) -> str:
    """How OpenSSH names a host in known_hosts: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key_b64: str) -> str:
    """``SHA256:…`` of a base64 public key blob, as ``ssh-keygen -l`` prints it."""
    try:
        blob = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        return "SHA256:<invalid key>"
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _matches(pattern: str, name: str) -> bool:
    if pattern.startswith("|1|"):
        try:
            _, _, salt_b64, hash_b64 = pattern.split("|", 3)
            salt = base64.b64decode(salt_b64)
            want = base64.b64decode(hash_b64)
        except (ValueError, binascii.Error):
            return False
        got = hmac.new(salt, name.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(got, want)
    return pattern == name


def parse_entries(text: str, host: str, port: int) -> list[KnownKey]:
    """The keys in known-hosts ``text`` that apply to ``host`` on ``port`` (pure)."""
    name = host_pattern(host, port)
    found: list[KnownKey] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("@"):
            continue
        parts = line.split()
        if len(parts) < 3:
            continue
        patterns = parts[0].split(",")
        if any(p.startswith("!") and _matches(p[1:], name) for p in patterns):
            continue
        if any(_matches(p, name) for p in patterns):
            found.append(KnownKey(parts[1], parts[2], number))
    return found


class KnownHosts:
    """A known-hosts file and the policy for keys not yet in it."""

    def __init__(self, path: Path | None = None, *, trust_new: bool = False) -> None:
        self.path = path if path is not None else default_path()
        self.trust_new = trust_new

    def entries(self, host: str, port: int) -> list[KnownKey]:
        """The pinned keys of ``host:port``."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HostKeyError(f"cannot read known-hosts file {self.path}: {exc}") from exc
        return parse_entries(text, host, port)

    def verify(self, host: str, port: int, key_type: str, key_b64: str) -> str:
        """Accept a known key, pin a new one when trusting, else raise; returns what happened.

        Returns ``"known"`` or ``"pinned"``. Raises :class:`HostKeyChanged` when a different
        key is pinned (even when trusting new keys) and :class:`HostKeyUnknown` otherwise.
        """
        with _LOCK:
            known = self.entries(host, port)
            if any(k.key_type == key_type and k.key_b64 == key_b64 for k in known):
                return "known"
            if known:
                old = next((k for k in known if k.key_type == key_type), known[0])
                raise HostKeyChanged(
                    f"WARNING: HOST KEY OF {host_pattern(host, port)} HAS CHANGED: pinned "
                    f"{old.key_type} {old.fingerprint} (line {old.line} of {self.path}), "
                    f"offered {key_type} {fingerprint(key_b64)}. Someone may be intercepting "
                    f"the connection; refused. If the device was really replaced or reset, "
                    f"remove line {old.line} from {self.path} and connect again with --trust-new."
                )
            if not self.trust_new:
                raise HostKeyUnknown(
                    f"host key of {host_pattern(host, port)} is not known ({key_type} "
                    f"{fingerprint(key_b64)}); refused. Check the fingerprint on the device, "
                    f"then connect with --trust-new to pin it in {self.path}."
                )
            self._append(host_pattern(host, port), key_type, key_b64)
            return "pinned"

    def _append(self, name: str, key_type: str, key_b64: str) -> None:
        """Add a line: the whole file is rewritten atomically under a lock on its folder."""
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise HostKeyError(f"cannot pin host key in {self.path}: {exc}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            if text and not text.endswith("\n"):
                text += "\n"
            perms = None if self.path.exists() else 0o600
            write_text(self.path, f"{text}{name} {key_type} {key_b64}\n", perms=perms)
        except OSError as exc:
            raise HostKeyError(f"cannot pin host key in {self.path}: {exc}") from exc
        except OutputError as exc:
            raise HostKeyError(f"cannot pin host key: {exc}") from exc
        finally:
            os.close(lock)
