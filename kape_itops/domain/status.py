"""The current state of devices as the store hands it to the web pages (no I/O, no ORM).

"Current" is the newest stored result: of the ping probe for up and down (compact or plain,
whichever is newer), of every probe for the per-layer view and for problems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.problems import Observation
from kape_itops.domain.reports import StatusCounts

__all__ = ["DeviceLine", "Fleet", "LinkState", "PingState", "ProbeTotals", "state_of"]


class LinkState(StrEnum):
    """Whether a deployed device answers, by its newest ping."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"
    NO_DATA = "no_data"
    """No ping result at all, or none recent enough."""


@dataclass(frozen=True, slots=True)
class PingState:
    """The newest ping result of one deployed device: its status and time (None: none held)."""

    device_id: int
    asset_tag: str
    school: str
    room: str | None
    kind: DeviceKind
    status: str | None
    at: dt.datetime | None


def state_of(status: str | None, at: dt.datetime | None, fresh_from: dt.datetime) -> LinkState:
    """Up (ok, warn), down (crit), unknown, or no data when older than ``fresh_from``."""
    if status is None or at is None or at < fresh_from:
        return LinkState.NO_DATA
    if status in ("ok", "warn"):
        return LinkState.UP
    return LinkState.DOWN if status == "crit" else LinkState.UNKNOWN


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """One device in a school's list, with its newest ping."""

    asset_tag: str
    kind: DeviceKind
    status: DeviceStatus
    room: str | None
    model: str | None
    ip: str | None
    ping_status: str | None
    ping_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ProbeTotals:
    """One device's status counts of one probe over a period (rolled up), and the start of its
    first bucket in it (Unix seconds)."""

    asset_tag: str
    probe: str
    counts: StatusCounts
    first_bucket: int


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every deployed device's state by school, and what its problems are found in: the
    devices whose newest ping in the window is warn or crit, and the newest other results in
    the window that are."""

    counts: dict[str, dict[LinkState, int]]
    bad_pings: list[PingState]
    bad_results: list[Observation]
