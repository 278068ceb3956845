"""The web benchmark's bulk: runs, raw results and rollup buckets, COPY-ed school by school.

Pings are encoded by :func:`kape_itops.store.ping_codec.encode`; every bucket is tallied by
:class:`kape_itops.store.rollup_repo.BucketTally`, the rollup's own arithmetic (the buckets equal
what ``RollupRepo.rollup()`` makes from the same raw results).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from webbench import (  # noqa: E402
    EXTRA_EVERY,
    ROOT,
    SNMP,
    CachedPostgres,
    Dev,
    Recipe,
    silent,
)

from kape_itops.domain import ping as ping_text  # noqa: E402
from kape_itops.domain.enums import DeviceKind  # noqa: E402
from kape_itops.domain.reports import DAY, HOUR  # noqa: E402
from kape_itops.probes import catalog  # noqa: E402
from kape_itops.store import ping_codec  # noqa: E402
from kape_itops.store.rollup_repo import BucketTally  # noqa: E402


class World:
    """The scripted behaviour of the devices: outages, devices down now, supplies, drift."""

    def __init__(self, recipe: Recipe, start_s: int, hours: int) -> None:
        self.recipe, self.start_s, self.hours = recipe, start_s, hours

    def ping(self, d: Dev, h: int, rng: random.Random) -> tuple[str, dict[str, Any], str | None]:
        """(status, metrics, explicit reason or None) of device ``d`` at hour ``h``."""
        k = d.id
        if (k % 67 == 5 and h >= self.hours - 1 - (k % 48)) or (
            k % 31 == 3 and abs(h - (k * 7) % self.hours) < 6
        ):
            return "crit", {"sent": 3, "received": 0, "loss_pct": 100.0}, None
        if rng.random() < 0.003:
            return "unknown", {"sent": 3, "received": 0}, "no route to host"
        base = 1.5 + (k % 12) * 2.5
        rtt = round(base * rng.uniform(0.7, 1.6), 2)
        lost = 1 if rng.random() < 0.02 else 0
        loss = round(100 * lost / 3, 1)
        m = {
            "sent": 3,
            "received": 3 - lost,
            "loss_pct": loss,
            "rtt_min_ms": round(rtt * 0.8, 2),
            "rtt_avg_ms": rtt,
            "rtt_max_ms": round(rtt * 1.3, 2),
            "rtt_stddev_ms": round(rtt * 0.1, 2),
            "jitter_ms": round(rtt * 0.05, 2),
        }
        if lost:
            reason = ping_text.summary(3, 3 - lost, loss, rtt, m["jitter_ms"])
            return "warn", m, f"loss_pct {loss:g} > 20 (warn); {reason}"
        return "ok", m, None

    def extra(
        self, d: Dev, slot: int, slots: int, rng: random.Random
    ) -> tuple[str, str, str, str, dict[str, Any]]:
        """(probe, method, status, reason, metrics) of the 6-hourly SNMP or ONVIF result."""
        k = d.id
        if d.kind == DeviceKind.CAMERA:
            drift = 95.0 if k % 53 == 1 else round(rng.uniform(-1.5, 1.5), 1)
            recording = k % 37 != 2
            levels = {
                "clock_drift_s": "crit" if abs(drift) > 60 else "ok",
                "recording": "ok" if recording else "crit",
            }
            status = "crit" if "crit" in levels.values() else "ok"
            m = {
                "clock_drift_s": drift,
                "layer": "media",
                "manufacturer": "Hikvision",
                "model": "DS-2CD1043",
                "recording": recording,
                "levels": levels,
            }
            reason = (
                "camera answered"
                if status == "ok"
                else "not recording"
                if not recording
                else "clock drift"
            )
            return "onvif", "onvif", status, reason, m
        frac = slot / max(1, slots - 1)
        m = {
            "sys_name": d.tag.lower(),
            "uptime_s": 86400 * 40 + slot * EXTRA_EVERY,
            "rebooted": False,
        }
        levels: dict[str, str] = {}
        status, reason = "ok", "all readings normal"
        if d.kind == DeviceKind.PRINTER:
            start = 80 - (k % 5) * 8
            black = round(start + ((4 if k % 11 == 0 else start - 25) - start) * frac)
            m["supplies"] = [
                {"name": "Black Toner", "level": black * 50, "max": 5000, "pct": black}
            ]
            m["page_count"] = 10_000 + slot * 40 + k % 500
            verdict = "crit" if black <= 5 else "warn" if black <= 15 else "ok"
            levels["supplies:Black Toner"] = verdict
            if verdict != "ok":
                status, reason = verdict, f"Black Toner {black}%"
        elif d.kind == DeviceKind.NVR:
            pct = round((94 if k % 7 == 0 else 78) - 12 * (1 - frac), 1)
            m["disk_used_pct"] = pct
            verdict = "crit" if pct >= 95 else "warn" if pct >= 90 else "ok"
            levels["disk_used_pct"] = verdict
            if verdict != "ok":
                status, reason = verdict, f"disk {pct:g}% used"
        elif d.kind == DeviceKind.SWITCH:
            m["if_down"] = ["Gi0/7"] if k % 13 == 0 else []
            if m["if_down"]:
                levels["if_down:Gi0/7"] = "crit"
                status, reason = "crit", "uplink down: Gi0/7 down"
        elif d.kind == DeviceKind.HOTSPOT:
            m["clients"] = rng.randint(0, 35)
        m["levels"] = levels
        return "snmp", "snmp-v2c", status, reason, m


ROLLUP_COLUMNS = (
    "grain",
    "device_id",
    "probe",
    "bucket_start",
    "n_ok",
    "n_warn",
    "n_crit",
    "n_unknown",
    "rtt_count",
    "rtt_sum",
    "loss_count",
    "loss_sum",
    "rtt_sketch",
    "last_up_at",
    "last_at",
    "last_status",
    "last_reason",
    "last_metrics",
)
PLAIN_COLUMNS = (
    "run_id",
    "device_id",
    "target",
    "probe",
    "status",
    "reason",
    "method",
    "metrics",
    "started_at",
    "duration_ms",
    "attempts",
)


def _rollup_values(row: dict[str, Any]) -> list[Any]:
    out = [row[c] for c in ROLLUP_COLUMNS]
    out[12] = json.dumps(out[12])
    out[17] = json.dumps(out[17], ensure_ascii=False)
    return out


@dataclasses.dataclass
class Counts:
    runs: int = 0
    pings: int = 0
    plain: int = 0
    hourly: int = 0
    daily: int = 0


def generate_results(
    pg: CachedPostgres,
    recipe: Recipe,
    devs: list[Dev],
    sites: dict[int, int],
    end: dt.datetime,
    progress: Callable[[str], None],
) -> Counts:
    """Runs, raw results and rollup buckets, one COPY stream per table, school by school."""
    import psycopg

    from kape_itops.store.models import PingResultRow

    ping_cols = [c.name for c in PingResultRow.__table__.c]
    hours = recipe.days * 24
    end_s = int(end.timestamp()) // HOUR * HOUR
    start_s = end_s - hours * HOUR
    slots = hours * HOUR // EXTRA_EVERY
    world = World(recipe, start_s, hours)
    kept = catalog.kept_metrics()
    by_school: dict[int, list[Dev]] = {}
    for d in devs:
        by_school.setdefault(d.school, []).append(d)
    counts = Counts()
    t0 = time.monotonic()
    utc = dt.UTC
    with psycopg.connect(pg.conninfo("itops")) as conn:
        for n in range(recipe.schools):
            school = by_school.get(n, [])
            rng = random.Random(recipe.seed * 1_000_003 + n)
            stop_h = hours - 48 if silent(n) else hours
            run0 = n * hours + 1  # run ids: school-major, one per hour
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY probe_runs (id, started_at, finished_at, status, actor, selection, "
                    "counts, note, origin_site_id, origin_id, received_at) FROM STDIN"
                ) as cp:
                    for h in range(stop_h):
                        at = dt.datetime.fromtimestamp(start_s + h * HOUR, utc)
                        cp.write_row(
                            (
                                run0 + h,
                                at,
                                at + dt.timedelta(seconds=40),
                                "completed",
                                "schedule",
                                '{"round": "hourly"}',
                                json.dumps({"results": len(school)}),
                                None,
                                sites[n],
                                h + 1,
                                at + dt.timedelta(minutes=2),
                            )
                        )
                        counts.runs += 1
                with cur.copy("COPY ping_runs (run_id, first_us, last_us) FROM STDIN") as cp:
                    for h in range(stop_h):
                        us = (start_s + h * HOUR) * 1_000_000
                        cp.write_row((run0 + h, us, us + len(school) * 40_000 + 1000))
                hourly: list[list[Any]] = []
                daily: dict[tuple[int, str, int], BucketTally] = {}
                with cur.copy(f"COPY ping_results ({', '.join(ping_cols)}) FROM STDIN") as cp:
                    for i, d in enumerate(school):
                        for h in range(stop_h):
                            at_s = start_s + h * HOUR
                            us = at_s * 1_000_000 + i * 40_000 + rng.randrange(1000)
                            status, m, reason = world.ping(d, h, rng)
                            if reason is None:
                                reason = ping_codec.rebuilt_reason(status, m) or ""
                            raw = {
                                "probe": "ping",
                                "device_id": d.id,
                                "run_id": run0 + h,
                                "target": d.ip,
                                "status": status,
                                "reason": reason,
                                "method": "icmp-raw",
                                "metrics": m,
                                "started_at": ping_codec.from_us(us),
                                "duration_ms": 3000.0 if status == "crit" else 25.0,
                                "attempts": 1,
                            }
                            enc = ping_codec.encode(raw, d.tag)
                            if enc is None:
                                raise RuntimeError(f"ping row not compact: {raw}")
                            cp.write_row([enc[c] for c in ping_cols])
                            counts.pings += 1
                            tally = BucketTally()
                            tally.add_result(status, reason, us // 1_000_000, m, kept)
                            row = tally.row("hour", d.id, "ping", at_s)
                            hourly.append(_rollup_values(row))
                            _day(daily, row)
                with cur.copy(f"COPY probe_results ({', '.join(PLAIN_COLUMNS)}) FROM STDIN") as cp:
                    for i, d in enumerate(school):
                        if d.kind not in SNMP and d.kind != DeviceKind.CAMERA:
                            continue
                        for slot in range(stop_h * HOUR // EXTRA_EVERY):
                            at_s = start_s + slot * EXTRA_EVERY
                            h = slot * EXTRA_EVERY // HOUR
                            if world.ping(d, h, random.Random(0))[0] == "crit":
                                continue  # down: no SNMP/ONVIF answer
                            at = at_s + 5 + i * 0.04
                            probe, method, status, reason, m = world.extra(d, slot, slots, rng)
                            cp.write_row(
                                (
                                    run0 + h,
                                    d.id,
                                    d.ip,
                                    probe,
                                    status,
                                    reason,
                                    method,
                                    json.dumps(m),
                                    dt.datetime.fromtimestamp(at, utc),
                                    45.0,
                                    1,
                                )
                            )
                            counts.plain += 1
                            tally = BucketTally()
                            tally.add_result(status, reason, int(at), m, kept)
                            row = tally.row("hour", d.id, probe, at_s // HOUR * HOUR)
                            hourly.append(_rollup_values(row))
                            _day(daily, row)
                with cur.copy(f"COPY probe_rollups ({', '.join(ROLLUP_COLUMNS)}) FROM STDIN") as cp:
                    for values in hourly:
                        cp.write_row(values)
                    for (dev, probe, day), tally in daily.items():
                        cp.write_row(_rollup_values(tally.row("day", dev, probe, day)))
                counts.hourly += len(hourly)
                counts.daily += len(daily)
            conn.commit()
            if n % 10 == 9 or n == recipe.schools - 1:
                el = time.monotonic() - t0
                progress(
                    f"  schools {n + 1}/{recipe.schools}: {counts.pings + counts.plain:,} results, "
                    f"{counts.hourly + counts.daily:,} buckets ({el:.0f} s, "
                    f"eta {el / (n + 1) * (recipe.schools - n - 1):.0f} s)"
                )
        conn.execute("SELECT setval('probe_runs_id_seq', (SELECT max(id) FROM probe_runs))")
        conn.commit()
    return counts


def _day(daily: dict[tuple[int, str, int], BucketTally], row: dict[str, Any]) -> None:
    key = (row["device_id"], row["probe"], row["bucket_start"] // DAY * DAY)
    tally = daily.get(key)
    if tally is None:
        tally = daily[key] = BucketTally()
    tally.add_bucket(row)
