"""``itops probe ping``: reachability, RTT, jitter and loss of IPs, CIDRs, host names, asset tags."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import (
    STATUS_STYLE,
    console,
    err_console,
    print_json,
    result_json,
    safe,
    table,
)
from kape_itops.domain.enums import SEVERITY, ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ItopsError, UsageError
from kape_itops.probes.addressmap import lab_state_path, load_address_map
from kape_itops.probes.base import Target, worst
from kape_itops.probes.icmp.client import Method
from kape_itops.probes.icmp.probe import PingRun, ping_targets
from kape_itops.probes.targets import TargetSpec, lab_address, resolve_targets

__all__ = ["ping"]


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
        row.style = STATUS_STYLE[r.status]
    console.print(t)
    counts = {s: sum(1 for r in run.results if r.status == s) for s in ProbeStatus}
    console.print(
        ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) or "no targets",
        f"(method {run.method})",
    )


def _as_json(
    run: PingRun, specs: list[TargetSpec], where: list[tuple[str | None, dict[str, int]]]
) -> dict[str, object]:
    return {
        "method": run.method.value,
        "notes": run.notes,
        "results": [
            {
                "address": spec.address,
                "source": spec.source,
                "pinged": addr,
                **result_json(r, spec.device),
            }
            for spec, (addr, _ports), r in zip(specs, where, run.results, strict=True)
        ],
    }


def _merge_skipped(
    run: PingRun, specs: list[TargetSpec], where: list[tuple[str | None, dict[str, int]]]
) -> PingRun:
    """Results in spec order, with 'not simulated' results for addresses the lab map lacks."""
    measured = iter(run.results)
    now = dt.datetime.now(dt.UTC)
    results = [
        next(measured)
        if addr is not None
        else ProbeResult(
            "ping",
            spec.label,
            ProbeStatus.UNKNOWN,
            "not simulated by the lab (not in its address map): not pinged",
            now,
            0.0,
            {},
            None,
            spec.device.asset_tag if spec.device else None,
        )
        for spec, (addr, _ports) in zip(specs, where, strict=True)
    ]
    return PingRun(results, run.method, run.notes)


@click.command("ping")
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
@click.option("--lab", is_flag=True, help="Ping where the simulated lab answers (its address map).")
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
    lab: bool,
    as_json: bool,
) -> None:
    """Ping TARGETs (IPs, CIDRs, host names or asset tags); Nagios exit codes 0/1/2/3.

    With --lab (or ITOPS_LAB_STATE set) addresses go through the lab's address map, and
    addresses the lab does not simulate are not pinged at all.
    """
    specs = resolve_targets(targets, lookup=app.known_device, force=force)
    if not specs:
        raise UsageError("no addresses to ping")
    state = lab_state_path(lab, app.settings.data_dir)
    amap = load_address_map(state) if state is not None else None
    settings = {"count": count, "interval_s": interval, "timeout_s": timeout}
    where = [lab_address(s, amap) for s in specs]
    probe_targets = [
        Target(addr, device=s.device, settings={**settings, "lab_ports": ports})
        for s, (addr, ports) in zip(specs, where, strict=True)
        if addr is not None
    ]
    chosen = None if method == "auto" else Method(method)
    run = asyncio.run(ping_targets(probe_targets, timeout_s=timeout, pps=rate, method=chosen))
    run = _merge_skipped(run, specs, where)
    for note in run.notes:
        err_console.print(f"note: {safe(note)}")
    if run.method is Method.TCP and chosen is None:
        err_console.print("note: using TCP connect (a refused connection also counts as up)")
    if as_json:
        print_json(_as_json(run, specs, where))
    else:
        render(run, specs)
    sys.exit(SEVERITY[worst([r.status for r in run.results])])
