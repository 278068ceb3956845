"""Alerts from the server: new problems to Telegram and e-mail, one round at a time.

A round (:meth:`Notifier.run_once`) asks the alert hook (:func:`kape_itops.reports.alerts.
evaluate`, with its flap suppression and cursor; on a server also the schools whose collector
has just gone silent) for the problems that became reportable, queues them for every configured
channel in the outbox file (:mod:`kape_itops.notify.outbox`), and sends each channel what it
has waiting. A channel that is down keeps its queue for the next round; what went out is taken
off, so nothing is lost and nothing is sent twice.

The channels are the ``[alerts.telegram]`` and ``[alerts.smtp]`` parts of the secrets file.
Without either, :meth:`Notifier.configured` is False and a round does nothing (the alert
cursor stays where ``itops report problems --new-since-last`` left it: use one or the other).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kape_itops.config import Settings
from kape_itops.domain.problems import Problem
from kape_itops.errors import ConfigError, ItopsError, NotifyError
from kape_itops.notify.message import Notice, notice
from kape_itops.notify.outbox import Outbox, default_path, locked
from kape_itops.notify.smtp import Smtp, SmtpConfig
from kape_itops.notify.telegram import Telegram, TelegramConfig
from kape_itops.probes import catalog
from kape_itops.reports import alerts
from kape_itops.secrets import SecretStore
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo

__all__ = ["ENTRY", "Channel", "ChannelReport", "Notifier", "NotifyReport"]

log = logging.getLogger(__name__)

ENTRY = "alerts"
"""The secrets-file entry holding the channels: ``[alerts.telegram]``, ``[alerts.smtp]``."""


class Channel(Protocol):
    """Where notices go (Telegram, SMTP)."""

    name: str

    def send(self, notices: Sequence[Notice], tz: dt.tzinfo, dropped: int = 0) -> None:
        """Deliver, or raise NotifyError saying how many notices went out."""

    def send_text(self, text: str) -> None:
        """Deliver one plain message."""


@dataclass(frozen=True, slots=True)
class ChannelReport:
    """What one channel did this round."""

    name: str
    sent: int
    pending: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NotifyReport:
    """One round: the new problems found and each channel's outcome."""

    new: int
    runs_evaluated: int
    channels: list[ChannelReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every channel delivered everything it had."""
        return all(c.error is None for c in self.channels)


class Notifier:
    """Evaluates new problems and sends them to the channels of the secrets file."""

    def __init__(
        self,
        store: Store,
        secrets_path: Path | None,
        *,
        state_path: Path | None = None,
        consecutive: int = 2,
        interval: dt.timedelta = dt.timedelta(minutes=5),
        silent_after: int | None = None,
        tz: dt.tzinfo | None = None,
        channels: Sequence[Channel] | None = None,
    ) -> None:
        """``interval`` × ``silent_after`` (default ``ITOPS_SILENT_AFTER`` or 6): how long a
        school's collector may go without a sync before its silence is told.
        ``channels``: use these instead of the secrets file's (for tests and embedding)."""
        self.store = store
        self.secrets_path = secrets_path
        self.consecutive = consecutive
        self.interval = interval
        self.silent_after = silent_after
        self.tz = tz or Settings().zone()
        self._channels = list(channels) if channels is not None else None
        self.state_path = state_path or (default_path(secrets_path) if secrets_path else None)

    def channels(self) -> list[Channel]:
        """The configured channels (reads the secrets file each time: edits apply next round;
        a misspelt part such as ``[alerts.telegramm]`` is a SecretsError, not silence)."""
        if self._channels is not None:
            return self._channels
        if self.secrets_path is None:
            return []
        secrets = SecretStore.load(self.secrets_path, protocols=catalog.secret_protocols())
        if not secrets.has(ENTRY):
            return []
        out: list[Channel] = []
        for part in ("telegram", "smtp"):
            try:
                cred = secrets.credential(ENTRY, part)
            except ConfigError:
                continue
            if part == "telegram":
                out.append(Telegram(TelegramConfig.from_credential(cred)))
            else:
                out.append(Smtp(SmtpConfig.from_credential(cred)))
        return out

    def configured(self) -> bool:
        """Whether any alert channel is set up (SecretsError/ConfigError when it is broken)."""
        return bool(self.channels())

    def run_once(self, now: dt.datetime | None = None) -> NotifyReport:
        """One round: evaluate, queue, send; a channel's failure is in its report, not raised."""
        channels = self.channels()
        if not channels:
            return NotifyReport(0, 0)
        if self.state_path is None:
            raise ConfigError("notify: no outbox file (give a secrets file or ITOPS_NOTIFY_STATE)")
        with locked(self.state_path):
            box = Outbox(self.state_path).load()
            box.keep_only({c.name for c in channels})
            outcome = alerts.evaluate(
                self.store,
                consecutive=self.consecutive,
                now=now,
                interval=self.interval,
                silent_after=self.silent_after,
                tz=self.tz,
            )
            new = self._notices(outcome.new)
            for c in channels:
                box.channel(c.name).add(new)
            box.save()
            reports = [self._send(c, box) for c in channels]
        return NotifyReport(len(new), outcome.runs_evaluated, reports)

    def _send(self, channel: Channel, box: Outbox) -> ChannelReport:
        queue = box.channel(channel.name)
        if not queue.notices:
            return ChannelReport(channel.name, 0, 0)
        total = len(queue.notices)
        try:
            channel.send(list(queue.notices), self.tz, queue.dropped)
        except ItopsError as exc:  # NotifyError, or a ConfigError such as an unreadable cafile
            done = exc.delivered if isinstance(exc, NotifyError) else 0
            queue.delivered(done)
            box.save()
            log.warning("%s (%d notices wait for the next round)", exc, len(queue.notices))
            return ChannelReport(channel.name, done, len(queue.notices), str(exc))
        queue.delivered(total)
        box.save()
        return ChannelReport(channel.name, total, 0)

    def test(self) -> list[ChannelReport]:
        """Send a test message to every channel (the cursor and the outbox stay as they are)."""
        text = (
            f"kape-itops test message from {socket.gethostname()} at "
            f"{dt.datetime.now(self.tz):%Y-%m-%d %H:%M %Z}: alerts reach this chat or mailbox."
        )
        out = []
        for c in self.channels():
            try:
                c.send_text(text)
            except ItopsError as exc:
                out.append(ChannelReport(c.name, 0, 0, str(exc)))
            else:
                out.append(ChannelReport(c.name, 1, 0))
        return out

    def _notices(self, problems: list[Problem]) -> list[Notice]:
        if not problems:
            return []
        with self.store.session() as s:
            names = {sc.code: (sc.name_km or sc.name or "") for sc in InventoryRepo(s).schools()}
        return [notice(p, names.get(p.school, "")) for p in problems]
