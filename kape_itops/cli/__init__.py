"""The ``itops`` command line: a thin layer over the Python API."""

from __future__ import annotations

from pathlib import Path

import click

from kape_itops import __version__
from kape_itops.cli.app import App, handle_errors, make_settings, pass_app
from kape_itops.cli.lazy import LazyGroup
from kape_itops.cli.render import console

COMMANDS = {
    "inventory": "kape_itops.cli.inventory:inventory",
    "probe": "kape_itops.cli.probe:probe",
    "discover": "kape_itops.cli.discover:discover",
    "doctor": "kape_itops.cli.doctor:doctor",
    "lab": "kape_itops.cli.lab:lab",
    "ssh": "kape_itops.cli.ssh:ssh",
    "quote": "kape_itops.cli.quote:quote",
    "spec": "kape_itops.cli.spec:spec",
    "report": "kape_itops.cli.report:report",
    "data": "kape_itops.cli.data:data",
    "db": "kape_itops.cli.db:db",
    "schedule": "kape_itops.cli.schedule:schedule",
    "server": "kape_itops.cli.server:server",
    "sync": "kape_itops.cli.sync:sync",
}
"""Each noun's command group, imported only when used."""


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="itops")
@click.option(
    "--db", metavar="URL", help="Database URL or SQLite file [env ITOPS_DB; default ./itops.db]."
)
@click.option(
    "--secrets",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Secrets file, mode 0600 [env ITOPS_SECRETS].",
)
@click.option(
    "--actor", help="Who is recorded in the change log [env ITOPS_ACTOR; default: OS user]."
)
@click.pass_context
def cli(ctx: click.Context, db: str | None, secrets: Path | None, actor: str | None) -> None:
    """kape-itops: school IT inventory, health probes, quotation scoring and reports."""
    app = App(make_settings(db, secrets, actor))
    ctx.obj = app
    ctx.call_on_close(app.close)


@cli.command()
@pass_app
@handle_errors()
def init(app: App) -> None:
    """Create or upgrade the database schema (safe to run again)."""
    database = app.database(ready=False)
    before, after = database.upgrade()
    where = database.where
    if before == after:
        console.print(f"database {where} is up to date (revision {after})")
    elif before is None:
        console.print(f"created database {where} (revision {after})")
    else:
        console.print(f"upgraded database {where} from {before} to {after}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="itops")
