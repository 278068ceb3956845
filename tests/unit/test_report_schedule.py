"""systemd units and cron lines for the schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kape_itops.domain.timespan import parse_month
from kape_itops.errors import UsageError
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, report_hour, systemd_units


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
    assert "SuccessExitStatus=1 2\n" in svc
    assert "ExecStopPost=/opt/itops/bin/python -m kape_itops db prune" in svc
    assert "ExecStartPost" not in svc
    assert 'Environment="ITOPS_DB=sqlite:////srv/itops/itops.db"' in svc
    assert "WorkingDirectory=/srv/itops" in svc
    assert "--every" not in svc
    assert "OnUnitActiveSec=300s" in units["itops-probe.timer"]
    assert "OnCalendar=Mon *-*-* 06:00:00" in units["itops-report.timer"]
    rep = units["itops-report.service"]
    assert (
        "report health --since 7d --html /srv/itops/reports/health-weekly-$$(date +%%F).html" in rep
    )


def test_no_report_and_environment_file() -> None:
    units = systemd_units(
        spec(report=None, environment=(), environment_file=Path("/etc/kape-itops/itops.env"))
    )
    assert sorted(units) == ["itops-probe.service", "itops-probe.timer"]
    assert "EnvironmentFile=/etc/kape-itops/itops.env\n" in units["itops-probe.service"]


def test_cron_lines() -> None:
    lines = cron_lines(spec("10m", "daily"))
    assert lines[1].startswith("*/10 * * * * cd /srv/itops && export ITOPS_DB=")
    assert lines[1].endswith(
        "&& { /opt/itops/bin/python -m kape_itops probe run; "
        "/opt/itops/bin/python -m kape_itops db prune; }"
    )
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


def test_monthly_report_is_the_previous_calendar_month_after_the_utc_month_ends() -> None:
    phnom_penh = spec(report="monthly", utc_offset=dt.timedelta(hours=7))
    units = systemd_units(phnom_penh)
    assert "OnCalendar=*-*-01 08:00:00\n" in units["itops-report.timer"]
    rep = units["itops-report.service"]
    assert "report health --month last --html /srv/itops/reports/health-monthly-" in rep
    assert "--since" not in rep
    lines = cron_lines(phnom_penh)
    assert lines[3].startswith("0 8 1 * * cd /srv/itops && ")
    assert "report health --month last --html" in lines[3]
    assert cron_lines(spec(report="monthly"))[3].startswith("0 6 1 * * ")


@pytest.mark.parametrize(
    ("report", "offset_h", "hour"),
    [
        ("monthly", 0, 6),
        ("monthly", -8, 6),
        ("monthly", 5, 6),
        ("monthly", 5.5, 7),
        ("monthly", 7, 8),
        ("monthly", 14, 15),
        ("weekly", 7, 6),
        ("daily", 14, 6),
    ],
)
def test_report_hour_is_local_and_after_utc_midnight_for_months(
    report: str, offset_h: float, hour: int
) -> None:
    s = spec(report=report, utc_offset=dt.timedelta(hours=offset_h))
    assert report_hour(s) == hour
    if report == "monthly":  # local 1st, and already the 1st in UTC
        assert dt.timedelta(hours=hour) - s.utc_offset > dt.timedelta(0)


@pytest.mark.parametrize(
    ("text", "today", "first", "last"),
    [
        ("last", dt.date(2026, 6, 1), dt.date(2026, 5, 1), dt.date(2026, 5, 31)),
        ("LAST", dt.date(2026, 3, 15), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("previous", dt.date(2026, 1, 1), dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
        ("2024-02", dt.date(2026, 6, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2026-12", dt.date(2026, 6, 1), dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ],
)
def test_parse_month(text: str, today: dt.date, first: dt.date, last: dt.date) -> None:
    assert parse_month(text, today) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "0000-01", "26-05", "May", "2026-5"])
def test_parse_month_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month; use YYYY-MM"):
        parse_month(text, dt.date(2026, 6, 1))
