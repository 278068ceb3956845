"""``itops probe ping``: reachability, RTT, jitter and loss of IPs, CIDRs, host names, asset tags."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.probe import probe
from kape_itops.cli.render import console, err_console, print_json, safe, table
from kape_itops.domain.enums import SEVERITY, ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError, ItopsError, NotFoundError, StoreError, UsageError
from kape_itops.inventory.service import Inventory
from kape_itops.probes.base import ProbeResult, Target, worst
from kape_itops.probes.icmp import Method
from kape_itops.probes.ping import PingRun, ping_targets
from kape_itops.probes.targets import DeviceLookup, TargetSpec, resolve_targets

__all__ = ["ping", "probe"]

_STYLE = {"ok": "green", "warn": "yellow", "crit": "red", "unknown": "magenta"}


def _lookup(app: App) -> DeviceLookup:
    """An asset-tag lookup that quietly gives None when there is no usable inventory."""
    inventory: list[Inventory] = []

    def lookup(tag: str) -> Device | None:
        url = app.settings.db_url
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return None
        try:
            if not inventory:
                inventory.append(Inventory(app.store(), app.actor))
            return inventory[0].device(tag)
        except (NotFoundError, StoreError, ConfigError):
            return None

    return lookup


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def render(run: PingRun, specs: list[TargetSpec]) -> None:
    """The results as a table (device-supplied text escaped)."""
    rows = []
    for spec, r in zip(specs, run.results, strict=True):
        m = r.metrics
        rows.append(
            [
                spec.label if spec.label == spec.address else f"{spec.label} ({spec.address})",
                r.status.value,
                f"{m.get('received', 0)}/{m.get('sent', 0)}",
                _fmt(m.get("loss_pct")),
                "/".join(_fmt(m.get(k)) for k in ("rtt_min_ms", "rtt_avg_ms", "rtt_max_ms")),
                _fmt(m.get("rtt_stddev_ms")),
                _fmt(m.get("jitter_ms")),
                "" if r.status == ProbeStatus.OK else r.reason,
            ]
        )
    t = table(
        f"ping ({run.method})",
        ["target", "status", "recv", "loss%", "rtt min/avg/max ms", "sd", "jitter", "why"],
        rows,
    )
    for col in t.columns[:-1]:
        col.no_wrap = True
    for row, r in zip(t.rows, run.results, strict=True):
        row.style = _STYLE.get(r.status.value)
    console.print(t)
    counts = {s: sum(1 for r in run.results if r.status == s) for s in ProbeStatus}
    console.print(
        ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) or "no targets",
        f"(method {run.method})",
    )


def _as_json(run: PingRun, specs: list[TargetSpec]) -> dict[str, object]:
    return {
        "method": run.method.value,
        "notes": run.notes,
        "results": [
            {"address": spec.address, "source": spec.source, **_result(r)}
            for spec, r in zip(specs, run.results, strict=True)
        ],
    }


def _result(r: ProbeResult) -> dict[str, object]:
    return {
        "target": r.target,
        "asset_tag": r.asset_tag,
        "status": r.status.value,
        "reason": r.reason,
        "method": r.method,
        "metrics": dict(r.metrics),
        "duration_ms": round(r.duration_ms, 1),
    }


@probe.command("ping")
@click.argument("targets", nargs=-1, required=True)
@click.option("--count", "-c", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option(
    "--interval",
    type=click.FloatRange(0.0, 60.0),
    default=0.2,
    show_default=True,
    help="Seconds between echoes to one host.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.01, 60.0),
    default=1.0,
    show_default=True,
    help="Seconds to wait for each reply.",
)
@click.option(
    "--rate",
    type=click.FloatRange(1.0, 100_000.0),
    default=500.0,
    show_default=True,
    help="Packets-per-second budget of the whole run.",
)
@click.option(
    "--method",
    type=click.Choice(["auto", *[m.value for m in Method]]),
    default="auto",
    show_default=True,
    help="Force a method instead of the best one allowed.",
)
@click.option("--force", is_flag=True, help="Allow sweeps larger than a /16.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
@handle_errors({ItopsError: 3})
def ping(
    app: App,
    targets: tuple[str, ...],
    count: int,
    interval: float,
    timeout: float,
    rate: float,
    method: str,
    force: bool,
    as_json: bool,
) -> None:
    """Ping TARGETs (IPs, CIDRs, host names or asset tags); Nagios exit codes 0/1/2/3."""
    lookup = _lookup(app)
    specs = resolve_targets(targets, lookup=lookup, force=force)
    if not specs:
        raise UsageError("no addresses to ping")
    settings = {"count": count, "interval_s": interval, "timeout_s": timeout}
    probe_targets = [Target(s.address, device=s.device, settings=settings) for s in specs]
    chosen = None if method == "auto" else Method(method)
    run = asyncio.run(ping_targets(probe_targets, timeout_s=timeout, pps=rate, method=chosen))
    for note in run.notes:
        err_console.print(f"note: {safe(note)}")
    if run.method is Method.TCP and chosen is None:
        err_console.print("note: using TCP connect (a refused connection also counts as up)")
    if as_json:
        print_json(_as_json(run, specs))
    else:
        render(run, specs)
    sys.exit(SEVERITY[worst([r.status for r in run.results])])
