"""Shared CLI state (settings, the services, secrets) and the error-to-exit-code edge."""

from __future__ import annotations

import functools
import ipaddress
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kape_itops.admin.service import Database
from kape_itops.config import Settings, normalise_db_url
from kape_itops.domain.inventory import Device
from kape_itops.domain.text import refusal, reveal
from kape_itops.errors import ConfigError, ItopsError, NotFoundError, StoreError, ValidationFailed
from kape_itops.probes import catalog
from kape_itops.secrets import SecretStore

if TYPE_CHECKING:  # the services load with the command that uses them
    from kape_itops.accounts.service import Accounts
    from kape_itops.backups.service import BackupService, BackupSettings
    from kape_itops.discovery.service import DiscoveryService
    from kape_itops.inventory.service import Inventory
    from kape_itops.probes.profiles import Profiles
    from kape_itops.probes.registry import ProbeRegistry
    from kape_itops.probes.runner import RunnerConfig
    from kape_itops.probes.service import ProbeService
    from kape_itops.probes.ssh.settings import CommandSets
    from kape_itops.quotes.service import Evaluations
    from kape_itops.reports.service import Reports
    from kape_itops.sync.server import SyncServer
    from kape_itops.sync.site import SyncSite

F = TypeVar("F", bound=Callable[..., Any])
ACTOR_MAX = 100
"""Longest ``--actor`` (the change log's column); control and bidi characters are refused."""


@dataclass
class App:
    """Per-invocation state handed to every command through click's context.

    Commands reach the database only through the services it hands out (:meth:`inventory`,
    :meth:`probes` …), each built on the one :class:`~kape_itops.admin.service.Database`.
    """

    settings: Settings
    _db: Database | None = field(default=None, repr=False)
    _secrets: SecretStore | None = field(default=None, repr=False)

    def database(self, *, ready: bool = True) -> Database:
        """The database, ``ready`` at the newest schema (SQLite: created or upgraded here, said
        on stderr); ``itops init`` takes it as it is and migrates it itself."""
        if self._db is None:
            self._db = Database(self.settings.db_url)
        if ready and (note := self._db.prepare()):
            click.echo(note, err=True)
        return self._db

    def inventory(self) -> Inventory:
        """Schools, devices and the change log, edits attributed to :attr:`actor`."""
        from kape_itops.inventory.service import Inventory

        return Inventory(self.database().store, self.actor)

    def discovery(self) -> DiscoveryService:
        """Network sweeps compared with the inventory, stored for the health report."""
        from kape_itops.discovery.service import DiscoveryService

        return DiscoveryService(self.database().store, self.actor)

    def reports(self) -> Reports:
        """Health reports and the problems hook."""
        from kape_itops.reports.service import Reports

        return Reports(self.database().store)

    def evaluations(self) -> Evaluations:
        """Stored quotation evaluations."""
        from kape_itops.quotes.service import Evaluations

        return Evaluations(self.database().store)

    def probes(
        self,
        profiles: Profiles,
        *,
        registry: ProbeRegistry | None = None,
        config: RunnerConfig | None = None,
        pps: float | None = None,
    ) -> ProbeService:
        """Probe runs over the inventory, with this invocation's secrets."""
        from kape_itops.probes.service import ProbeService

        return ProbeService(
            self.database().store,
            self.actor,
            profiles,
            registry=registry,
            config=config,
            secrets=self.secrets(),
            pps=pps,
        )

    def backups(
        self,
        command_sets: CommandSets,
        settings: BackupSettings,
        *,
        profiles: Profiles | None = None,
        with_secrets: bool = True,
    ) -> BackupService:
        """Configuration backups over SSH, with this invocation's secrets (``with_secrets``
        False: none are read, for history and diffs of stored versions)."""
        from kape_itops.backups.service import BackupService

        return BackupService(
            self.database().store,
            self.actor,
            command_sets,
            settings,
            secrets=self.secrets() if with_secrets else None,
            profiles=profiles,
        )

    def known_device(self, tag: str) -> Device | None:
        """The inventory device tagged ``tag``; None when there is none or no usable inventory
        (an address is never a tag, and a missing SQLite file is not created for a lookup)."""
        try:
            ipaddress.ip_address(tag)
        except ValueError:
            pass
        else:
            return None
        url = self.settings.db_url
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return None
        try:
            return self.inventory().device(tag)
        except (NotFoundError, StoreError, ConfigError):
            return None

    def sync_site(self) -> SyncSite:
        """This database as a sync site (collector or laptop) of a server."""
        from kape_itops.sync.site import SyncSite

        return SyncSite(self.database().store, self.actor, self.settings.secrets_path)

    def accounts(self) -> Accounts:
        """The server's user accounts, changes attributed to :attr:`actor`."""
        from kape_itops.accounts.service import Accounts

        return Accounts(self.database().store, self.actor)

    def sync_server(self) -> SyncServer:
        """This database as the central sync server."""
        from kape_itops.sync.server import SyncServer

        return SyncServer(self.database().store, self.actor)

    def joined(self) -> bool:
        """Whether this database is a site joined to a server (False without a usable one;
        a missing SQLite file is not created to find out)."""
        url = self.settings.db_url
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return False
        try:
            return bool(self.sync_site().identity().get("site"))
        except (StoreError, ConfigError):
            return False

    def secrets(self) -> SecretStore:
        """The secrets file, loaded once (an empty store when none is configured)."""
        if self._secrets is None:
            self._secrets = SecretStore.from_settings(
                self.settings.secrets_path, protocols=catalog.secret_protocols()
            )
        return self._secrets

    def close(self) -> None:
        """Release database connections (called when the command ends)."""
        if self._db is not None:
            self._db.close()

    @property
    def actor(self) -> str:
        """Who is recorded in the change log."""
        return self.settings.actor


pass_app = click.make_pass_decorator(App)


def make_settings(db: str | None, secrets: Path | None, actor: str | None) -> Settings:
    """Settings from the environment, overridden by global options."""
    base = Settings()
    who = actor or base.actor
    if (why := refusal(who, newlines=False)) or (why := _too_long(who)):
        raise click.UsageError(f"--actor/ITOPS_ACTOR '{reveal(who[:40], newlines=False)}': {why}")
    return Settings(
        db_url=normalise_db_url(db) if db else base.db_url,
        secrets_path=secrets if secrets is not None else base.secrets_path,
        actor=who,
        data_dir=base.data_dir,
    )


def _too_long(actor: str) -> str | None:
    return f"longer than {ACTOR_MAX} characters" if len(actor) > ACTOR_MAX else None


def handle_errors(exit_codes: dict[type[BaseException], int] | None = None) -> Callable[[F], F]:
    """Turn ItopsError into a clear message on stderr and its exit code (override per command)."""
    codes = exit_codes or {}

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ItopsError as exc:
                report_error(exc)
                code = next((c for t, c in codes.items() if isinstance(exc, t)), exc.exit_code)
                sys.exit(code)

        return cast(F, inner)

    return wrap


def report_error(exc: ItopsError) -> None:
    """Print an error, with every issue of a failed validation, to stderr."""
    err = sys.stderr
    click.echo(f"error: {reveal(str(exc))}", file=err)
    if isinstance(exc, ValidationFailed):
        for issue in exc.issues:
            click.echo(f"  {issue.severity}: {reveal(str(issue))}", file=err)
