"""Small hand-made probe histories for the report tests (written through the store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus, RunStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert, SchoolUpsert
from kape_itops.domain.results import ProbeResult
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.probe_repo import ProbeRepo
from kape_itops.store.report_repo import ReportRepo

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
"""An hour boundary well in the past."""


def seed(
    store: Store,
    devices: dict[str, DeviceKind],
    school: str = "KPT-PSP",
    extra: dict[str, dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Create one school and deployed devices; returns asset tag → device id."""
    ctx = ChangeContext("tester", "test", T0 - dt.timedelta(days=1))
    with store.session() as s:
        repo = InventoryRepo(s)
        if repo.school(school) is None:
            repo.apply_schools([SchoolUpsert(school, {"name": f"School {school}"})], ctx)
        repo.apply_devices(
            [
                DeviceUpsert(
                    tag,
                    {
                        "school": school,
                        "kind": kind,
                        "status": DeviceStatus.DEPLOYED,
                        "ip": f"10.30.1.{i + 1}",
                        **(extra or {}).get(tag, {}),
                    },
                )
                for i, (tag, kind) in enumerate(devices.items())
            ],
            ctx,
        )
    with store.session() as s:
        return {r.asset_tag: r.id for r in ReportRepo(s).device_refs()}


def write_run(
    store: Store,
    at: dt.datetime,
    results: list[tuple[int, str, str, dict[str, Any]]],
    reasons: list[str] | None = None,
) -> int:
    """One completed run at ``at`` with (device id, probe, status, metrics) results, written
    as a probe run writes them (``reasons`` default to ``"<probe> <status>"``)."""
    with store.write() as s:
        repo = ProbeRepo(s)
        run_id = repo.start_run("tester", {}, at)
        repo.add_results(
            run_id,
            [
                (
                    ProbeResult(
                        probe=probe,
                        target="10.30.1.1",
                        status=ProbeStatus(status),
                        reason=reasons[i] if reasons else f"{probe} {status}",
                        started_at=at,
                        duration_ms=1.0,
                        metrics=metrics,
                    ),
                    device_id,
                )
                for i, (device_id, probe, status, metrics) in enumerate(results)
            ],
        )
        repo.finish_run(run_id, RunStatus.COMPLETED, finished_at=at + dt.timedelta(seconds=5))
    return run_id


def ping(rtt: float | None, status: str = "ok", loss: float = 0.0) -> dict[str, Any]:
    """Ping metrics by the probe conventions."""
    if rtt is None:
        return {"sent": 3, "received": 0, "loss_pct": 100.0}
    return {"sent": 3, "received": 3, "loss_pct": loss, "rtt_avg_ms": rtt}
