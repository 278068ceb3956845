"""``itops db …``: retention (roll up and prune raw results) and storage statistics."""

from __future__ import annotations

import datetime as dt

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.options import duration
from kape_itops.cli.render import console, print_json, table
from kape_itops.reports import fmt


@click.group()
def db() -> None:
    """Database maintenance: prune old raw results, show sizes."""


@db.command("prune")
@click.option(
    "--keep",
    callback=duration(bare_unit="d"),
    help="Keep raw results this long (default ITOPS_RETENTION_DAYS or 30d).",
)
@click.option(
    "--vacuum", is_flag=True, help="Then give the freed space back to the disk (slow on big files)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def prune(app: App, keep: dt.timedelta | None, vacuum: bool, as_json: bool) -> None:
    """Roll raw results up into hourly/daily aggregates, then delete raw results older than --keep."""
    database = app.database()
    stats = database.prune(keep)
    if vacuum:
        database.vacuum()
    if as_json:
        print_json(stats)
        return
    click.echo(
        f"rolled up {stats.rollup.results_read} result(s) into {stats.rollup.hourly_written} "
        f"hourly and {stats.rollup.daily_written} daily bucket(s); deleted "
        f"{stats.results_deleted} raw result(s), {stats.runs_deleted} run(s) "
        f"and {stats.sweeps_deleted} discovery sweep(s) older than "
        f"{fmt.when(stats.cutoff, app.settings.zone())}"
    )


@db.command("stats")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def stats(app: App, as_json: bool) -> None:
    """Row counts, time ranges and size of the database."""
    got = app.database().stats()
    if as_json:
        print_json(got)
        return
    rows = []
    zone = app.settings.zone()
    for k, v in got.items():
        if isinstance(v, dt.datetime):
            v = fmt.when(v, zone)
        elif k == "size_bytes":
            v = f"{v / 1e6:.1f} MB"
        rows.append([k, v])
    console.print(table("database", ["what", "value"], rows))
