"""A silent school through the real sync path: a site probes, syncs to a SyncServer (over
LocalTransport), then stays silent; the server's report says so. Both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.inventory import ChangeContext, DeviceUpsert
from kape_itops.domain.problems import ProblemKind
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import Period
from kape_itops.store.db import Store
from kape_itops.store.inventory_repo import InventoryRepo
from kape_itops.store.site_reads import SiteReads
from kape_itops.sync.server import SyncServer
from tests.functional.sync_site_data import SCHOOL, T0, add_runs, join, seed_inventory
from tests.functional.test_sync_site import stores  # noqa: F401  (the fixture)

HOUR = dt.timedelta(hours=1)


def deploy(store: Store, names: list[str]) -> None:
    ctx = ChangeContext("seed", "test: deploy", T0 - dt.timedelta(days=1))
    with store.write() as s:
        InventoryRepo(s).apply_devices(
            [DeviceUpsert(t, {"status": DeviceStatus.DEPLOYED}) for t in names], ctx
        )


def test_a_synced_then_silent_collector(stores: tuple[Store, Store], tmp_path: Path) -> None:  # noqa: F811
    site_store, server_store = stores
    deploy(server_store, seed_inventory(server_store, 4, source="test: server seed"))
    server = SyncServer(server_store, clock=lambda: T0 + HOUR)  # the server's time of the sync
    names = seed_inventory(site_store, 4)
    deploy(site_store, names)
    add_runs(site_store, names, 12)  # [T0, T0 + 55 min] every 5 minutes
    site, transport = join(site_store, server, tmp_path / "secrets.toml")
    assert site.sync(transport).error is None
    with server_store.session() as s:
        sync = SiteReads(s).schools()[SCHOOL]
    newest = T0 + dt.timedelta(minutes=55, seconds=20)  # the last run's end
    assert (sync.sites, sync.last_sync_at, sync.newest_run_at) == (1, T0 + HOUR, newest)

    # Ten minutes after the sync: in time. Three hours after: silent, no data since its newest
    # run, and the devices are not counted down after that.
    opts = ReportOptions(today=T0.date())
    fresh = build_report(server_store, Period(T0, T0 + HOUR + 10 * dt.timedelta(minutes=1)), opts)
    assert all(p.kind != ProblemKind.COLLECTOR_SILENT for p in fresh.problems)
    rep = build_report(server_store, Period(T0, T0 + 4 * HOUR), opts)
    first = rep.problems[0]
    assert first.kind == ProblemKind.COLLECTOR_SILENT and first.school == SCHOOL
    assert first.detail.startswith(
        f"{SCHOOL} collector silent since 2026-11-01 01:00 UTC (3 h 0 min)"
    )
    (school,) = rep.schools
    assert school.silence is not None and school.silence.no_data_since == newest
    a = school.availability
    assert a.no_data > 0 and a.up + a.down + a.unknown + a.no_data == a.expected
    assert a.down == sum(d.availability.down for d in school.devices if d.availability)
    assert a.down <= 4 * 12  # only what the results said, nothing for the silent hours
    assert (a.unknown, a.no_data) == (0, 4 * 36)  # after its last result: no data, not unknown

    # A revoked site owes nothing: the school is a single machine's again.
    server.revoke(SCHOOL)
    after = build_report(server_store, Period(T0, T0 + 4 * HOUR), opts)
    assert all(p.kind != ProblemKind.COLLECTOR_SILENT for p in after.problems)
    assert after.schools[0].silence is None and after.availability.no_data == 0
