"""A school collector's data for the server tests: probe rounds written through ProbeRepo (the
collector's own write path), and the records of one site as the server holds them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import text

from kape_itops.domain.enums import ProbeStatus, RunStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.store.db import Store
from kape_itops.store.probe_repo import ProbeRepo

Key = tuple[str | None, str, str, str]
"""(tag, probe, status, measured at ISO) of one result: equal on both sides after a sync."""


def add_rounds(
    db_url: str, tags: list[str], rounds: int, *, start: dt.datetime | None = None
) -> int:
    """``rounds`` finished probe runs, a ping and an SNMP result per device each; results added."""
    store = Store(db_url)
    begin = start or dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    total = 0
    try:
        with store.session() as s:
            ids = ProbeRepo(s).device_ids(tags)
        with store.write() as s:
            repo = ProbeRepo(s)
            for k in range(rounds):
                at = begin + dt.timedelta(seconds=60 * k)
                run = repo.start_run("test", {"round": k}, at)
                batch: list[tuple[ProbeResult, int | None]] = []
                for i, tag in enumerate(tags):
                    t = at + dt.timedelta(milliseconds=10 * i + 1)
                    ok = (k + i) % 7 != 0
                    ping = {"sent": 3, "received": 3 if ok else 0, "loss_pct": 0.0 if ok else 100.0}
                    if ok:
                        ping |= {"rtt_min_ms": 1.0, "rtt_avg_ms": 1.5, "rtt_max_ms": 2.0}
                    status = ProbeStatus.OK if ok else ProbeStatus.CRIT
                    batch.append(
                        (
                            ProbeResult(
                                "ping", f"10.0.{i}.1", status, "test", t, 3.0, ping, "icmp-raw", tag
                            ),
                            ids.get(tag),
                        )
                    )
                    snmp = {"sys_name": tag.lower(), "uptime_s": 1000 + k}
                    batch.append(
                        (
                            ProbeResult(
                                "snmp",
                                f"10.0.{i}.1",
                                ProbeStatus.OK,
                                "fine",
                                t + dt.timedelta(seconds=1),
                                40.0,
                                snmp,
                                "snmp-v2c",
                                tag,
                            ),
                            ids.get(tag),
                        )
                    )
                total += repo.add_results(run, batch)
                repo.finish_run(
                    run,
                    RunStatus.COMPLETED,
                    {"results": len(batch)},
                    finished_at=at + dt.timedelta(seconds=20),
                )
    finally:
        store.dispose()
    return total


def site_results(db_url: str, site_uid: str | None = None) -> Counter[Key]:
    """Every result of finished runs (of the site ``site_uid`` on a server), as a multiset."""
    store = Store(db_url)
    try:
        with store.session() as s:
            where = "WHERE p.finished_at IS NOT NULL"
            params: dict[str, object] = {}
            if site_uid is not None:
                where += " AND p.origin_site_id = (SELECT id FROM sync_sites WHERE uid = :u)"
                params["u"] = site_uid
            run_ids = [
                r[0] for r in s.execute(text(f"SELECT p.id FROM probe_runs p {where}"), params)
            ]
            out: Counter[Key] = Counter()
            repo = ProbeRepo(s)
            for run_id in run_ids:
                for r in repo.results(run_id):
                    out[(r.asset_tag, r.probe, str(r.status), r.started_at.isoformat())] += 1
            return out
    finally:
        store.dispose()


def count(db_url: str, sql: str, **params: object) -> int:
    """One number from the database."""
    store = Store(db_url)
    try:
        with store.session() as s:
            return int(s.execute(text(sql), params).scalar_one())
    finally:
        store.dispose()


def text_of(db_url: str, sql: str, **params: object) -> str:
    """One text value from the database."""
    store = Store(db_url)
    try:
        with store.session() as s:
            return str(s.execute(text(sql), params).scalar_one())
    finally:
        store.dispose()
