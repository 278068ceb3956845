"""The one exception tree of kape-itops.

::

    ItopsError                      base of everything raised on purpose
    ├── UsageError                  bad command-line or API arguments (exit 2, Nagios commands 3)
    ├── ConfigError                 settings, profiles or templates that cannot be used
    │   └── SecretsError            secrets file missing, unreadable, too open, or a bad reference
    ├── StoreError                  the database cannot be reached, migrated or written
    ├── OutputError                 an output file cannot be written (no folder, disk full) (exit 1)
    ├── NotFoundError               an asset tag, school or record that does not exist
    ├── DataError                   input files with bad content (exit 1)
    │   └── ValidationFailed        carries every ``Issue`` found, all at once
    ├── ProbeError                  a probe could not even be set up (never a device's fault)
    ├── SyncError                   two-tier sync (exit 1)
    │   ├── LinkError               the server could not be reached or its answer was lost: retry
    │   ├── AuthError               unknown, used or expired token; unknown or revoked site (401)
    │   ├── ForbiddenError          a site sent another school's data (403, logged)
    │   ├── PayloadError            a malformed, hostile or oversized batch (4xx, nothing changed)
    │   └── BundleError             a tampered, foreign or unreadable bundle file
    └── NotifyError                 an alert channel (Telegram, SMTP) could not deliver (exit 1)

Third-party exceptions are translated at the edge that calls the library, with ``from exc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ItopsError(Exception):
    """Base class of every error kape-itops raises on purpose."""

    exit_code = 1


class UsageError(ItopsError):
    """The caller asked for something that cannot be done as asked."""

    exit_code = 2


class ConfigError(ItopsError):
    """A setting, profile or template cannot be used."""

    exit_code = 2


class SecretsError(ConfigError):
    """The secrets file is missing, unreadable, too open, or lacks a referenced entry."""


class StoreError(ItopsError):
    """The database cannot be reached, migrated or written."""


class OutputError(ItopsError):
    """A file cannot be written (no folder, disk full or read-only, no access); the old one stays."""


class NotFoundError(ItopsError):
    """A referenced record does not exist."""


class DataError(ItopsError):
    """Input data is malformed."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in an input file, located to the cell."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        shown = ""
        if self.value:  # a short prefix only: a hostile cell may hold megabytes
            cut = self.value if len(self.value) <= 40 else self.value[:40] + "..."
            shown = f" (value {cut!r})"
        return f"{where}: {self.reason}{shown}"


class ValidationFailed(DataError):
    """Input was rejected; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[Issue], summary: str = "validation failed") -> None:
        self.issues = list(issues)
        errors = sum(1 for i in self.issues if i.severity == "error")
        super().__init__(f"{summary}: {errors} error(s)")


class ProbeError(ItopsError):
    """A probe could not be set up (bad arguments, missing capability)."""


class SyncError(ItopsError):
    """Two-tier sync failed."""


class LinkError(SyncError):
    """The server could not be reached, or its answer was lost: retrying is always safe."""


class AuthError(SyncError):
    """An enrolment token or site credential is unknown, used, expired or revoked (HTTP 401)."""


class ForbiddenError(SyncError):
    """A site sent data of a school it is not enrolled for (HTTP 403; the attempt is logged)."""


class PayloadError(SyncError):
    """A batch is malformed, hostile or too large (HTTP 4xx); nothing was changed."""


class BundleError(SyncError):
    """A sync bundle file is tampered with, from an unknown site, or unreadable."""


class NotifyError(ItopsError):
    """An alert channel (Telegram, e-mail) could not deliver; ``delivered`` problems of the
    round went out before it failed. The message never holds the token or password."""

    def __init__(self, message: str, delivered: int = 0) -> None:
        super().__init__(message)
        self.delivered = delivered
