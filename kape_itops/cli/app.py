"""Shared CLI state (settings, store, secrets) and the error-to-exit-code edge."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from kape_itops.config import Settings, normalise_db_url
from kape_itops.domain.text import refusal, reveal
from kape_itops.errors import ItopsError, ValidationFailed
from kape_itops.secrets import SecretStore
from kape_itops.store.db import Store

F = TypeVar("F", bound=Callable[..., Any])
ACTOR_MAX = 100
"""Longest ``--actor`` (the change log's column); control and bidi characters are refused."""


@dataclass
class App:
    """Per-invocation state handed to every command through click's context."""

    settings: Settings
    _store: Store | None = field(default=None, repr=False)
    _secrets: SecretStore | None = field(default=None, repr=False)

    def store(self, *, require_schema: bool = True) -> Store:
        """The database at the newest schema (SQLite: created or upgraded here, said on stderr).

        ``require_schema=False`` hands it over as it is (``itops init`` migrates it itself).
        """
        if self._store is None:
            self._store = Store(self.settings.db_url)
        if require_schema and (note := self._store.prepare()):
            click.echo(note, err=True)
        return self._store

    def secrets(self) -> SecretStore:
        """The secrets file, loaded once (an empty store when none is configured)."""
        if self._secrets is None:
            self._secrets = SecretStore.from_settings(self.settings.secrets_path)
        return self._secrets

    def close(self) -> None:
        """Release database connections (called when the command ends)."""
        if self._store is not None:
            self._store.dispose()
            self._store = None

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
