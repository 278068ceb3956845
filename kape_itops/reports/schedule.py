"""systemd timer units and cron lines for the probe round and the periodic report.

Pure text generation: nothing here touches systemd or crontab; the CLI writes files only into a
folder it is given and prints what to run next.
"""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass
from pathlib import Path

from kape_itops.errors import UsageError

REPORT_CALENDAR = {
    "daily": "*-*-* 06:00:00",
    "weekly": "Mon *-*-* 06:00:00",
    "monthly": "*-*-01 06:00:00",
}
REPORT_CRON = {"daily": "0 6 * * *", "weekly": "0 6 * * 1", "monthly": "0 6 1 * *"}
REPORT_SPAN = {"daily": "1d", "weekly": "7d", "monthly": "30d"}


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """What to schedule and how to call itops."""

    every: dt.timedelta
    report: str | None
    command: tuple[str, ...]
    """How to run itops, e.g. ``("/usr/bin/python3", "-m", "kape_itops")``."""
    workdir: Path
    reports_dir: Path
    environment: tuple[tuple[str, str], ...] = ()
    environment_file: Path | None = None


def validate(spec: ScheduleSpec) -> None:
    """Refuse intervals below a minute and unknown report cadences."""
    if spec.every < dt.timedelta(minutes=1):
        raise UsageError("--every must be at least 1m")
    if spec.report is not None and spec.report not in REPORT_CALENDAR:
        raise UsageError(
            f"--report {spec.report!r} is not one of {', '.join(REPORT_CALENDAR)} or none"
        )


def _exec(spec: ScheduleSpec, *args: str) -> str:
    return shlex.join([*spec.command, *args])


def _env_lines(spec: ScheduleSpec) -> list[str]:
    lines = [f'Environment="{k}={v}"' for k, v in spec.environment]
    if spec.environment_file is not None:
        lines.append(f"EnvironmentFile=-{spec.environment_file}")
    return lines


def systemd_units(spec: ScheduleSpec) -> dict[str, str]:
    """Unit file name → content: a oneshot probe round per timer tick (then prune), and the report."""
    validate(spec)
    seconds = int(spec.every.total_seconds())
    units = {
        "itops-probe.service": "\n".join(
            [
                "[Unit]",
                "Description=kape-itops probe round",
                "After=network-online.target",
                "Wants=network-online.target",
                "",
                "[Service]",
                "Type=oneshot",
                f"WorkingDirectory={spec.workdir}",
                *_env_lines(spec),
                f"ExecStart={_exec(spec, 'probe', 'run')}",
                f"ExecStartPost={_exec(spec, 'db', 'prune')}",
                "Nice=5",
                "",
            ]
        ),
        "itops-probe.timer": "\n".join(
            [
                "[Unit]",
                f"Description=Run the kape-itops probe round every {seconds} s",
                "",
                "[Timer]",
                "OnBootSec=1min",
                f"OnUnitActiveSec={seconds}s",
                "AccuracySec=10s",
                "Persistent=false",
                "",
                "[Install]",
                "WantedBy=timers.target",
                "",
            ]
        ),
    }
    if spec.report:
        out = spec.reports_dir / f"health-{spec.report}-$(date +%%F).html"
        inner = _exec(spec, "report", "health", "--since", REPORT_SPAN[spec.report])
        script = f"mkdir -p {shlex.quote(str(spec.reports_dir))} && {inner} --html {out}"
        units["itops-report.service"] = "\n".join(
            [
                "[Unit]",
                f"Description=kape-itops {spec.report} health report",
                "",
                "[Service]",
                "Type=oneshot",
                f"WorkingDirectory={spec.workdir}",
                *_env_lines(spec),
                f"ExecStart=/bin/sh -c {shlex.quote(script)}",
                "",
            ]
        )
        units["itops-report.timer"] = "\n".join(
            [
                "[Unit]",
                f"Description=kape-itops {spec.report} health report",
                "",
                "[Timer]",
                f"OnCalendar={REPORT_CALENDAR[spec.report]}",
                "Persistent=true",
                "",
                "[Install]",
                "WantedBy=timers.target",
                "",
            ]
        )
    return units


def cron_lines(spec: ScheduleSpec) -> list[str]:
    """crontab lines for the same schedule (cron runs at most once a minute)."""
    validate(spec)
    seconds = int(spec.every.total_seconds())
    if seconds % 60:
        raise UsageError("cron runs whole minutes: use --every in whole minutes (e.g. 5m)")
    minutes = seconds // 60
    if minutes < 60:
        if 60 % minutes:
            raise UsageError(
                f"cron cannot run every {minutes} minutes evenly; use a divisor of 60 "
                "(1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or systemd timers"
            )
        when = "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    elif minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours = minutes // 60
        when = "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    else:
        raise UsageError("cron can run every N hours only when N divides 24; use systemd timers")
    run = f"cd {shlex.quote(str(spec.workdir))} && "
    if spec.environment_file is not None:
        run += f"set -a && . {shlex.quote(str(spec.environment_file))} && set +a && "
    if spec.environment:
        run += "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in spec.environment) + " && "
    lines = [
        "# kape-itops: probe round, then roll up and prune old raw results",
        f"{when} {run}{_exec(spec, 'probe', 'run')} && {_exec(spec, 'db', 'prune')}",
    ]
    if spec.report:
        out = spec.reports_dir / f"health-{spec.report}-$(date +\\%F).html"
        lines += [
            f"# kape-itops: {spec.report} health report",
            f"{REPORT_CRON[spec.report]} {run}mkdir -p {shlex.quote(str(spec.reports_dir))} && "
            f"{_exec(spec, 'report', 'health', '--since', REPORT_SPAN[spec.report])} --html {out}",
        ]
    return lines
