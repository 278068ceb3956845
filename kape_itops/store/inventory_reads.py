"""Reads of schools, rooms, devices and the change log (the base of the inventory repo)."""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from kape_itops.domain.enums import (
    ChangeAction,
    Currency,
    DeviceKind,
    DeviceStatus,
    EntityType,
    SchoolLevel,
)
from kape_itops.domain.fields import FieldError, parse_ip, parse_mac
from kape_itops.domain.inventory import Change, Device, DeviceFilter, School, Summary
from kape_itops.errors import NotFoundError
from kape_itops.store.models import ChangeRow, DeviceRow, RoomRow, SchoolRow

CHUNK = 500
"""Keys per IN (...) query."""


def to_school(row: SchoolRow) -> School:
    """The domain school of a row."""
    return School(
        code=row.code,
        name=row.name,
        name_km=row.name_km,
        province=row.province,
        district=row.district,
        level=SchoolLevel(row.level) if row.level else None,
        subnets=tuple(row.subnets.split()) if row.subnets else (),
        contact=row.contact,
        credential=row.credential,
    )


def to_device(row: DeviceRow, school_code: str, room: str | None) -> Device:
    """The domain device of a row, its school's code and its room's name."""
    return Device(
        asset_tag=row.asset_tag,
        kind=DeviceKind(row.kind),
        school=school_code,
        status=DeviceStatus(row.status),
        manufacturer=row.manufacturer,
        model=row.model,
        serial=row.serial,
        mac=row.mac,
        ip=row.ip,
        hostname=row.hostname,
        room=room,
        funding=row.funding,
        purchase_date=row.purchase_date,
        vendor=row.vendor,
        unit_price=Decimal(row.unit_price).quantize(Decimal("0.01"))
        if row.unit_price is not None
        else None,
        currency=Currency(row.currency) if row.currency else None,
        warranty_until=row.warranty_until,
        notes=row.notes,
        platform=row.platform,
        probes=tuple(row.probes.split()) if row.probes else (),
        credential=row.credential,
    )


def _change(row: ChangeRow) -> Change:
    return Change(
        id=row.id,
        at=row.at,
        actor=row.actor,
        entity=EntityType(row.entity),
        key=row.key,
        action=ChangeAction(row.action),
        field=row.field,
        old=row.old,
        new=row.new,
        source=row.source,
        source_sha256=row.source_sha256,
    )


class InventoryReads:
    """Inventory queries on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def schools(self) -> list[School]:
        """Every school, by code."""
        return [to_school(r) for r in self.s.scalars(select(SchoolRow).order_by(SchoolRow.code))]

    def school(self, code: str) -> School | None:
        """One school, or None."""
        row = self.s.scalar(select(SchoolRow).where(SchoolRow.code == code))
        return to_school(row) if row else None

    def _device_query(self) -> Select[tuple[DeviceRow, str, str]]:
        room = aliased(RoomRow)
        return (
            select(DeviceRow, SchoolRow.code, room.name)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .outerjoin(room, DeviceRow.room_id == room.id)
        )

    def device(self, tag: str) -> Device | None:
        """One device by asset tag, or None."""
        got = self.s.execute(self._device_query().where(DeviceRow.asset_tag == tag)).first()
        return to_device(*got) if got else None

    def tag_spellings(self, tags: Sequence[str]) -> dict[str, str]:
        """For ``tags``, the stored tag equal to each one ignoring case, keyed by its lower case.

        Tags that differ only in case are one tag (a unique index on ``lower(asset_tag)``).
        """
        out: dict[str, str] = {}
        lowered = sorted({t.lower() for t in tags})
        for i in range(0, len(lowered), CHUNK):
            q = select(DeviceRow.asset_tag).where(
                func.lower(DeviceRow.asset_tag).in_(lowered[i : i + CHUNK])
            )
            out.update({t.lower(): t for t in self.s.scalars(q)})
        return out

    def stored_tag(self, tag: str) -> str | None:
        """The stored spelling of ``tag`` (exact, else ignoring case), or None."""
        return self.tag_spellings([tag]).get(tag.lower())

    def find_devices(self, key: str) -> list[Device]:
        """Devices whose tag, serial or host name (any case), IP or MAC (any notation) is ``key``.

        A host name also matches by its first label (``psp-sw1`` finds ``psp-sw1.school.lan``).
        """
        text = key.strip()
        low = text.lower()
        host = func.lower(DeviceRow.hostname)
        conds = [
            func.lower(DeviceRow.asset_tag) == low,
            func.lower(DeviceRow.serial) == low,
            host == low,
            host.startswith(low + ".", autoescape=True),
        ]
        for column, parse in ((DeviceRow.ip, parse_ip), (DeviceRow.mac, parse_mac)):
            with contextlib.suppress(FieldError):  # not an IP (or MAC): no such condition
                conds.append(func.lower(column) == parse(text).lower())
        q = self._device_query().where(or_(*conds)).order_by(SchoolRow.code, DeviceRow.asset_tag)
        return [to_device(*got) for got in self.s.execute(q)]

    def search_devices(
        self, text: str, flt: DeviceFilter | None, offset: int, limit: int
    ) -> tuple[list[Device], int]:
        """Devices whose tag, serial, MAC, IP, host name, manufacturer or model holds ``text``
        (ignoring case; a MAC in any notation), within ``flt``; (one page, how many in all).

        The exact tag comes first, then by school and tag. With ``text``, one query (its rows
        carry the count of all matches); without, a count and a page.
        """
        conds: list[ColumnElement[bool]] = []
        flt = flt or DeviceFilter()
        if flt.schools:
            conds.append(SchoolRow.code.in_(flt.schools))
        if flt.kinds:
            conds.append(DeviceRow.kind.in_([str(k) for k in flt.kinds]))
        if flt.statuses:
            conds.append(DeviceRow.status.in_([str(s) for s in flt.statuses]))
        needle = text.strip().lower()
        exact = func.lower(DeviceRow.asset_tag) == needle
        if needle:  # '%' and '_' are plain characters here, not wildcards
            columns = (
                DeviceRow.asset_tag,
                DeviceRow.serial,
                DeviceRow.mac,
                DeviceRow.ip,
                DeviceRow.hostname,
                DeviceRow.manufacturer,
                DeviceRow.model,
            )
            match = [func.lower(c).contains(needle, autoescape=True) for c in columns]
            hexdigits = re.sub(r"[\s:.-]", "", needle)
            if len(hexdigits) >= 4 and re.fullmatch(r"[0-9a-f]+", hexdigits):
                bare = func.replace(DeviceRow.mac, ":", "")
                match.append(bare.contains(hexdigits, autoescape=True))
            conds.append(or_(*match))
        room = aliased(RoomRow)
        q = (
            select(DeviceRow, SchoolRow.code, room.name, func.count().over())
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .outerjoin(room, DeviceRow.room_id == room.id)
            .where(*conds)
            .order_by(case((exact, 0), else_=1), SchoolRow.code, DeviceRow.asset_tag)
            .offset(offset)
            .limit(limit)
        )
        if needle:  # one scan: the page carries the count of every match
            rows = self.s.execute(q).tuples().all()
            if rows:
                return [to_device(d, c, r) for d, c, r, _ in rows], int(rows[0][3])
            if not offset:
                return [], 0
        counted = (
            select(func.count(DeviceRow.id))
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(*conds)
        )
        total = int(self.s.scalar(counted) or 0)
        if needle:
            return [], total
        page = q.with_only_columns(DeviceRow, SchoolRow.code, room.name)  # all: index order
        return [to_device(*got) for got in self.s.execute(page)], total

    def devices_by_tag(self, tags: Sequence[str]) -> dict[str, Device]:
        """The devices among ``tags`` that exist, keyed by tag."""
        out: dict[str, Device] = {}
        for i in range(0, len(tags), CHUNK):
            q = self._device_query().where(DeviceRow.asset_tag.in_(tags[i : i + CHUNK]))
            for got in self.s.execute(q):
                out[got[0].asset_tag] = to_device(*got)
        return out

    def owners(self, column: str, values: Sequence[str]) -> dict[str, str]:
        """For ``serial`` or ``mac`` values, which asset tag holds each one in the database."""
        col = {"serial": DeviceRow.serial, "mac": DeviceRow.mac}[column]
        out: dict[str, str] = {}
        for i in range(0, len(values), CHUNK):
            q = select(col, DeviceRow.asset_tag).where(col.in_(values[i : i + CHUNK]))
            out.update({str(v): t for v, t in self.s.execute(q)})
        return out

    def require_schools(self, codes: Iterable[str]) -> None:
        """NotFoundError naming the first code that is not a school (with the nearest codes)."""
        wanted = set(codes)
        if not wanted:
            return
        known = set(self.s.scalars(select(SchoolRow.code).where(SchoolRow.code.in_(wanted))))
        missing = sorted(wanted - known)
        if missing:
            everyone = list(self.s.scalars(select(SchoolRow.code).order_by(SchoolRow.code)))
            near = difflib.get_close_matches(missing[0], everyone, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            if not near and everyone and len(everyone) <= 20:
                hint = f"; schools: {', '.join(everyone)}"
            raise NotFoundError(f"school '{missing[0]}' does not exist{hint}")

    def iter_devices(self, flt: DeviceFilter | None = None) -> Iterator[Device]:
        """Devices matching ``flt``, by school then asset tag, streamed.

        NotFoundError (on the first step) when the filter names a school that does not exist.
        """
        q = self._device_query()
        flt = flt or DeviceFilter()
        if flt.schools:
            self.require_schools(flt.schools)
            q = q.where(SchoolRow.code.in_(flt.schools))
        if flt.kinds:
            q = q.where(DeviceRow.kind.in_([str(k) for k in flt.kinds]))
        if flt.statuses:
            q = q.where(DeviceRow.status.in_([str(s) for s in flt.statuses]))
        if flt.fundings:
            q = q.where(func.lower(DeviceRow.funding).in_([f.lower() for f in flt.fundings]))
        if flt.tags:
            q = q.where(DeviceRow.asset_tag.in_(flt.tags))
        if flt.search:  # '%' and '_' are plain characters here, not wildcards
            needle = flt.search.lower()
            q = q.where(
                or_(
                    *(
                        func.lower(c).contains(needle, autoescape=True)
                        for c in (
                            DeviceRow.asset_tag,
                            DeviceRow.model,
                            DeviceRow.manufacturer,
                            DeviceRow.serial,
                            DeviceRow.mac,
                            DeviceRow.ip,
                            DeviceRow.hostname,
                            DeviceRow.notes,
                        )
                    )
                )
            )
        q = q.order_by(SchoolRow.code, DeviceRow.asset_tag).execution_options(yield_per=1000)
        for got in self.s.execute(q):
            yield to_device(*got)

    def summary(self, flt: DeviceFilter | None = None) -> Summary:
        """Counts per school × kind, per funding project and per status."""
        out = Summary()
        for d in self.iter_devices(flt):
            out.by_school_kind.setdefault(d.school, {}).setdefault(d.kind.value, 0)
            out.by_school_kind[d.school][d.kind.value] += 1
            key = d.funding or "(none)"
            out.by_funding[key] = out.by_funding.get(key, 0) + 1
            out.by_status[d.status.value] = out.by_status.get(d.status.value, 0) + 1
            out.total += 1
        return out

    def history(
        self,
        entity: EntityType | None = None,
        key: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Change]:
        """Change-log entries, oldest first."""
        q = select(ChangeRow)
        if entity is not None:
            q = q.where(ChangeRow.entity == entity.value)
        if key is not None:
            q = q.where(ChangeRow.key == key)
        if since is not None:
            q = q.where(ChangeRow.at >= since)
        q = q.order_by(ChangeRow.id)
        if limit is not None:
            q = q.order_by(None).order_by(ChangeRow.id.desc()).limit(limit)
            return [_change(r) for r in reversed(list(self.s.scalars(q)))]
        return [_change(r) for r in self.s.scalars(q)]

    def count_devices(self) -> int:
        """How many devices exist."""
        return int(self.s.scalar(select(func.count(DeviceRow.id))) or 0)
