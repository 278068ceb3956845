"""The whole fleet's current state: the overview's and the problems list's.

It reads ``device_state`` (each device's newest result per probe, kept on every write of
results): one scan grouped in SQL, so only the devices whose newest ping is warn or crit in
the window come back one by one, and one look-up of the warn and crit states of the other
probes. 25,000 devices are a few hundred rows to Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.problems import Observation
from kape_itops.domain.status import Fleet, LinkState, PingState, state_of
from kape_itops.store import ping_codec
from kape_itops.store.models import DeviceRow, DeviceStateRow, SchoolRow

__all__ = ["FleetReads"]

_BAD = ("warn", "crit")


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
        d, st = DeviceRow, DeviceStateRow
        ping = aliased(DeviceStateRow)
        since_us = ping_codec.to_us(since)
        fresh_us = ping_codec.to_us(fresh_from)
        bad = and_(ping.status.in_(_BAD), ping.at_us >= since_us)
        keys = [
            SchoolRow.code,
            case((ping.at_us >= fresh_us, ping.status)),
            case((bad, d.id)),
            case((bad, d.asset_tag)),
            case((bad, d.kind)),
            case((bad, ping.status)),
            case((bad, ping.at_us)),
        ]
        q = (
            select(*keys, func.count())
            .select_from(d)
            .join(SchoolRow, d.school_id == SchoolRow.id)
            .outerjoin(ping, and_(ping.device_id == d.id, ping.probe == "ping"))
            .where(d.status == DeviceStatus.DEPLOYED.value)
            .group_by(*keys)
        )
        if school is not None:
            q = q.where(SchoolRow.code == school)
        counts: dict[str, dict[LinkState, int]] = {}
        bad_pings: list[PingState] = []
        for code, fresh_status, did, tag, kind, status, at_us, n in self.s.execute(q):
            cell = counts.setdefault(code, dict.fromkeys(LinkState, 0))
            cell[state_of(fresh_status, fresh_from, fresh_from)] += int(n)
            if did is not None:
                at = ping_codec.from_us(int(at_us))
                bad_pings.append(PingState(int(did), tag, code, None, DeviceKind(kind), status, at))
        observations: list[Observation] = []
        which = []
        for probe in probes:
            wanted = None if kinds is None else kinds.get(probe, ())
            this = st.probe == probe
            if wanted is not None:  # other kinds are not probed with it (own probe lists are)
                own = func.coalesce(d.probes, "") != ""
                this = and_(this, or_(d.kind.in_(list(wanted)), own))
            which.append(this)
        if which:
            o = (
                select(d.asset_tag, SchoolRow.code, st)
                .join(d, st.device_id == d.id)
                .join(SchoolRow, d.school_id == SchoolRow.id)
                .where(
                    or_(*which),
                    st.status.in_(_BAD),
                    st.at_us >= since_us,
                    d.status == DeviceStatus.DEPLOYED.value,
                )
            )
            if school is not None:
                o = o.where(SchoolRow.code == school)
            for tag, code, row in self.s.execute(o):
                observations.append(
                    Observation(
                        tag,
                        code,
                        row.probe,
                        _status(row.status),
                        row.reason or "",
                        ping_codec.from_us(row.at_us),
                        row.metrics or {},
                    )
                )
        return Fleet(counts, bad_pings, observations)


def _status(value: str) -> ProbeStatus:
    try:
        return ProbeStatus(value)
    except ValueError:
        return ProbeStatus.UNKNOWN
