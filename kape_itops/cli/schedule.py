"""``itops schedule install``: systemd timer units (or cron lines) for probes and reports."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click

from kape_itops.atomic import output_folder, write_text
from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.options import duration
from kape_itops.cli.render import console, safe
from kape_itops.errors import UsageError
from kape_itops.reports.schedule import ScheduleSpec, cron_lines, env_file_line, systemd_units

ENV_FILE = Path("/etc/kape-itops/itops.env")
"""Default home of ``ITOPS_DB`` when its URL holds a password (never in a unit or cron line)."""


@click.group()
def schedule() -> None:
    """Run probe rounds and reports on a schedule (systemd timers or cron)."""


@schedule.command("install")
@click.option(
    "--every", default="5m", show_default=True, callback=duration(), help="Probe round interval."
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
@click.option(
    "--sync/--no-sync",
    "sync",
    default=None,
    help="Run 'itops sync' after each round [default: when this site joined a server].",
)
@click.option(
    "--env-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"When the database URL holds a password: write ITOPS_DB to FILE (mode 0600) for "
    f"the schedule to read (without it, the schedule reads {ENV_FILE}, which you create).",
)
@pass_app
@handle_errors()
def install(
    app: App,
    every: dt.timedelta,
    cadence: str,
    unit_dir: Path | None,
    reports_dir: Path,
    cron: bool,
    sync: bool | None,
    env_file: Path | None,
) -> None:
    """Write systemd service+timer units (or print cron lines); never calls systemctl itself.

    A database password never goes into a unit or cron line: ITOPS_DB then lives in an
    environment file readable by its owner only, which every run reads.
    """
    workdir = app.settings.data_dir.resolve()
    env: list[tuple[str, str]] = []
    db_url = app.settings.db_url
    secret_url = app.database(ready=False).has_password
    env_path = (env_file or ENV_FILE).absolute() if secret_url else None
    if env_path is None:
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
        environment_file=env_path,
        utc_offset=dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0),
        sync=app.joined() if sync is None else sync,
    )
    lines = cron_lines(spec) if cron else []
    units = {} if cron else systemd_units(spec)
    if env_path is not None:  # everything checked: now write (or explain) the environment file
        if env_file is not None:
            write_env_file(env_path, "ITOPS_DB", db_url)
            click.echo(
                f"# wrote ITOPS_DB to {env_path} (mode 0600: only its owner reads it)", err=True
            )
        else:
            click.echo(
                "# the database URL holds a password, so it is not in the schedule: put it in "
                f'{env_path} as ITOPS_DB="..." (mode 0600), or run again with --env-file '
                f"{env_path} to have it written",
                err=True,
            )
    if cron:
        click.echo("\n".join(lines))
        click.echo("# add these lines with: crontab -e", err=True)
        return
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
        return
    output_folder(unit_dir)
    for name, text in units.items():
        write_text(unit_dir / name, text)
        console.print(f"wrote {safe(unit_dir / name)}")
    console.print(f"next: systemctl daemon-reload && systemctl enable --now {safe(timers)}")


def write_env_file(path: Path, name: str, value: str) -> None:
    """Set ``name`` in the environment file ``path`` (mode 0600), keeping its other lines."""
    line = env_file_line(name, value)
    assign = re.compile(rf"\s*(?:export\s+)?{re.escape(name)}\s*=")
    try:
        old = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the environment file {path}: {exc}") from exc
    kept = [x for x in old if not assign.match(x)]
    write_text(path, "\n".join([*kept, line]) + "\n", perms=0o600, make_parents=True)
