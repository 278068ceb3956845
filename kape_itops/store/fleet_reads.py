"""The whole fleet's current state in one statement: the overview's and the problems list's.

Per deployed device the statement seeks its newest compact ping, its newest plain ping and the
newest result of each other probe (index seeks, no scan of results), and groups the devices
with nothing to look at in SQL: only the devices with a warn or crit result in the window, or
a plain ping, come back one by one. 25,000 devices are a few hundred rows to Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select, text
from sqlalchemy.orm import Session, aliased

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.problems import Observation
from kape_itops.domain.status import Fleet, LinkState, PingState, state_of
from kape_itops.store import ping_codec
from kape_itops.store.models import DeviceRow, PingResultRow, ProbeResultRow, SchoolRow
from kape_itops.store.models.base import as_utc

__all__ = ["FleetReads"]

_CHUNK = 500
_BAD = ("warn", "crit")
_CODES = dict(enumerate(ping_codec.STATUSES))


def _newest_id(probe: str) -> Any:
    r = ProbeResultRow
    named: Any = literal_column("'" + probe.replace("'", "''") + "'")  # literal: partial index
    return (
        select(r.id)
        .where(r.device_id == DeviceRow.id, r.probe == named)
        .order_by(r.started_at.desc())  # the index order: no sort per device
        .limit(1)
        .correlate(DeviceRow)
        .scalar_subquery()
    )


def _bad_newest(probe: str, since: dt.datetime, kinds: Sequence[str] | None) -> Any:
    """The id of the device's newest result of ``probe`` when it is warn or crit and in the
    window, else NULL. With ``kinds``, only devices of those kinds or with their own probe
    list are looked at (the others are never probed with it: no seek)."""
    r2 = aliased(ProbeResultRow)
    found = (
        select(r2.id)
        .where(r2.id == _newest_id(probe), r2.status.in_(_BAD), r2.started_at >= since)
        .correlate(DeviceRow)
        .scalar_subquery()
    )
    if kinds is None:
        return found
    d = DeviceRow
    own = func.coalesce(d.probes, "") != ""
    return case((or_(d.kind.in_(list(kinds)), own), found))


class FleetReads:
    """The fleet's state on one session (PostgreSQL: JIT off for the transaction)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL jit = off"))

    def fleet(
        self,
        probes: Sequence[str],
        since: dt.datetime,
        fresh_from: dt.datetime,
        school: str | None = None,
        kinds: Mapping[str, Sequence[str]] | None = None,
    ) -> Fleet:
        """Deployed devices (of ``school``) by state (``fresh_from`` on: a ping older is no
        data), and the warn and crit newest results started at or after ``since``: pings and
        the other ``probes``; with ``kinds`` (probe → the device kinds probed with it), a
        probe's newest result is looked for only on those kinds and on devices with their
        own probe list."""
        d, p = DeviceRow, PingResultRow
        compact = (
            select(p.started_us * 4 + p.status)
            .where(p.device_id == d.id)
            .order_by(p.started_us.desc())
            .limit(1)
            .correlate(d)
            .scalar_subquery()
        )
        cols = [
            d.id.label("id"),
            d.asset_tag.label("tag"),
            d.kind.label("kind"),
            SchoolRow.code.label("school"),
            compact.label("c"),
            _newest_id("ping").label("pid"),
            *(
                _bad_newest(pr, since, None if kinds is None else kinds.get(pr, ())).label(f"b{i}")
                for i, pr in enumerate(probes)
            ),
        ]
        inner = select(*cols).join(SchoolRow, d.school_id == SchoolRow.id)
        inner = inner.where(d.status == DeviceStatus.DEPLOYED.value)
        if school is not None:
            inner = inner.where(SchoolRow.code == school)
        x = inner.offset(0).subquery()  # OFFSET 0: each device's seeks run once
        since4 = ping_codec.to_us(since) * 4
        fresh4 = ping_codec.to_us(fresh_from) * 4
        bads = [x.c[f"b{i}"] for i in range(len(probes))]
        one_by_one = or_(
            x.c.pid.is_not(None),
            and_(x.c.c % 4 >= 1, x.c.c % 4 <= 2, x.c.c >= since4),
            *(b.is_not(None) for b in bads),
        )
        st = case((x.c.c.is_(None), -1), else_=x.c.c % 4)
        fresh = case((x.c.c >= fresh4, 1), else_=0)
        keys = [
            x.c.school,
            st,
            fresh,
            case((one_by_one, x.c.id)),
            case((one_by_one, x.c.tag)),
            case((one_by_one, x.c.kind)),
            case((one_by_one, x.c.c)),
            x.c.pid,
            *bads,
        ]
        rows = self.s.execute(select(*keys, func.count()).group_by(*keys)).all()
        counts: dict[str, dict[LinkState, int]] = {}
        singles = [r for r in rows if r[3] is not None]
        plain = self._plain_heads([int(r[7]) for r in singles if r[7] is not None])
        bad_pings: list[PingState] = []
        bad_ids: list[int] = []
        for r in rows:
            cell = counts.setdefault(r[0], dict.fromkeys(LinkState, 0))
            if r[3] is None:
                state = LinkState.NO_DATA
                if r[1] >= 0 and r[2]:
                    state = state_of(_CODES[int(r[1])], fresh_from, fresh_from)
                cell[state] += int(r[-1])
                continue
            status: str | None = None
            at: dt.datetime | None = None
            if r[6] is not None:
                at, status = ping_codec.from_us(int(r[6]) // 4), _CODES[int(r[6]) % 4]
            head = plain.get(int(r[7])) if r[7] is not None else None
            if head is not None and (at is None or head[0] > at):
                at, status = head
            ps = PingState(int(r[3]), r[4], r[0], None, DeviceKind(r[5]), status, at)
            cell[state_of(status, at, fresh_from)] += 1
            if status in _BAD and at is not None and at >= since:
                bad_pings.append(ps)
            bad_ids += [int(b) for b in r[8:-1] if b is not None]
        return Fleet(counts, bad_pings, self._observations(bad_ids))

    def _plain_heads(self, ids: Sequence[int]) -> dict[int, tuple[dt.datetime, str]]:
        r = ProbeResultRow
        out: dict[int, tuple[dt.datetime, str]] = {}
        for i in range(0, len(ids), _CHUNK):
            q = select(r.id, r.started_at, r.status).where(r.id.in_(ids[i : i + _CHUNK]))
            for rid, at, status in self.s.execute(q):
                out[int(rid)] = (as_utc(at), status)
        return out

    def _observations(self, ids: Sequence[int]) -> list[Observation]:
        r, d = ProbeResultRow, DeviceRow
        out: list[Observation] = []
        for i in range(0, len(ids), _CHUNK):
            q = (
                select(r, d.asset_tag, SchoolRow.code)
                .join(d, r.device_id == d.id)
                .join(SchoolRow, d.school_id == SchoolRow.id)
                .where(r.id.in_(ids[i : i + _CHUNK]))
            )
            for row, tag, code in self.s.execute(q):
                out.append(
                    Observation(
                        tag,
                        code,
                        row.probe,
                        _status(row.status),
                        row.reason,
                        row.started_at,
                        row.metrics,
                    )
                )
        return out


def _status(value: str) -> ProbeStatus:
    try:
        return ProbeStatus(value)
    except ValueError:
        return ProbeStatus.UNKNOWN
