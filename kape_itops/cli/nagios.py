"""Nagios plugin exit codes for the probe commands (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."""

from __future__ import annotations

from collections.abc import Sequence

from kape_itops.domain.enums import SEVERITY, ProbeStatus
from kape_itops.errors import ItopsError
from kape_itops.probes.base import worst

__all__ = ["NAGIOS_ERRORS", "NAGIOS_UNKNOWN", "nagios_code"]

NAGIOS_UNKNOWN = 3
NAGIOS_ERRORS: dict[type[BaseException], int] = {ItopsError: NAGIOS_UNKNOWN}
"""``handle_errors`` mapping for probe commands: any error of ours is UNKNOWN (3)."""


def nagios_code(statuses: Sequence[ProbeStatus]) -> int:
    """The plugin exit code of a set of results (UNKNOWN when there are none)."""
    if not statuses:
        return NAGIOS_UNKNOWN
    return SEVERITY[worst(list(statuses))]
