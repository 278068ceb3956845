"""systemd timer units and cron lines for the probe round and the periodic report.

Pure text generation: nothing here touches systemd or crontab; the CLI writes files only into a
folder it is given and prints what to run next.
"""

from __future__ import annotations

import datetime as dt
import math
import shlex
from dataclasses import dataclass
from pathlib import Path

from kape_itops.errors import UsageError

REPORT_DAYS = {"daily": "*-*-*", "weekly": "Mon *-*-*", "monthly": "*-*-01"}
"""systemd OnCalendar= day part per cadence (the hour comes from :func:`report_hour`)."""
REPORT_CRON_DAYS = {"daily": "* * *", "weekly": "* * 1", "monthly": "1 * *"}
REPORT_ARGS = {
    "daily": ("--since", "1d"),
    "weekly": ("--since", "7d"),
    "monthly": ("--month", "last"),
}
"""``report health`` period per cadence: monthly is the previous full calendar month."""
REPORT_HOUR = 6


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
    utc_offset: dt.timedelta = dt.timedelta(0)
    """The machine's local offset from UTC: timers and cron run in local time."""


def validate(spec: ScheduleSpec) -> None:
    """Refuse intervals below a minute and unknown report cadences."""
    if spec.every < dt.timedelta(minutes=1):
        raise UsageError("--every must be at least 1m")
    if spec.report is not None and spec.report not in REPORT_DAYS:
        raise UsageError(f"--report {spec.report!r} is not one of {', '.join(REPORT_DAYS)} or none")


def report_hour(spec: ScheduleSpec) -> int:
    """Local hour of the report run: 6, but a monthly run on the 1st waits for the UTC month.

    Report days are UTC days, so the monthly run must come after 00:00 UTC with an hour to
    spare (for a daylight-saving shift): 08:00 in Cambodia (UTC+7), 06:00 up to UTC+5.
    """
    if spec.report != "monthly":
        return REPORT_HOUR
    after_utc_midnight = (spec.utc_offset + dt.timedelta(hours=1)).total_seconds() / 3600
    return max(REPORT_HOUR, math.ceil(after_utc_midnight))


def _report_command(spec: ScheduleSpec, cadence: str, percent: str) -> str:
    """Make the reports folder, then write the cadence's report to a dated HTML file there.

    ``percent`` is how the line must write a ``%`` (``%%`` in systemd units, ``\\%`` in cron).
    """
    folder = shlex.quote(str(spec.reports_dir))
    health = _exec(spec, "report", "health", *REPORT_ARGS[cadence])
    out = f"{folder}/health-{cadence}-$(date +{percent}F).html"
    return f"mkdir -p {folder} && {health} --html {out}"


def _exec(spec: ScheduleSpec, *args: str) -> str:
    return shlex.join([*spec.command, *args])


def _env_lines(spec: ScheduleSpec) -> list[str]:
    lines = [f'Environment="{k}={v}"' for k, v in spec.environment]
    if spec.environment_file is not None:
        lines.append(f"EnvironmentFile=-{spec.environment_file}")
    return lines


def systemd_units(spec: ScheduleSpec) -> dict[str, str]:
    """Unit file name → content: a oneshot probe round per timer tick, and the report.

    The round's WARNING (1) and CRITICAL (2) exits are findings, not failures of the unit, and
    ``db prune`` runs as ExecStopPost=, so pruning happens whatever the round found or did.
    """
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
                "SuccessExitStatus=1 2",
                f"ExecStopPost={_exec(spec, 'db', 'prune')}",
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
        script = _report_command(spec, spec.report, "%%")
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
                f"OnCalendar={REPORT_DAYS[spec.report]} {report_hour(spec):02d}:00:00",
                "Persistent=true",
                "",
                "[Install]",
                "WantedBy=timers.target",
                "",
            ]
        )
    return units


def cron_lines(spec: ScheduleSpec) -> list[str]:
    """crontab lines for the same schedule (cron runs at most once a minute).

    ``db prune`` follows the probe round whatever it exited with (Nagios codes 1-3 are findings).
    """
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
        "# kape-itops: probe round, then roll up and prune old raw results (whatever it found)",
        f"{when} {run}{{ {_exec(spec, 'probe', 'run')}; {_exec(spec, 'db', 'prune')}; }}",
    ]
    if spec.report:
        when = f"0 {report_hour(spec)} {REPORT_CRON_DAYS[spec.report]}"
        command = _report_command(spec, spec.report, "\\%")  # in cron a bare % is a newline
        lines += [f"# kape-itops: {spec.report} health report", f"{when} {run}{command}"]
    return lines
