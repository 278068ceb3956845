"""systemd timer units and cron lines for the probe round and the periodic report.

Pure text generation: nothing here touches systemd or crontab; the CLI writes files only into a
folder it is given and prints what to run next.

Every path and value is quoted for where it goes, never pasted: for ``/bin/sh`` (cron lines and
the report script), for cron (a bare ``%`` is a newline there), for systemd (``%`` specifiers,
``$`` variables, C escapes) and for environment files (read by both systemd and ``sh``). Text
no quoting can carry (control characters such as a newline, text that is not UTF-8) is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path

from kape_itops.errors import UsageError
from kape_itops.limits import shown

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
CRON_MAX_COMMAND = 998
"""Longest cron command written: Vixie-derived crons cut a command at 1,000 characters."""

_SH_PLAIN = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
"""Words ``sh``, cron and systemd all take as they are (no quotes, ``%``, ``$`` or spaces)."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    """Read by every run (``EnvironmentFile=``; sourced in cron): holds ``ITOPS_DB`` with a password."""
    utc_offset: dt.timedelta = dt.timedelta(0)
    """The machine's local offset from UTC: timers and cron run in local time."""
    sync: bool = False
    """Run ``itops sync`` after each round (a site joined to a server)."""


def validate(spec: ScheduleSpec) -> None:
    """Refuse intervals below a minute, unknown report cadences and text no quoting can carry."""
    if spec.every < dt.timedelta(minutes=1):
        raise UsageError("--every must be at least 1m")
    if spec.report is not None and spec.report not in REPORT_DAYS:
        raise UsageError(f"--report {spec.report!r} is not one of {', '.join(REPORT_DAYS)} or none")
    check_text("the itops command", " ".join(spec.command))
    for what, path in [
        ("the data folder (ITOPS_DATA)", spec.workdir),
        ("the reports folder (--reports-dir)", spec.reports_dir),
        ("the environment file", spec.environment_file),
    ]:
        if path is not None:
            check_path(what, path)
    for name, value in spec.environment:
        if not _ENV_NAME.fullmatch(name):
            raise UsageError(f"{shown(name)} is not an environment variable name")
        check_text(name, value)


def check_text(what: str, text: str) -> None:
    """Refuse control characters (C0, DEL, C1): a newline would start a new setting or line."""
    bad = next((c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F), None)
    if bad is not None:
        raise UsageError(
            f"{what} {shown(text)} holds a control character ({bad!r}), which no systemd unit "
            "or crontab line can carry; use a name without it"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what} {shown(text)} is not UTF-8 text; use a UTF-8 name") from exc


def check_path(what: str, path: Path) -> None:
    """:func:`check_text`, and an absolute path systemd reads as written (no edge spaces or ``\\``)."""
    text = str(path)
    check_text(what, text)
    if not path.is_absolute():
        raise UsageError(f"{what} {shown(text)} must be an absolute path")
    if text != text.strip() or text.endswith("\\"):
        raise UsageError(
            f"{what} {shown(text)} ends in a space or a backslash, which systemd would drop or "
            "read as a continued line; rename it"
        )


def sh_quote(text: str) -> str:
    """``text`` as one ``sh`` word, with every ``%`` outside quotes (see :func:`cron_escape`)."""
    if _SH_PLAIN.fullmatch(text):
        return text
    return "%".join("'" + part.replace("'", "'\\''") + "'" for part in text.split("%"))


def cron_escape(command: str) -> str:
    """A ``sh`` command as a crontab command field: cron reads a bare ``%`` as a newline.

    ``\\%`` is cron's literal ``%``. :func:`sh_quote` never puts a backslash right before a
    ``%`` (cron could not write that pair), so escaping every ``%`` is exact.
    """
    if "\\%" in command:
        raise UsageError(f"cron cannot run {shown(command)}: a backslash before a %")
    return command.replace("%", "\\%")


def systemd_word(text: str) -> str:
    """``text`` as one word of a systemd command line (``ExecStart=``) or ``Environment=``.

    Specifiers (``%h``) are doubled to ``%%``, variables (``$HOME``) to ``$$``; backslashes and
    double quotes are escaped inside double quotes.
    """
    return text if _SH_PLAIN.fullmatch(text) else _systemd_quoted(text, dollars=True)


def _systemd_quoted(text: str, *, dollars: bool = False) -> str:
    """Double-quoted with C escapes, ``%%`` for ``%``, and ``$$`` for ``$`` in command lines."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return '"' + (escaped.replace("$", "$$") if dollars else escaped) + '"'


def systemd_path(path: Path) -> str:
    """A path for settings systemd takes literally but for specifiers (``WorkingDirectory=``)."""
    return str(path).replace("%", "%%")


def env_file_line(name: str, value: str) -> str:
    """``NAME="value"`` that systemd's ``EnvironmentFile=`` and ``sh``'s ``.`` both read as is.

    Inside double quotes both take ``\\`` before ``"``, ``\\``, `````` ` `````` and ``$`` as that
    character, and everything else literally.
    """
    if not _ENV_NAME.fullmatch(name):
        raise UsageError(f"{shown(name)} is not an environment variable name")
    check_text(name, value)
    return f'{name}="' + re.sub(r'(["\\`$])', r"\\\1", value) + '"'


def report_hour(spec: ScheduleSpec) -> int:
    """Local hour of the report run: 6, but a monthly run on the 1st waits for the UTC month.

    Report days are UTC days, so the monthly run must come after 00:00 UTC with an hour to
    spare (for a daylight-saving shift): 08:00 in Cambodia (UTC+7), 06:00 up to UTC+5.
    """
    if spec.report != "monthly":
        return REPORT_HOUR
    after_utc_midnight = (spec.utc_offset + dt.timedelta(hours=1)).total_seconds() / 3600
    return max(REPORT_HOUR, math.ceil(after_utc_midnight))


def _report_command(spec: ScheduleSpec, cadence: str) -> str:
    """``sh`` text: make the reports folder, then write the cadence's report to a dated HTML file."""
    folder = sh_quote(str(spec.reports_dir))
    health = _exec(spec, "report", "health", *REPORT_ARGS[cadence])
    out = f"{folder}/health-{cadence}-$(date +%F).html"
    return f"mkdir -p {folder} && {health} --html {out}"


def _exec(spec: ScheduleSpec, *args: str) -> str:
    return " ".join(sh_quote(a) for a in [*spec.command, *args])


def _systemd_exec(spec: ScheduleSpec, *args: str) -> str:
    program, *rest = spec.command
    return " ".join([systemd_program(program), *(systemd_word(a) for a in [*rest, *args])])


def systemd_program(path: str) -> str:
    """The program of a systemd command line: quoted, ``%%`` for ``%``, but no ``$$``.

    systemd substitutes no variables in the program's path, and refuses one holding a quote or
    a backslash ("Executable name contains special characters"), so that is refused here.
    """
    if any(c in path for c in "'\"\\"):
        raise UsageError(
            f"systemd cannot run a program whose path holds a quote or a backslash: "
            f"{shown(path)}; install kape-itops under another folder, or use --cron"
        )
    return path if _SH_PLAIN.fullmatch(path) else '"' + path.replace("%", "%%") + '"'


def _env_lines(spec: ScheduleSpec) -> list[str]:
    lines = [f"Environment={_systemd_quoted(f'{k}={v}')}" for k, v in spec.environment]
    if spec.environment_file is not None:
        lines.append(f"EnvironmentFile={systemd_path(spec.environment_file)}")
    return lines


def systemd_units(spec: ScheduleSpec) -> dict[str, str]:
    """Unit file name → content: a oneshot probe round per timer tick, and the report.

    The round's WARNING (1) and CRITICAL (2) exits are findings, not failures of the unit, and
    ``db prune`` runs as ExecStopPost=, so pruning happens whatever the round found or did;
    on a joined site ``itops sync`` runs before it, its failure (link down) ignored (``-``).
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
                f"WorkingDirectory={systemd_path(spec.workdir)}",
                *_env_lines(spec),
                f"ExecStart={_systemd_exec(spec, 'probe', 'run')}",
                "SuccessExitStatus=1 2",
                *([f"ExecStopPost=-{_systemd_exec(spec, 'sync')}"] if spec.sync else []),
                f"ExecStopPost={_systemd_exec(spec, 'db', 'prune')}",
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
        script = _report_command(spec, spec.report)
        units["itops-report.service"] = "\n".join(
            [
                "[Unit]",
                f"Description=kape-itops {spec.report} health report",
                "",
                "[Service]",
                "Type=oneshot",
                f"WorkingDirectory={systemd_path(spec.workdir)}",
                *_env_lines(spec),
                f"ExecStart=/bin/sh -c {systemd_word(script)}",
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

    ``db prune`` follows the probe round whatever it exited with (Nagios codes 1-3 are findings);
    on a joined site ``itops sync`` runs between them.
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
    run = f"cd {sh_quote(str(spec.workdir))} && "
    if spec.environment_file is not None:
        run += f"set -a && . {sh_quote(str(spec.environment_file))} && set +a && "
    if spec.environment:
        run += "export " + " ".join(f"{k}={sh_quote(v)}" for k, v in spec.environment) + " && "
    sync = f" {_exec(spec, 'sync')};" if spec.sync else ""
    probe = f"{run}{{ {_exec(spec, 'probe', 'run')};{sync} {_exec(spec, 'db', 'prune')}; }}"
    then = ", sync with the server" if spec.sync else ""
    lines = [
        f"# kape-itops: probe round{then}, then roll up and prune old raw results (whatever "
        "it found)",
        f"{when} {_cron_command(probe)}",
    ]
    if spec.report:
        when = f"0 {report_hour(spec)} {REPORT_CRON_DAYS[spec.report]}"
        command = _cron_command(run + _report_command(spec, spec.report))
        lines += [f"# kape-itops: {spec.report} health report", f"{when} {command}"]
    return lines


def _cron_command(command: str) -> str:
    escaped = cron_escape(command)
    if len(escaped) > CRON_MAX_COMMAND:
        raise UsageError(
            f"the cron command would be {len(escaped)} characters, more than cron reads "
            f"({CRON_MAX_COMMAND}); use shorter paths or systemd timers"
        )
    return escaped
