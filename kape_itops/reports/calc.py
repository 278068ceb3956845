"""The numbers of one health report: per device, per school and the trend charts.

Pure computations over the rollup buckets the store handed back (see
:func:`~kape_itops.reports.build.build_report`), with :mod:`.availability`, :mod:`.problems`,
:mod:`.trends` and :mod:`~kape_itops.domain.sketch`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from kape_itops.domain import sketch
from kape_itops.domain.enums import DeviceKind, DeviceStatus, ProbeStatus
from kape_itops.domain.inventory import Device, School
from kape_itops.domain.problems import Observation, Problem
from kape_itops.domain.reports import Bucket, epoch, from_epoch
from kape_itops.probes import catalog
from kape_itops.reports.availability import Availability, availability, pooled
from kape_itops.reports.model import DeviceHealth, Period, SchoolHealth, Supply, Trends
from kape_itops.reports.problems import Thresholds, from_observation, reboot_problem
from kape_itops.reports.trends import (
    availability_series,
    counter_increase_series,
    last_value_series,
    mean_series,
    total,
)

__all__ = ["AVAILABILITY_PROBES", "NOT_DEPLOYED_SHOWN", "HealthCalc", "last_event"]

AVAILABILITY_PROBES = catalog.availability_kinds()
"""The first of these with data decides whether a device was up."""
NOT_DEPLOYED_SHOWN = (DeviceStatus.IN_STOCK, DeviceStatus.IN_REPAIR)
"""Statuses listed apart as "not deployed" (retired and lost ones only count in the inventory)."""


class HealthCalc:
    """The per-device, per-school and trend computations of one report."""

    def __init__(self, period: Period, interval_s: int, th: Thresholds) -> None:
        self.p = period
        self.interval_s = interval_s
        self.th = th
        self.sketches: dict[str, dict[int, int]] = {}
        self.first: dict[tuple[int, str], int] = {}
        """(device id, availability probe) → first stored result, from the store."""
        self.owed_from: dict[str, int] = {}
        """Asset tag → when (Unix seconds) the availability of the device starts counting."""
        self.no_data_from: dict[str, int] = {}
        """School code → since when (Unix seconds) no data came from it (collector silent)."""

    def avail_probe(self, bs: list[Bucket]) -> str:
        have = {b.probe for b in bs}
        return next((p for p in AVAILABILITY_PROBES if p in have), "ping")

    def device(
        self, d: Device, bs: list[Bucket], device_id: int = 0
    ) -> tuple[DeviceHealth, list[Problem]]:
        deployed = d.status == DeviceStatus.DEPLOYED
        monitored = deployed and bool(bs)
        avail: Availability | None = None
        probe = self.avail_probe(bs)
        start, end = epoch(self.p.start), epoch(self.p.end)
        counted = [b.counts for b in bs if b.probe == probe]
        if monitored and counted:
            owed = min(end - 1, max(start, self.first.get((device_id, probe), start)))
            self.owed_from[d.asset_tag] = owed
            silent = self.no_data_from.get(d.school)
            avail = availability(
                counted,
                period_s=end - owed,
                bucket_s=self.p.bucket_s,
                interval_s=self.interval_s,
                no_data_s=0 if silent is None else max(0, end - max(silent, owed)),
            )
        ping = [b for b in bs if b.probe == "ping"]
        merged = self.sketches[d.asset_tag] = sketch.merge(b.sketch for b in ping)
        rtt_n = sum(b.rtt_count for b in ping)
        loss_n = sum(b.loss_count for b in ping)
        latest: dict[str, Bucket] = {}
        for b in bs:
            if b.probe not in latest or b.last_at >= latest[b.probe].last_at:
                latest[b.probe] = b
        found: list[Problem] = []
        metrics: dict[str, Any] = {}
        for name, b in sorted(latest.items()):
            metrics.update(b.last_metrics)
            if not deployed:
                continue
            obs = Observation(
                d.asset_tag,
                d.school,
                name,
                ProbeStatus(b.last_status),
                b.last_reason,
                from_epoch(b.last_at),
                b.last_metrics,
            )
            found += [
                p
                for p in from_observation(obs, self.th)
                if p.kind.value not in ("rebooted", "config_changed")
            ]
        reboots = sum(int(b.last_metrics.get("reboots", 0)) for b in bs)
        got = reboot_problem(d.asset_tag, d.school, reboots, last_event(bs, "reboots"))
        if got and deployed:
            found.append(got)
        newest = max(latest.values(), key=lambda b: b.last_at) if latest else None
        pages = None
        if d.kind == DeviceKind.PRINTER:
            series = counter_increase_series(
                _counter_rows("all", d.asset_tag, bs),
                start=epoch(self.p.start),
                end=epoch(self.p.end),
                step_s=max(1, int(self.p.seconds)),
            )
            pages = total(series["all"]) if series else None
        health = DeviceHealth(
            asset_tag=d.asset_tag,
            kind=d.kind,
            status=d.status,
            model=d.model,
            ip=d.ip,
            monitored=avail is not None,
            availability=avail,
            rtt_avg_ms=sum(b.rtt_sum for b in ping) / rtt_n if rtt_n else None,
            rtt_p50_ms=sketch.quantile(merged, 0.5),
            rtt_p95_ms=sketch.quantile(merged, 0.95),
            loss_pct=sum(b.loss_sum for b in ping) / loss_n if loss_n else None,
            last_status=newest.last_status if newest else None,
            last_seen=from_epoch(newest.last_at) if newest else None,
            supplies=tuple(
                Supply(str(x.get("name") or "supply"), _num(x.get("pct")))
                for x in metrics.get("supplies") or []
                if isinstance(x, Mapping)
            ),
            pages_printed=pages,
            disk_used_pct=_num(metrics.get("disk_used_pct")),
            recording=metrics["recording"] if isinstance(metrics.get("recording"), bool) else None,
            clock_drift_s=_num(metrics.get("clock_drift_s")),
            monitored_from=from_epoch(self.owed_from[d.asset_tag]) if avail else None,
        )
        return health, found

    def school(
        self,
        sc: School,
        devices: list[Device],
        healths: dict[str, DeviceHealth],
        by_device: dict[int, list[Bucket]],
        ids: dict[str, int],
    ) -> SchoolHealth:
        kinds: dict[str, dict[str, int]] = {}
        for d in devices:
            cell = kinds.setdefault(d.kind.value, {})
            cell[d.status.value] = cell.get(d.status.value, 0) + 1
        deployed = [d for d in devices if d.status == DeviceStatus.DEPLOYED]
        rows = [healths[d.asset_tag] for d in deployed]
        ping = [
            b for d in deployed for b in by_device.get(ids[d.asset_tag], []) if b.probe == "ping"
        ]
        merged = sketch.merge(self.sketches.get(d.asset_tag, {}) for d in deployed)
        loss_n = sum(b.loss_count for b in ping)
        cams = [h for h in rows if h.kind == DeviceKind.CAMERA and h.recording is not None]
        return SchoolHealth(
            code=sc.code,
            name=sc.name,
            devices_by_kind_status=dict(sorted(kinds.items())),
            availability=pooled(h.availability for h in rows if h.availability is not None),
            rtt_p50_ms=sketch.quantile(merged, 0.5),
            rtt_p95_ms=sketch.quantile(merged, 0.95),
            loss_pct=sum(b.loss_sum for b in ping) / loss_n if loss_n else None,
            cameras_recording=sum(1 for h in cams if h.recording),
            cameras_reporting=len(cams),
            devices=rows,
            not_deployed=[healths[d.asset_tag] for d in devices if d.status in NOT_DEPLOYED_SHOWN],
            name_km=sc.name_km,
        )

    def trends(
        self,
        schools: list[School],
        devices: list[Device],
        healths: dict[str, DeviceHealth],
        by_device: dict[int, list[Bucket]],
        ids: dict[str, int],
    ) -> Trends:
        start, end, step = epoch(self.p.start), epoch(self.p.end), self.p.step_s
        owed: dict[str, list[int]] = {sc.code: [] for sc in schools}
        avail_rows = []
        rtt_rows = []
        toner_rows = []
        page_rows = []
        for d in devices:
            bs = by_device.get(ids[d.asset_tag], [])
            page_rows += _counter_rows(d.school, d.asset_tag, bs)
            if healths[d.asset_tag].availability is not None:
                owed[d.school].append(self.owed_from[d.asset_tag])
                probe = self.avail_probe(bs)
                avail_rows += [(d.school, b.start, b.counts) for b in bs if b.probe == probe]
            for b in bs:
                if b.probe == "ping" and b.rtt_count and d.status == DeviceStatus.DEPLOYED:
                    rtt_rows.append((d.school, b.start, b.rtt_sum, float(b.rtt_count)))
                levels = [
                    v
                    for x in b.last_metrics.get("supplies") or []
                    if isinstance(x, Mapping) and (v := _num(x.get("pct"))) is not None
                ]
                if levels:
                    toner_rows.append((d.asset_tag, b.start, min(levels)))
        return Trends(
            step_s=step,
            availability=availability_series(
                avail_rows,
                owed,
                start=start,
                end=end,
                step_s=step,
                bucket_s=self.p.bucket_s,
                interval_s=self.interval_s,
                until=self.no_data_from,
            ),
            latency=mean_series(rtt_rows, start=start, end=end, step_s=step),
            toner=last_value_series(toner_rows, start=start, end=end, step_s=step),
            pages=counter_increase_series(page_rows, start=start, end=end, step_s=step),
        )


def last_event(bs: Iterable[Bucket], name: str) -> dt.datetime | None:
    """The newest result time of the buckets in ``bs`` that count event ``name`` (reboots …)."""
    times = [b.last_at for b in bs if b.last_metrics.get(name)]
    return from_epoch(max(times)) if times else None


def _counter_rows(
    group: str, tag: str, bs: Iterable[Bucket]
) -> list[tuple[str, str, int, float, float, float]]:
    out = []
    for b in bs:
        m = b.last_metrics
        first, last = _num(m.get("page_count_first")), _num(m.get("page_count"))
        if first is not None and last is not None:
            out.append((group, tag, b.start, first, last, _num(m.get("pages")) or 0.0))
    return out


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None
