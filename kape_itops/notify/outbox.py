"""The notification outbox: what each channel has not delivered yet, in a small JSON file.

The file (mode 0600: problems describe the network) sits next to the secrets file unless
``ITOPS_NOTIFY_STATE`` names another path. It is replaced atomically after every change, and a
lock file beside it (``flock``) lets one round run at a time on the machine. Each channel keeps
at most :data:`MAX_PENDING` notices: past that the oldest are dropped and counted, and the next
message says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kape_itops.atomic import write_text
from kape_itops.errors import NotifyError
from kape_itops.limits import Limits
from kape_itops.notify.message import Notice

__all__ = ["FORMAT", "MAX_PENDING", "Outbox", "Pending", "default_path", "locked"]

log = logging.getLogger(__name__)

FORMAT = "kape-itops-notify/1"
MAX_PENDING = 500
"""Notices kept per channel while it is down."""
LOCK_WAIT_S = 120.0


def default_path(secrets_path: Path) -> Path:
    """``ITOPS_NOTIFY_STATE``, else ``<secrets file>.notify.json`` beside the secrets file."""
    env = os.environ.get("ITOPS_NOTIFY_STATE")
    return Path(env) if env else secrets_path.with_name(secrets_path.name + ".notify.json")


@dataclass
class Pending:
    """One channel's undelivered notices (oldest first) and how many were dropped."""

    notices: list[Notice] = field(default_factory=list)
    dropped: int = 0

    def add(self, new: list[Notice]) -> None:
        """Queue ``new`` behind what waits; keep the newest :data:`MAX_PENDING`."""
        self.notices += new
        over = len(self.notices) - MAX_PENDING
        if over > 0:
            del self.notices[:over]
            self.dropped += over

    def delivered(self, n: int) -> None:
        """The first ``n`` notices went out (the dropped count was told with them)."""
        del self.notices[:n]
        if n:
            self.dropped = 0


class Outbox:
    """The outbox file's content: channel name → :class:`Pending`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.channels: dict[str, Pending] = {}

    def load(self) -> Outbox:
        """Read the file (none yet: empty); a damaged file is set aside as ``.bad`` and logged."""
        try:
            data = self.path.read_bytes()[: Limits.from_env().max_file_bytes + 1]
        except FileNotFoundError:
            return self
        except OSError as exc:
            raise NotifyError(f"notify: cannot read {self.path}: {exc.strerror}") from None
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}")
            for name, body in raw["channels"].items():
                self.channels[str(name)] = Pending(
                    [Notice.from_json(n) for n in body["pending"]], int(body.get("dropped", 0))
                )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            bad = self.path.with_name(self.path.name + ".bad")
            with contextlib.suppress(OSError):
                self.path.replace(bad)
            log.error("notify: %s is damaged (%s); set aside as %s", self.path, exc, bad.name)
            self.channels = {}
        return self

    def save(self) -> None:
        """Replace the file atomically (0600)."""
        raw = {
            "format": FORMAT,
            "channels": {
                name: {"pending": [n.to_json() for n in p.notices], "dropped": p.dropped}
                for name, p in sorted(self.channels.items())
            },
        }
        write_text(self.path, json.dumps(raw, ensure_ascii=False, indent=1) + "\n", perms=0o600)

    def channel(self, name: str) -> Pending:
        """The pending queue of ``name`` (created empty)."""
        return self.channels.setdefault(name, Pending())

    def keep_only(self, names: set[str]) -> None:
        """Forget channels no longer configured."""
        for name in set(self.channels) - names:
            del self.channels[name]


@contextlib.contextmanager
def locked(path: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold ``<path>.lock`` for one round; NotifyError when another round keeps it ``wait_s``."""
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise NotifyError(f"notify: cannot open {lock}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise NotifyError(
                        f"notify: another round holds {lock} (waited {wait_s:g} s)"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)
