"""Applying the server's inventory of a school at a site (the ``pull`` half of ``itops sync``).

The server's answer (``{"school": {...}, "rooms": [...], "devices": [{...}], ...}``) is turned
into school and device upserts; fields this site edited and has not had acknowledged keep the
local value (the server learns them at the next push, and merges there). Everything is written
through :class:`~kape_itops.store.inventory_repo.InventoryRepo` with the source
``"sync:pull <url>"``, so the change log records it and the outbox never sends it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kape_itops.domain.fields import DEVICE_FIELD, SCHOOL_FIELD, FieldError
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.sync import PULL_SOURCE
from kape_itops.errors import PayloadError
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.outbox_repo import OutboxRepo

PULL_ACTOR = "sync"
_SOURCE_CHARS = 300  # the change log's source column


@dataclass(slots=True)
class PullStats:
    """What applying the server's inventory did."""

    devices: int = 0
    """Devices the server sent for this school."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: int = 0
    """Change-log entries written (source ``sync:pull <url>``)."""
    kept_local: int = 0
    """Fields left at their local value: edited here, not yet acknowledged."""
    skipped: list[str] = field(default_factory=list)
    """Devices not applied, each with why (another school, a value that does not parse)."""


def pull_source(url: str) -> str:
    """The change-log source of inventory pulled from ``url``."""
    return f"{PULL_SOURCE} {url}"[:_SOURCE_CHARS]


def _value(spec_name: str, raw: Any, specs: Mapping[str, Any]) -> object:
    """A field's typed value from its JSON form (text, number, list or null)."""
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, list):
        text = " ".join(str(v) for v in raw)
    elif isinstance(raw, bool):
        raise FieldError("not a value of this field")
    else:
        text = str(raw)
    return specs[spec_name].parse(text)


def _school_values(
    doc: Mapping[str, Any], pending: set[str | None]
) -> tuple[dict[str, object], int]:
    values: dict[str, object] = {}
    kept = 0
    for name in SCHOOL_FIELD:
        if name == "code" or name not in doc:
            continue
        if name in pending:
            kept += 1
            continue
        try:
            values[name] = _value(name, doc[name], SCHOOL_FIELD)
        except FieldError:
            continue  # the server's value does not parse here: keep ours
    return values, kept


def _device(
    doc: Mapping[str, Any], school: str, pending: Mapping[tuple[str, str], set[str | None]]
) -> tuple[DeviceUpsert | None, int, str | None]:
    """(upsert or None, fields kept local, why skipped)."""
    tag = doc.get("asset_tag")
    if not isinstance(tag, str) or not tag:
        return None, 0, "a device without an asset tag"
    if str(doc.get("school") or "").upper() != school.upper():
        return None, 0, f"{tag}: belongs to school {str(doc.get('school'))[:32]!r}"
    mine = pending.get(("device", tag), set())
    if None in mine:
        return None, len(DEVICE_FIELD) - 1, None  # created or renamed here, not yet pushed
    values: dict[str, object] = {}
    kept = 0
    for name in DEVICE_FIELD:
        if name == "asset_tag" or name not in doc:
            continue
        if name in mine:
            kept += 1
            continue
        try:
            values[name] = _value(name, doc[name], DEVICE_FIELD)
        except FieldError as exc:
            return None, kept, f"{tag}: {name}: {exc}"
    return DeviceUpsert(tag, values), kept, None


def apply_pull(store: Store, doc: Mapping[str, Any], school: str, url: str) -> PullStats:
    """Apply the server's answer to ``pull`` for ``school``, in one write transaction."""
    stats = PullStats()
    school_doc = doc.get("school")
    devices = doc.get("devices")
    if not isinstance(school_doc, dict) or not isinstance(devices, list):
        raise PayloadError("the server's inventory answer has no 'school' object or 'devices' list")
    if str(school_doc.get("code") or "").upper() != school.upper():
        raise PayloadError(
            f"the server sent the inventory of school {str(school_doc.get('code'))[:32]!r}, "
            f"not of {school}; nothing applied"
        )
    stats.devices = len(devices)
    with store.write() as s:
        outbox = OutboxRepo(s)
        pending = outbox.pending_fields(outbox.cursors()["changes"])
        ctx = ChangeContext(actor=PULL_ACTOR, source=pull_source(url), at=dt.datetime.now(dt.UTC))
        repo = InventoryRepo(s)
        values, kept = _school_values(school_doc, pending.get(("school", school), set()))
        stats.kept_local += kept
        if None not in pending.get(("school", school), set()):
            if repo.school(school) is None and not values.get("name"):
                values["name"] = school
            stats.changes += repo.apply_schools([SchoolUpsert(school, values)], ctx).changes
        upserts: list[DeviceUpsert] = []
        for d in devices:
            if not isinstance(d, dict):
                stats.skipped.append("a device that is not an object")
                continue
            up, kept, why = _device(d, school, pending)
            stats.kept_local += kept
            if why:
                stats.skipped.append(why)
            elif up is not None:
                upserts.append(up)
        applied = repo.apply_devices(upserts, ctx)
        stats.created, stats.updated = applied.created, applied.updated
        stats.unchanged = applied.unchanged
        stats.changes += applied.changes
    return stats
