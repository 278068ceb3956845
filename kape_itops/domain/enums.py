"""Choices, defined once and reused by the ORM, the loaders and ``click.Choice``."""

from __future__ import annotations

from enum import StrEnum


class DeviceKind(StrEnum):
    """What a device is."""

    LAPTOP = "laptop"
    DESKTOP = "desktop"
    TABLET = "tablet"
    PRINTER = "printer"
    HOTSPOT = "hotspot"
    SWITCH = "switch"
    ROUTER = "router"
    CAMERA = "camera"
    NVR = "nvr"
    UPS = "ups"
    OTHER = "other"


class DeviceStatus(StrEnum):
    """Where a device is in its life."""

    IN_STOCK = "in_stock"
    DEPLOYED = "deployed"
    IN_REPAIR = "in_repair"
    RETIRED = "retired"
    LOST = "lost"


class SchoolLevel(StrEnum):
    """Education level of a school."""

    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    HIGHER = "higher"


class Currency(StrEnum):
    """Currencies used in purchases and quotations."""

    USD = "USD"
    KHR = "KHR"


class ProbeStatus(StrEnum):
    """Outcome of one probe of one device, ordered by severity in :data:`SEVERITY`."""

    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    UNKNOWN = "unknown"


class ProbeKind(StrEnum):
    """The probe protocols."""

    PING = "ping"
    SNMP = "snmp"
    ONVIF = "onvif"
    SSH = "ssh"


class RunStatus(StrEnum):
    """State of a probe run."""

    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class ChangeAction(StrEnum):
    """What a change-log entry records."""

    CREATE = "create"
    UPDATE = "update"
    RENAME = "rename"
    RETIRE = "retire"


class EntityType(StrEnum):
    """Which kind of record a change-log entry is about."""

    SCHOOL = "school"
    ROOM = "room"
    DEVICE = "device"
    USER = "user"
    """A server user account (never its password or hash)."""
    RFQ = "rfq"
    """A request for quotation: uploads, recorded evaluations, award decisions."""


LOCAL_ENTITIES = (EntityType.USER, EntityType.RFQ)
"""Change-log entities a site keeps to itself (never pushed to the server)."""


SEVERITY: dict[ProbeStatus, int] = {
    ProbeStatus.OK: 0,
    ProbeStatus.WARN: 1,
    ProbeStatus.CRIT: 2,
    ProbeStatus.UNKNOWN: 3,
}
"""Nagios exit code of each status; also its rank for 'worst of'."""
