"""Server side: apply a site's pushed inventory changes, field by field (:mod:`.merge`).

Applied edits go through :class:`InventoryRepo` (the change log stays append-only), each entry
with the edit's own time and actor, ``source = "sync <site uid>: <its source>"`` and its origin
ids. A change that touches another school's device, creates a device in another school or moves
one there raises :class:`ForbiddenError`. Room creations are not replayed: a room comes with the
first device placed in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from kape_itops.domain.fields import (
    DEVICE_FIELD,
    SCHOOL_FIELD,
    FieldError,
    to_text,
)
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.sync import Conflict, Site
from kape_itops.errors import ForbiddenError, NotFoundError, PayloadError, UsageError
from kape_itops.store.ingest_repo import IngestRepo
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.sync.merge import SERVER, Current, FieldEdit, create_edits, decide, norm

SOURCE_CHARS = 300


class ChangeApplier:
    """Applies one batch of change-log entries from ``site`` in the caller's transaction."""

    def __init__(self, inv: InventoryRepo, ingest: IngestRepo, site: Site, now: dt.datetime):
        self.inv = inv
        self.ingest = ingest
        self.site = site
        self.now = now
        self.conflicts: list[Conflict] = []

    def apply(self, items: Sequence[dict[str, Any]]) -> int:
        """Apply every item; returns how many changed something (conflicts in ``conflicts``)."""
        done = 0
        for index, item in enumerate(items):
            try:
                done += self._one(item)
            except (UsageError, NotFoundError, FieldError, PayloadError) as exc:
                raise PayloadError(f"batch item {index}: {exc}") from exc
        return done

    def _ctx(self, item: dict[str, Any]) -> ChangeContext:
        source = f"sync {self.site.uid}: {item['source']}"
        return ChangeContext(
            actor=item["actor"],
            source=source[:SOURCE_CHARS],
            at=item["at"],
            source_sha256=item["source_sha256"],
            origin_site_id=self.site.id,
            origin_id=item["id"],
        )

    def _forbid(self, what: str) -> ForbiddenError:
        return ForbiddenError(f"site {self.site.uid} of school {self.site.school} {what}")

    def _one(self, item: dict[str, Any]) -> int:
        entity = item["entity"]
        if entity == "device":
            return self._device(item)
        if entity == "school":
            return self._school(item)
        school = str(item["key"]).split("/", 1)[0]
        if school != self.site.school:
            raise self._forbid(f"sent a room of school {school!r}")
        return 0

    # -- devices -----------------------------------------------------------------------------
    def _stored(self, tag: str) -> Any:
        stored = self.inv.stored_tag(tag)
        device = self.inv.device(stored) if stored else None
        if device is not None and device.school != self.site.school:
            raise self._forbid(f"changed device {tag!r} of school {device.school}")
        return device

    def _device(self, item: dict[str, Any]) -> int:
        key, action, at, actor = item["key"], item["action"], item["at"], item["actor"]
        if action == "rename":
            return self._rename(item)
        if action == "create":
            edits = [
                e
                for e in create_edits("device", key, item["new"], at, actor)
                if e.field in DEVICE_FIELD and e.field != "asset_tag"
            ]
        else:
            field = item["field"]
            if field not in DEVICE_FIELD or field == "asset_tag":
                raise PayloadError(f"field 'field': {field!r} is not a device field")
            edits = [FieldEdit("device", key, field, item["old"], item["new"], at, actor)]
        for e in edits:
            if e.field == "school" and norm(e.new) not in (None, self.site.school):
                raise self._forbid(f"moved or created device {key!r} in school {e.new!r}")
        device = self._stored(key)
        if device is None:
            if action != "create":
                self._lost(edits, "the device is not on the server")
                return 0
            values = {e.field: _parse(DEVICE_FIELD, e.field, e.new) for e in edits}
            values.setdefault("school", self.site.school)
            return self._upsert(DeviceUpsert(key, values), item)
        values = {}
        for e in edits:
            if e.field not in DEVICE_FIELD or e.field == "asset_tag":
                continue
            cur = to_text(getattr(device, e.field)) or None
            if self._decide(e, cur, device.asset_tag):
                values[e.field] = _parse(DEVICE_FIELD, e.field, e.new)
        if not values:
            return 0
        return self._upsert(DeviceUpsert(device.asset_tag, values), item)

    def _rename(self, item: dict[str, Any]) -> int:
        old, new = item["old"], item["new"]
        if not old or not new:
            raise PayloadError("fields 'old', 'new': a rename needs the old and the new tag")
        target = self._stored(new)
        device = self._stored(old)
        if target is not None and device is None:
            return 0  # renamed here already: nothing to do
        if target is not None and device is not None and target.asset_tag == device.asset_tag:
            target = None  # the same device: a change of case only
        if device is not None and device.asset_tag == new:
            return 0
        if target is not None or device is None:
            why = "the new tag is in use" if target is not None else "the device is not here"
            edit = FieldEdit("device", new, "asset_tag", old, new, item["at"], item["actor"])
            self._lost([edit], why)
            return 0
        tag = _parse(DEVICE_FIELD, "asset_tag", new)
        return self._upsert(DeviceUpsert(device.asset_tag, {}, new_tag=str(tag)), item)

    def _upsert(self, up: DeviceUpsert, item: dict[str, Any]) -> int:
        ctx = self._ctx(item)
        stats, why = self.ingest.attempt(lambda: self.inv.apply_devices([up], ctx))
        if why is not None:
            edits = [
                FieldEdit("device", up.asset_tag, f, None, to_text(v) or None, ctx.at, ctx.actor)
                for f, v in up.values.items()
            ]
            self._lost(edits[:1], f"refused by the database: {why}")
            return 0
        return 1 if stats is not None and stats.wrote else 0

    # -- schools -----------------------------------------------------------------------------
    def _school(self, item: dict[str, Any]) -> int:
        key, at, actor = item["key"], item["at"], item["actor"]
        if key != self.site.school:
            raise self._forbid(f"changed school {key!r}")
        school = self.inv.school(key)
        if school is None:
            return 0
        if item["action"] == "create":
            edits = create_edits("school", key, item["new"], at, actor)
        else:
            field = item["field"]
            if field not in SCHOOL_FIELD or field == "code":
                raise PayloadError(f"field 'field': {field!r} is not a school field")
            edits = [FieldEdit("school", key, field, item["old"], item["new"], at, actor)]
        values = {}
        for e in edits:
            if e.field not in SCHOOL_FIELD or e.field == "code":
                continue
            if self._decide(e, to_text(getattr(school, e.field)) or None, key):
                values[e.field] = _parse(SCHOOL_FIELD, e.field, e.new)
        if not values:
            return 0
        stats = self.inv.apply_schools([SchoolUpsert(key, values)], self._ctx(item))
        return 1 if stats.wrote else 0

    # -- conflicts ---------------------------------------------------------------------------
    def _decide(self, edit: FieldEdit, cur: str | None, key: str) -> bool:
        last = self.ingest.latest_change(edit.entity, key, edit.field)
        state = Current(cur, last[0] if last else None, last[1] if last else None)
        decision = decide(edit, state, self.site.uid, self.now)
        if decision.conflict is not None:
            self.conflicts.append(decision.conflict)
        return decision.apply

    def _lost(self, edits: Sequence[FieldEdit], why: str) -> None:
        """Keep edits that could not be applied at all as conflicts the server side won."""
        for e in edits:
            self.conflicts.append(
                Conflict(
                    entity=e.entity,
                    key=e.key,
                    field=e.field,
                    kept=None,
                    kept_at=self.now,
                    kept_by=f"{SERVER} ({why})"[:100],
                    other=e.new,
                    other_at=e.at,
                    other_by=e.actor,
                    site_uid=self.site.uid,
                    found_at=self.now,
                )
            )


def _parse(fields: dict[str, Any], name: str, text: str | None) -> object:
    if norm(text) is None:
        return None
    try:
        return fields[name].parse(text)
    except FieldError as exc:
        raise PayloadError(f"field {name!r}: {exc}") from exc
