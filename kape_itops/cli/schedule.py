"""``itops schedule install``: systemd timer units (or cron lines) for probes and reports."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from kape_itops.atomic import output_folder, write_text
from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, safe
from kape_itops.domain.timespan import parse_duration
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, systemd_units
from kape_itops.store.db import safe_url

ENV_FILE = Path("/etc/kape-itops/itops.env")


def _every(_ctx: click.Context, _param: click.Parameter, value: str) -> dt.timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group()
def schedule() -> None:
    """Run probe rounds and reports on a schedule (systemd timers or cron)."""


@schedule.command("install")
@click.option(
    "--every", default="5m", show_default=True, callback=_every, help="Probe round interval."
)
@click.option(
    "--report",
    "cadence",
    default="weekly",
    show_default=True,
    type=click.Choice(["daily", "weekly", "monthly", "none"]),
    help="Health report cadence.",
)
@click.option(
    "--dir",
    "unit_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the unit files into DIR (e.g. /etc/systemd/system).",
)
@click.option(
    "--reports-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Where scheduled reports are written (relative to the data folder).",
)
@click.option("--cron", is_flag=True, help="Print crontab lines instead of systemd units.")
@pass_app
@handle_errors()
def install(
    app: App,
    every: dt.timedelta,
    cadence: str,
    unit_dir: Path | None,
    reports_dir: Path,
    cron: bool,
) -> None:
    """Write systemd service+timer units (or print cron lines); never calls systemctl itself."""
    workdir = app.settings.data_dir.resolve()
    env: list[tuple[str, str]] = []
    env_file: Path | None = None
    db_url = app.settings.db_url
    if _has_password(db_url):
        env_file = ENV_FILE
    else:
        if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
            db_url = "sqlite:///" + str((Path.cwd() / db_url[len("sqlite:///") :]).resolve())
        env.append(("ITOPS_DB", db_url))
    if app.settings.secrets_path is not None:
        env.append(("ITOPS_SECRETS", str(app.settings.secrets_path.resolve())))
    spec = ScheduleSpec(
        every=every,
        report=None if cadence == "none" else cadence,
        command=(sys.executable, "-m", "kape_itops"),
        workdir=workdir,
        reports_dir=reports_dir if reports_dir.is_absolute() else workdir / reports_dir,
        environment=tuple(env),
        environment_file=env_file,
        utc_offset=dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0),
    )
    if cron:
        lines = cron_lines(spec)
        click.echo("\n".join(lines))
        click.echo("# add these lines with: crontab -e", err=True)
        _env_hint(env_file)
        return
    units = systemd_units(spec)
    timers = " ".join(n for n in units if n.endswith(".timer"))
    if unit_dir is None:
        for name, text in units.items():
            click.echo(f"# ---- {name}")
            click.echo(text)
        click.echo(
            "# to install: save each unit above under /etc/systemd/system/ (or run again with "
            "--dir /etc/systemd/system), then:\n"
            f"#   systemctl daemon-reload && systemctl enable --now {timers}",
            err=True,
        )
        _env_hint(env_file)
        return
    output_folder(unit_dir)
    for name, text in units.items():
        write_text(unit_dir / name, text)
        console.print(f"wrote {safe(unit_dir / name)}")
    console.print(f"next: systemctl daemon-reload && systemctl enable --now {safe(timers)}")
    _env_hint(env_file)


def _has_password(url: str) -> bool:
    return "***" in safe_url(url) and safe_url(url) != url


def _env_hint(env_file: Path | None) -> None:
    if env_file is not None:
        click.echo(
            f"# the database URL holds a password: put ITOPS_DB=... in {env_file} (mode 0600); "
            "it is not written into the schedule",
            err=True,
        )
