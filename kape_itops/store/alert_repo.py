"""Probe runs and tracked problems, as the alert hook reads and keeps them."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.reports import AlertState
from kape_itops.domain.results import RunResult
from kape_itops.store import ping_codec, ping_store
from kape_itops.store.locks import ALERT_LOCK, serialise
from kape_itops.store.models import (
    AlertCursorRow,
    AlertStateRow,
    DeviceRow,
    PingResultRow,
    ProbeResultRow,
    ProbeRunRow,
    SchoolRow,
)
from kape_itops.store.models.base import as_utc


class AlertRepo:
    """Finished runs, their results and the alert state on one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def lock(self) -> None:
        """Serialise concurrent calls of the alert hook until this transaction ends."""
        serialise(self.s, ALERT_LOCK)

    def last_run_ids(self, n: int) -> list[int]:
        """The newest ``n`` finished probe runs, oldest first."""
        q = (
            select(ProbeRunRow.id)
            .where(ProbeRunRow.finished_at.is_not(None))
            .order_by(ProbeRunRow.id.desc())
            .limit(n)
        )
        return sorted(int(i) for i in self.s.scalars(q))

    def run_ids_after(self, run_id: int, limit: int = 1000) -> list[int]:
        """Finished probe runs newer than ``run_id``, oldest first."""
        q = (
            select(ProbeRunRow.id)
            .where(ProbeRunRow.id > run_id, ProbeRunRow.finished_at.is_not(None))
            .order_by(ProbeRunRow.id)
            .limit(limit)
        )
        return [int(i) for i in self.s.scalars(q)]

    def latest_run_id(self) -> int | None:
        """The newest finished run."""
        q = select(func.max(ProbeRunRow.id)).where(ProbeRunRow.finished_at.is_not(None))
        value = self.s.scalar(q)
        return int(value) if value is not None else None

    def run_results(self, run_id: int) -> list[RunResult]:
        """The results of one run that belong to inventory devices."""
        r = ProbeResultRow
        q = (
            select(
                DeviceRow.asset_tag,
                SchoolRow.code,
                DeviceRow.status,
                r.probe,
                r.status,
                r.reason,
                r,
            )
            .join(DeviceRow, r.device_id == DeviceRow.id)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(r.run_id == run_id)
            .order_by(r.id)
        )
        plain = [
            RunResult(
                tag,
                school,
                probe,
                status,
                reason,
                row.started_at,
                row.metrics or {},
                deployed == DeviceStatus.DEPLOYED,
            )
            for tag, school, deployed, probe, status, reason, row in self.s.execute(q)
        ]
        mine = ping_store.of_run(self.s, run_id)
        if mine is None:
            return plain
        p = PingResultRow
        pq = (
            select(
                DeviceRow.asset_tag,
                SchoolRow.code.label("school_code"),
                DeviceRow.status.label("device_status"),
                *ping_store.COLUMNS,
            )
            .join(DeviceRow, p.device_id == DeviceRow.id)
            .join(SchoolRow, DeviceRow.school_id == SchoolRow.id)
            .where(mine)
            .order_by(p.started_us, p.device_id)
        )
        pings = []
        for m in self.s.execute(pq).mappings():
            v = ping_codec.decode(m, m["asset_tag"])
            pings.append(
                RunResult(
                    m["asset_tag"],
                    m["school_code"],
                    "ping",
                    v["status"],
                    v["reason"],
                    v["started_at"],
                    v["metrics"],
                    m["device_status"] == DeviceStatus.DEPLOYED,
                )
            )
        if not pings:
            return plain
        return list(heapq.merge(plain, pings, key=lambda x: as_utc(x.at)))

    def alert_cursor(self) -> int | None:
        """The last run evaluated by the alert hook."""
        row = self.s.get(AlertCursorRow, "problems")
        return row.last_run_id if row else None

    def set_alert_cursor(self, run_id: int, at: dt.datetime) -> None:
        """Remember the last run evaluated."""
        row = self.s.get(AlertCursorRow, "problems")
        if row is None:
            self.s.add(AlertCursorRow(name="problems", last_run_id=run_id, updated_at=at))
        else:
            row.last_run_id, row.updated_at = run_id, at

    def alert_states(self) -> dict[str, AlertState]:
        """Every tracked problem by key."""
        return {
            r.key: AlertState(
                r.key,
                r.kind,
                r.severity,
                r.asset_tag,
                r.probe,
                r.consecutive,
                r.first_seen,
                r.last_seen,
                r.notified,
                r.detail,
            )
            for r in self.s.scalars(select(AlertStateRow))
        }

    def save_alert_states(self, states: Mapping[str, AlertState]) -> None:
        """Replace the tracked problems with ``states``."""
        self.s.execute(delete(AlertStateRow))
        for st in states.values():
            self.s.add(
                AlertStateRow(
                    key=st.key,
                    kind=st.kind,
                    severity=st.severity,
                    asset_tag=st.asset_tag,
                    probe=st.probe,
                    consecutive=st.consecutive,
                    first_seen=st.first_seen,
                    last_seen=st.last_seen,
                    notified=st.notified,
                    detail=st.detail,
                )
            )
