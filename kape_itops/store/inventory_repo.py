"""Writes of schools, rooms and devices (reads: :mod:`inventory_reads`); every write appends
to the change log, holding the rows it changes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from kape_itops.domain.enums import ChangeAction, DeviceStatus
from kape_itops.domain.fields import DEVICE_COLUMNS, SCHOOL_COLUMNS, to_text
from kape_itops.domain.inventory import (
    ApplyStats,
    ChangeContext,
    Device,
    DeviceUpsert,
    SchoolUpsert,
)
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.store.inventory_reads import CHUNK as _CHUNK
from kape_itops.store.inventory_reads import InventoryReads, to_school
from kape_itops.store.models import ChangeRow, DeviceRow, RoomRow, SchoolRow

_PLAIN_DEVICE_FIELDS = tuple(c for c in DEVICE_COLUMNS if c not in ("asset_tag", "school", "room"))
_SCHOOL_FIELDS = tuple(c for c in SCHOOL_COLUMNS if c != "code")
# Core tables for bulk inserts: one executemany per batch, without ORM per-row bookkeeping
_DEVICES = cast(Table, DeviceRow.__table__)
_CHANGES = cast(Table, ChangeRow.__table__)


def _to_column(value: object) -> Any:
    """A domain value as stored in its column."""
    if isinstance(value, tuple):
        return " ".join(value) if value else None
    if hasattr(value, "value") and isinstance(value.value, str):  # StrEnum
        return str(value)
    return value


class InventoryRepo(InventoryReads):
    """Inventory access on one session. The only write methods are the ``apply_*`` ones."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._school_ids: dict[str, int] | None = None
        self._rooms: dict[tuple[int, str], int] | None = None

    # -- writes ----------------------------------------------------------------------------
    def _log(self, ctx: ChangeContext, rows: list[dict[str, Any]]) -> None:
        if rows:
            for r in rows:
                r.update(
                    at=ctx.at, actor=ctx.actor, source=ctx.source, source_sha256=ctx.source_sha256
                )
            if ctx.origin_id is not None:  # a synced edit: its own entry is the last one
                for r in rows:
                    r.update(origin_site_id=None, origin_id=None)
                rows[-1].update(origin_site_id=ctx.origin_site_id, origin_id=ctx.origin_id)
            self.s.execute(insert(_CHANGES), rows)

    def _school_id(self, code: str) -> int:
        if self._school_ids is None or code not in self._school_ids:
            self._school_ids = dict(
                self.s.execute(select(SchoolRow.code, SchoolRow.id)).tuples().all()
            )
        if code not in self._school_ids:
            raise NotFoundError(f"school '{code}' does not exist")
        return self._school_ids[code]

    def _room_id(
        self,
        school_id: int,
        name: str | None,
        ctx: ChangeContext,
        stats: ApplyStats,
        log: list[dict[str, Any]],
        school_code: str,
    ) -> int | None:
        if not name:
            return None
        if self._rooms is None:
            self._rooms = {
                (s, n): i
                for i, s, n in self.s.execute(select(RoomRow.id, RoomRow.school_id, RoomRow.name))
            }
        key = (school_id, name)
        if key not in self._rooms:
            room = RoomRow(school_id=school_id, name=name)
            self.s.add(room)
            self.s.flush()
            self._rooms[key] = room.id
            stats.rooms_created += 1
            log.append(
                {
                    "entity": "room",
                    "key": f"{school_code}/{name}",
                    "action": "create",
                    "field": None,
                    "old": None,
                    "new": name,
                }
            )
        return self._rooms[key]

    def apply_schools(self, upserts: Iterable[SchoolUpsert], ctx: ChangeContext) -> ApplyStats:
        """Create or update schools, logging every field that changes."""
        stats = ApplyStats()
        log: list[dict[str, Any]] = []
        for up in upserts:
            row = self.s.scalar(
                select(SchoolRow)
                .where(SchoolRow.code == up.code)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if row is None:
                if not up.values.get("name"):
                    raise UsageError(f"school '{up.code}' does not exist and no name was given")
                row = SchoolRow(
                    code=up.code, **{f: _to_column(up.values.get(f)) for f in _SCHOOL_FIELDS}
                )
                self.s.add(row)
                stats.created += 1
                snapshot = {
                    f: to_text(up.values.get(f))
                    for f in _SCHOOL_FIELDS
                    if up.values.get(f) not in (None, ())
                }
                log.append(
                    {
                        "entity": "school",
                        "key": up.code,
                        "action": "create",
                        "field": None,
                        "old": None,
                        "new": json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
                    }
                )
                continue
            current = to_school(row)
            changed = False
            for f, value in up.values.items():
                if f not in _SCHOOL_FIELDS:
                    raise UsageError(f"'{f}' is not a school field")
                old = getattr(current, f)
                if (old or None) == (value or None):
                    continue
                setattr(row, f, _to_column(value))
                log.append(
                    {
                        "entity": "school",
                        "key": up.code,
                        "action": "update",
                        "field": f,
                        "old": to_text(old) or None,
                        "new": to_text(value) or None,
                    }
                )
                changed = True
            if changed:
                stats.updated += 1
            else:
                stats.unchanged += 1
        self.s.flush()
        self._school_ids = None
        self._log(ctx, log)
        stats.changes += len(log)
        return stats

    def apply_devices(self, upserts: Sequence[DeviceUpsert], ctx: ChangeContext) -> ApplyStats:
        """Create, update or rename devices, logging every field that changes.

        New devices are inserted in bulk; callers validate first (unknown schools and
        duplicate keys raise here and roll the whole transaction back).
        """
        stats = ApplyStats()
        log: list[dict[str, Any]] = []
        tags = [u.asset_tag for u in upserts]
        existing: dict[str, DeviceRow] = {}
        for i in range(0, len(tags), _CHUNK):
            # locked (PostgreSQL) and re-read: the values compared are the committed ones
            q = (
                select(DeviceRow)
                .where(DeviceRow.asset_tag.in_(tags[i : i + _CHUNK]))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            for found in self.s.scalars(q):
                existing[found.asset_tag] = found
        current = self.devices_by_tag(list(existing))
        renamed = {r.id for u in upserts if u.new_tag and (r := existing.get(u.asset_tag))}
        self._refuse_case_clashes([u.new_tag for u in upserts if u.new_tag], renamed)
        inserts: list[dict[str, Any]] = []
        for up in upserts:
            row = existing.get(up.asset_tag)
            if row is None:
                inserts.append(self._new_device(up, ctx, stats, log))
                continue
            self._update_device(row, current[up.asset_tag], up, ctx, stats, log)
        if inserts:
            self.s.flush()  # pending updates first, as an ORM insert would autoflush them
            self._refuse_case_clashes([str(v["asset_tag"]) for v in inserts], set())
            self.s.execute(insert(_DEVICES), inserts)
        self.s.flush()
        self._log(ctx, log)
        stats.changes += len(log)
        return stats

    def _refuse_case_clashes(self, tags: Sequence[str], skip_ids: set[int]) -> None:
        """UsageError when a stored device (not among ``skip_ids``) has one of ``tags``,
        spelled alike or differing only in case."""
        lowered = sorted({t.lower() for t in tags})
        for i in range(0, len(lowered), _CHUNK):
            q = select(DeviceRow.id, DeviceRow.asset_tag).where(
                func.lower(DeviceRow.asset_tag).in_(lowered[i : i + _CHUNK])
            )
            for device_id, stored in self.s.execute(q):
                if device_id in skip_ids:
                    continue
                wanted = next(t for t in tags if t.lower() == stored.lower())
                raise UsageError(tag_in_use(wanted, stored))

    def _new_device(
        self, up: DeviceUpsert, ctx: ChangeContext, stats: ApplyStats, log: list[dict[str, Any]]
    ) -> dict[str, Any]:
        v = up.values
        if not v.get("kind") or not v.get("school"):
            raise UsageError(
                f"device '{up.asset_tag}' does not exist; kind and school are required to create it"
            )
        tag = up.new_tag or up.asset_tag
        school_code = str(v["school"])
        school_id = self._school_id(school_code)
        values = {f: _to_column(v.get(f)) for f in _PLAIN_DEVICE_FIELDS}
        values["status"] = values.get("status") or DeviceStatus.IN_STOCK.value
        values.update(
            asset_tag=tag,
            school_id=school_id,
            room_id=self._room_id(school_id, _opt(v.get("room")), ctx, stats, log, school_code),
        )
        stats.created += 1
        snapshot = {
            f: to_text(v.get(f))
            for f in DEVICE_COLUMNS
            if f != "asset_tag" and v.get(f) not in (None, ())
        }
        snapshot.setdefault("status", values["status"])
        log.append(
            {
                "entity": "device",
                "key": tag,
                "action": "create",
                "field": None,
                "old": None,
                "new": json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
            }
        )
        return values

    def _update_device(
        self,
        row: DeviceRow,
        cur: Device,
        up: DeviceUpsert,
        ctx: ChangeContext,
        stats: ApplyStats,
        log: list[dict[str, Any]],
    ) -> None:
        before = len(log)
        if up.new_tag and up.new_tag != row.asset_tag:
            log.append(
                {
                    "entity": "device",
                    "key": up.new_tag,
                    "action": "rename",
                    "field": "asset_tag",
                    "old": row.asset_tag,
                    "new": up.new_tag,
                }
            )
            row.asset_tag = up.new_tag
            stats.renamed += 1
        key = row.asset_tag
        school_code = cur.school
        for f, value in up.values.items():
            if f in ("asset_tag",):
                continue
            old = getattr(cur, f)
            if f == "school":
                if value is None:
                    raise UsageError("a device's school cannot be cleared")
                if value == old:
                    continue
                school_code = str(value)
                row.school_id = self._school_id(school_code)
            elif f == "room":
                continue
            elif f in ("kind", "status") and value is None:
                raise UsageError(f"a device's {f} cannot be cleared")
            else:
                if _same(old, value):
                    continue
                setattr(row, f, _to_column(value))
            log.append(
                {
                    "entity": "device",
                    "key": key,
                    "action": _action(f, value),
                    "field": f,
                    "old": to_text(old) or None,
                    "new": to_text(value) or None,
                }
            )
        if "room" in up.values or school_code != cur.school:
            room = _opt(up.values["room"]) if "room" in up.values else cur.room
            if school_code != cur.school or room != cur.room:
                row.room_id = self._room_id(row.school_id, room, ctx, stats, log, school_code)
                if room != cur.room:
                    log.append(
                        {
                            "entity": "device",
                            "key": key,
                            "action": "update",
                            "field": "room",
                            "old": cur.room,
                            "new": room,
                        }
                    )
        if len(log) > before:
            stats.updated += 1
        else:
            stats.unchanged += 1


def tag_in_use(wanted: str, stored: str) -> str:
    """The refusal of asset tag ``wanted`` when device ``stored`` already has it (any case)."""
    if wanted == stored:
        return f"asset tag '{wanted}' is already in use"
    return (
        f"asset tag '{wanted}' is already in use as '{stored}' "
        "(asset tags that differ only in case are the same tag)"
    )


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _same(old: object, new: object) -> bool:
    if old in (None, (), "") and new in (None, (), ""):
        return True
    return old == new


def _action(field: str, value: object) -> str:
    if field == "status" and value == DeviceStatus.RETIRED:
        return ChangeAction.RETIRE.value
    return ChangeAction.UPDATE.value
