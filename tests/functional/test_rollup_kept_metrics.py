"""The rollups keep the metrics the probe kinds declare: the store itself knows no kinds."""

from __future__ import annotations

import datetime as dt

import pytest

from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.reports import epoch
from kape_itops.probes import catalog
from kape_itops.probes.kind import ProbeKindSpec
from kape_itops.reports import retention
from kape_itops.reports.build import ReportOptions, build_report
from kape_itops.reports.model import Period
from kape_itops.store.db import Store
from kape_itops.store.report_repo import ReportRepo
from kape_itops.store.rollup_repo import RollupRepo
from tests.support.report_data import T0, seed, write_run

HTTP = ProbeKindSpec(
    name="http",
    probe_class="kape_itops.probes.http.probe:HttpProbe",
    kept_metrics=frozenset({"http_status"}),
    summary="an HTTP check, declared only here",
)


def _last_metrics(store: Store, device_id: int, probe: str) -> dict[str, object]:
    with store.session() as s:
        (b,) = [
            b
            for b in ReportRepo(s).buckets("hour", epoch(T0), epoch(T0) + 3600)
            if (b.device_id, b.probe) == (device_id, probe)
        ]
    return dict(b.last_metrics)


def test_a_new_kinds_kept_metric_reaches_the_rollup(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "KINDS", (*catalog.KINDS, HTTP))
    ids = seed(store, {"W": DeviceKind.ROUTER})
    metrics = {"http_status": 503, "body_bytes": 812}
    write_run(store, T0, [(ids["W"], "http", "crit", metrics)])
    retention.rollup(store)
    assert _last_metrics(store, ids["W"], "http") == {"http_status": 503}


def test_the_report_rolls_up_with_the_declared_kinds(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "KINDS", (*catalog.KINDS, HTTP))
    ids = seed(store, {"W": DeviceKind.ROUTER})
    write_run(store, T0, [(ids["W"], "http", "ok", {"http_status": 200, "body_bytes": 1})])
    build_report(store, Period(T0, T0 + dt.timedelta(hours=1)), ReportOptions(today=T0.date()))
    assert _last_metrics(store, ids["W"], "http") == {"http_status": 200}


def test_metrics_no_kind_keeps_stay_in_raw_results_only(store: Store) -> None:
    ids = seed(store, {"W": DeviceKind.ROUTER, "P": DeviceKind.PRINTER})
    write_run(
        store,
        T0,
        [
            (ids["W"], "http", "ok", {"http_status": 200}),
            (ids["P"], "snmp", "ok", {"page_count": 7, "sys_descr": "HP"}),
        ],
    )
    with store.write() as s:
        RollupRepo(s, catalog.kept_metrics()).rollup()
    assert _last_metrics(store, ids["W"], "http") == {}
    got = _last_metrics(store, ids["P"], "snmp")
    assert got["page_count"] == 7 and "sys_descr" not in got
