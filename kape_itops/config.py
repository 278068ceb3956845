"""Settings, each with its ``ITOPS_*`` environment variable and default."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from kape_itops.errors import ConfigError

DEFAULT_DB = "sqlite:///itops.db"
DEFAULT_TZ = "Asia/Phnom_Penh"
CONNINFO = re.compile(
    r"^\s*(?:host|hostaddr|port|dbname|user|password|passfile|service|sslmode)\s*=", re.I
)
"""A libpq connection string (``host=... dbname=...``) rather than a URL or a file path."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def default_actor() -> str:
    """The OS user name, used when ``--actor`` is not given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def normalise_db_url(value: str) -> str:
    """Accept a SQLAlchemy URL, a libpq connection string or a plain file path (SQLite)."""
    if CONNINFO.match(value):  # "host=... dbname=... password=...": never a SQLite file name
        from kape_itops.store.urls import conninfo_url

        try:
            return conninfo_url(value)
        except ValueError as exc:
            raise ConfigError(f"the database setting (--db or ITOPS_DB) is {exc}") from exc
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def load_zone(name: str) -> dt.tzinfo:
    """The IANA time zone ``name`` (``UTC`` included); ConfigError when it is unknown."""
    if name.strip().upper() in ("UTC", "Z", "ETC/UTC"):
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"ITOPS_TZ '{name}' is not a known time zone (e.g. {DEFAULT_TZ} or UTC)"
        ) from exc


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide settings. Fields name their environment variable."""

    db_url: str = field(
        default_factory=lambda: normalise_db_url(_env("ITOPS_DB", DEFAULT_DB) or DEFAULT_DB)
    )
    """``ITOPS_DB``: SQLAlchemy URL or SQLite path."""
    secrets_path: Path | None = field(
        default_factory=lambda: Path(p) if (p := _env("ITOPS_SECRETS")) else None
    )
    """``ITOPS_SECRETS``: the secrets file (mode 0600)."""
    actor: str = field(default_factory=lambda: _env("ITOPS_ACTOR") or default_actor())
    """``ITOPS_ACTOR``: who is recorded in the change log."""
    data_dir: Path = field(default_factory=lambda: Path(_env("ITOPS_DATA", ".") or "."))
    """``ITOPS_DATA``: the folder holding ``inventory/``, ``probes/``, ``specs/``, ``quotes/``."""
    tz: str = field(default_factory=lambda: _env("ITOPS_TZ", DEFAULT_TZ) or DEFAULT_TZ)
    """``ITOPS_TZ``: IANA time zone for times shown in tables and reports (stored in UTC)."""

    def zone(self) -> dt.tzinfo:
        """The time zone of ``tz`` (ConfigError when it is unknown)."""
        return load_zone(self.tz)
