"""``itops probe run``: probe the inventory's devices, store every result, Nagios exit code.

:func:`run_and_show` is the one code path of an inventory run: ``probe run`` and ``ssh check``
(a run of the ssh probe with SSH login options) both end here, so they store, prune, show and
exit alike.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kape_itops.atomic import require_folder
from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.nagios import NAGIOS_ERRORS, NAGIOS_UNKNOWN, nagios_code
from kape_itops.cli.options import duration, split_list
from kape_itops.cli.render import (
    STATUS_STYLE,
    console,
    err_console,
    print_json,
    result_json,
    safe,
    table,
)
from kape_itops.datafiles import data_folder
from kape_itops.domain.enums import DeviceKind, ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ItopsError, UsageError
from kape_itops.probes.addressmap import lab_state_path
from kape_itops.probes.profiles import load_profiles
from kape_itops.probes.runner import Job, RunnerConfig
from kape_itops.probes.selection import Plan
from kape_itops.probes.service import ProbeService, RunReport, RunRequest, run_rounds
from kape_itops.reports import render_prom as prom

__all__ = ["Live", "report_json", "run_and_show", "run_cmd"]

_ORDER = {ProbeStatus.CRIT: 0, ProbeStatus.WARN: 1, ProbeStatus.UNKNOWN: 2, ProbeStatus.OK: 3}


class Live:
    """The progress bar with live ok/warn/crit/unknown counts (on stderr, terminals only)."""

    def __init__(self, enabled: bool, out: Console | None = None) -> None:
        self.enabled = enabled
        self.out = out or err_console
        self.progress: Progress | None = None
        self.task: Any = None
        self.counts = dict.fromkeys(ProbeStatus, 0)

    def _text(self) -> str:
        return " ".join(f"[{STATUS_STYLE[s]}]{s.value} {n}[/]" for s, n in self.counts.items())

    def plan(self, plan: Plan) -> None:
        self.stop()
        self.counts = dict.fromkeys(ProbeStatus, 0)
        if not self.enabled:
            return
        self.progress = Progress(
            TextColumn("probing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.out,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(self._text(), total=plan.checks)

    def result(self, result: ProbeResult, _job: Job) -> None:
        self.counts[result.status] += 1
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=self._text())

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def report_json(report: RunReport) -> dict[str, Any]:
    """A run for ``--json``: the run, every result, and the devices not probed with why."""
    return {
        "run": {
            "id": report.run_id,
            "status": report.status.value,
            "counts": report.outcome.counts,
            "exit_code": nagios_code([r.status for r in report.results]),
        },
        "results": [
            result_json(r, report.devices.get(r.asset_tag or ""))
            for r in sorted(report.results, key=lambda r: (r.asset_tag or r.target, r.probe))
        ],
        "skipped": [
            {"asset_tag": d.asset_tag, "school": d.school, "reason": why}
            for d, why in report.plan.skipped
        ],
    }


def _show(report: RunReport, every_result: bool) -> None:
    counts = report.outcome.counts
    overall = report.outcome.overall if report.results else ProbeStatus.UNKNOWN
    console.print(
        f"run {report.run_id}: {len(report.plan.jobs)} device(s), {len(report.results)} "
        f"result(s): ok {counts['ok']}, warn {counts['warn']}, crit {counts['crit']}, "
        f"unknown {counts['unknown']} -> {overall.value.upper()}"
    )
    shown = sorted(
        (r for r in report.results if every_result or r.status != ProbeStatus.OK),
        key=lambda r: (_ORDER[r.status], r.asset_tag or "", r.probe),
    )
    if shown:
        rows = []
        for r in shown:
            d = report.devices.get(r.asset_tag or "")
            rows.append(
                (
                    r.status.value,
                    r.asset_tag,
                    d.school if d else "",
                    d.kind.value if d else "",
                    r.probe,
                    r.target,
                    r.reason,
                )
            )
        console.print(
            table(
                "Results" if every_result else "Problems",
                ("status", "asset tag", "school", "kind", "probe", "target", "reason"),
                rows,
            )
        )
    if report.plan.skipped:
        console.print(
            f"{len(report.plan.skipped)} device(s) not probed (not deployed, no address or no "
            "applicable probe; --json lists why)."
        )


def run_and_show(
    app: App,
    service: ProbeService,
    request: RunRequest,
    *,
    as_json: bool,
    every: dt.timedelta | None = None,
    rounds: int | None = None,
    grace: dt.timedelta = dt.timedelta(seconds=30),
    prom_file: Path | None = None,
    every_result: bool = False,
) -> int:
    """Run ``request`` (once, or every ``every`` until a signal or ``rounds``), show each round
    (problems only, or ``every_result``), prune after each; the Nagios code of the last round."""
    service.validate(request)
    live = Live(enabled=err_console.is_terminal and not as_json)
    codes: list[int] = []

    def round_done(report: RunReport | None, run_id: int | None) -> None:
        live.stop()
        if report is None:
            where = f"run {run_id}" if run_id is not None else "the run"
            err_console.print(
                f"{where} interrupted: every result measured so far is stored ({live_total()})"
            )
            codes.append(NAGIOS_UNKNOWN)
            return
        if as_json:
            print_json(report_json(report))
        else:
            _show(report, every_result)
            if not report.plan.jobs:
                err_console.print("no devices to probe in this selection")
        codes.append(nagios_code([r.status for r in report.results]))
        if prom_file is not None:
            _write_prom(service, prom_file)
        try:
            service.after_round()
        except ItopsError as exc:
            err_console.print(f"warning: retention after the run failed: {safe(str(exc))}")

    def live_total() -> str:
        return ", ".join(f"{s.value} {n}" for s, n in live.counts.items())

    try:
        asyncio.run(
            run_rounds(
                service,
                request,
                every_s=every.total_seconds() if every is not None else None,
                grace_s=grace.total_seconds(),
                max_rounds=rounds,
                on_result=live.result,
                on_round=round_done,
                on_plan=live.plan,
            )
        )
    finally:
        live.stop()
        app.close()
    return codes[-1] if codes else NAGIOS_UNKNOWN


def _write_prom(service: ProbeService, path: Path) -> None:
    samples = [
        prom.PromSample(result, {"school": device.school, "kind": device.kind.value})
        for result, device in service.latest()
    ]
    try:
        prom.write(path, samples)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc}") from exc


@click.command("run")
@click.option("--school", "schools", multiple=True, help="School code (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice([k.value for k in DeviceKind]))
@click.option("--tag", "tags", multiple=True, help="Asset tag (repeatable).")
@click.option("--only", "only", multiple=True, help="Probe kinds to run, e.g. ping,snmp.")
@click.option(
    "--include-undeployed",
    is_flag=True,
    help="Also probe devices in stock or in repair (a device named by --tag always is).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 10_000),
    default=64,
    show_default=True,
    help="Devices probed at once.",
)
@click.option(
    "--per-school",
    type=click.IntRange(1, 10_000),
    default=16,
    show_default=True,
    help="Devices of one school probed at once.",
)
@click.option(
    "--pps",
    type=click.FloatRange(0),
    default=500.0,
    show_default=True,
    help="Packets-per-second budget of the whole run (0: unlimited).",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=1,
    show_default=True,
    help="Extra attempts after an unknown result (with backoff).",
)
@click.option("--lab", is_flag=True, help="Probe the simulated lab (its address map).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--every", callback=duration(positive=True), help="Run rounds this often (5m) until stopped."
)
@click.option(
    "--rounds",
    type=click.IntRange(1),
    help="With --every: stop after this many rounds [default: until stopped].",
)
@click.option(
    "--grace",
    callback=duration(positive=True),
    default="30s",
    show_default=True,
    help="With --every: how long a signal lets the current round finish.",
)
@click.option(
    "--prom",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the latest results to this Prometheus textfile.",
)
@click.option(
    "--profiles",
    type=click.Path(path_type=Path, file_okay=False),
    help="Probe profile folder [default: ITOPS_DATA/probes].",
)
@pass_app
@handle_errors(NAGIOS_ERRORS)
def run_cmd(
    app: App,
    schools: tuple[str, ...],
    kinds: tuple[str, ...],
    tags: tuple[str, ...],
    only: tuple[str, ...],
    include_undeployed: bool,
    concurrency: int,
    per_school: int,
    pps: float,
    retries: int,
    lab: bool,
    as_json: bool,
    every: dt.timedelta | None,
    rounds: int | None,
    grace: dt.timedelta,
    prom: Path | None,
    profiles: Path | None,
) -> None:
    """Probe the inventory's devices; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
    if rounds is not None and every is None:
        raise UsageError("--rounds goes with --every")
    if prom is not None:
        require_folder(prom)  # said now, not after the first round
    probes_dir = profiles or data_folder(app.settings.data_dir).area("probes")
    service = app.probes(
        load_profiles(probes_dir),
        config=RunnerConfig(concurrency=concurrency, per_school=per_school, retries=retries),
        pps=pps or None,
    )
    request = RunRequest(
        schools=tuple(schools),
        kinds=tuple(DeviceKind(k) for k in kinds),
        tags=tuple(tags),
        only=split_list(only),
        lab_state=lab_state_path(lab, app.settings.data_dir),
        include_undeployed=include_undeployed,
    )
    code = run_and_show(
        app,
        service,
        request,
        as_json=as_json,
        every=every,
        rounds=rounds,
        grace=grace,
        prom_file=prom,
    )
    sys.exit(code)
