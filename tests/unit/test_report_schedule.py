"""systemd units and cron lines for the schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kape_itops.errors import UsageError
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, systemd_units


def spec(every: str = "5m", report: str | None = "weekly", **kw: object) -> ScheduleSpec:
    unit = {"m": 60, "h": 3600, "s": 1}[every[-1]]
    base: dict[str, object] = {
        "every": dt.timedelta(seconds=int(every[:-1]) * unit),
        "report": report,
        "command": ("/opt/itops/bin/python", "-m", "kape_itops"),
        "workdir": Path("/srv/itops"),
        "reports_dir": Path("/srv/itops/reports"),
        "environment": (("ITOPS_DB", "sqlite:////srv/itops/itops.db"),),
    }
    base.update(kw)
    return ScheduleSpec(**base)  # type: ignore[arg-type]


def test_systemd_units_probe_oneshot_timer_and_weekly_report() -> None:
    units = systemd_units(spec())
    assert sorted(units) == [
        "itops-probe.service",
        "itops-probe.timer",
        "itops-report.service",
        "itops-report.timer",
    ]
    svc = units["itops-probe.service"]
    assert "Type=oneshot" in svc
    assert "ExecStart=/opt/itops/bin/python -m kape_itops probe run\n" in svc
    assert "ExecStartPost=/opt/itops/bin/python -m kape_itops db prune" in svc
    assert 'Environment="ITOPS_DB=sqlite:////srv/itops/itops.db"' in svc
    assert "WorkingDirectory=/srv/itops" in svc
    assert "--every" not in svc
    assert "OnUnitActiveSec=300s" in units["itops-probe.timer"]
    assert "OnCalendar=Mon *-*-* 06:00:00" in units["itops-report.timer"]
    rep = units["itops-report.service"]
    assert (
        "report health --since 7d --html /srv/itops/reports/health-weekly-$(date +%%F).html" in rep
    )


def test_no_report_and_environment_file() -> None:
    units = systemd_units(
        spec(report=None, environment=(), environment_file=Path("/etc/kape-itops/itops.env"))
    )
    assert sorted(units) == ["itops-probe.service", "itops-probe.timer"]
    assert "EnvironmentFile=-/etc/kape-itops/itops.env" in units["itops-probe.service"]


def test_cron_lines() -> None:
    lines = cron_lines(spec("10m", "daily"))
    assert lines[1].startswith("*/10 * * * * cd /srv/itops && export ITOPS_DB=")
    assert lines[1].endswith("kape_itops probe run && /opt/itops/bin/python -m kape_itops db prune")
    assert lines[3].startswith("0 6 * * * ")
    assert "report health --since 1d --html" in lines[3] and "\\%F" in lines[3]
    assert cron_lines(spec("2h", None))[1].startswith("0 */2 * * * ")
    assert cron_lines(spec("1m", None))[1].startswith("* * * * * ")


@pytest.mark.parametrize(
    ("s", "message"),
    [
        (spec("7m"), "divisor of 60"),
        (spec("90s"), "whole minutes"),
        (spec("5h"), "divides 24"),
        (spec("30s"), "at least 1m"),
        (spec(report="hourly"), "not one of daily, weekly, monthly"),
    ],
)
def test_bad_schedules(s: ScheduleSpec, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cron_lines(s)
