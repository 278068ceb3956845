"""``itops lab link|join|on|env``: the lab's two tiers (server, collectors, bad links)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.lab.twotier import LinkRow, join, link_rows, run_on, set_link, site_env
from kape_itops.probes.addressmap import DEFAULT_STATE

_state_option = click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Lab state file [default: <ITOPS_DATA>/.itops-lab/state.json].",
)


def _state(app: App, state_path: Path | None) -> Path:
    return state_path or app.settings.data_dir / DEFAULT_STATE


def _describe(row: LinkRow) -> str:
    m = row.mode
    parts = [m.mode]
    if m.delay_ms:
        parts.append(f"delay {m.delay_ms:g} ms")
    if m.loss_pct:
        parts.append(f"loss {m.loss_pct:g} %")
    for name in ("reset_after", "stall_after", "truncate_after"):
        if (value := getattr(m, name)) is not None:
            parts.append(f"{name.replace('_', ' ')} {value} B")
    return ", ".join(parts)


def _row_json(row: LinkRow) -> dict[str, object]:
    return {
        "school": row.school,
        "url": row.url,
        **row.mode.to_json(),
        "applied": row.applied,
        "stats": row.stats,
    }


@click.command("link")
@click.argument("school", required=False)
@click.argument("action", required=False, type=click.Choice(["cut", "restore", "blackhole"]))
@click.option("--delay", "delay_ms", type=click.FloatRange(0, 600_000), help="One-way delay (ms).")
@click.option("--loss", "loss_pct", type=click.FloatRange(0, 100), help="Segment loss (%).")
@click.option(
    "--reset-after", type=click.IntRange(0), metavar="BYTES", help="RST after N bytes up."
)
@click.option("--stall-after", type=click.IntRange(0), metavar="BYTES", help="Stall after N down.")
@click.option(
    "--truncate-after", type=click.IntRange(0), metavar="BYTES", help="Close after N bytes down."
)
@_state_option
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def link(
    app: App,
    school: str | None,
    action: str | None,
    delay_ms: float | None,
    loss_pct: float | None,
    reset_after: int | None,
    stall_after: int | None,
    truncate_after: int | None,
    state_path: Path | None,
    as_json: bool,
) -> None:
    """List the schools' links, or cut, restore or degrade SCHOOL's link to the server.

    \b
    itops lab link                          every school: URL, mode, connections
    itops lab link KEP-DCP cut              new connections refused, open ones held
    itops lab link KEP-DCP blackhole        connections accepted, nothing passes
    itops lab link KEP-DCP restore          a clean link again
    itops lab link KEP-DCP --delay 300 --loss 2
    """
    path = _state(app, state_path)
    changes: dict[str, object] = {
        k: v
        for k, v in {
            "delay_ms": delay_ms,
            "loss_pct": loss_pct,
            "reset_after": reset_after,
            "stall_after": stall_after,
            "truncate_after": truncate_after,
        }.items()
        if v is not None
    }
    if school is None:
        if action or changes:
            raise click.UsageError("name the SCHOOL whose link to change")
        rows = link_rows(path)
        if as_json:
            print_json([_row_json(r) for r in rows])
            return
        rows_out = [
            [
                r.school,
                r.url,
                _describe(r) if r.applied else f"{_describe(r)} (not applied: proxy down?)",
                r.stats.get("accepted", "-"),
                r.stats.get("open", "-"),
            ]
            for r in rows
        ]
        grid = table(
            "lab links (collector → server)",
            ["school", "url", "link", "connections", "open"],
            rows_out,
            keys=["url"],
        )
        console.print(grid)
        return
    if action == "restore":
        row = set_link(path, school, restore=True, **changes)
    else:
        if action is not None:
            changes["mode"] = "cut" if action == "cut" else "blackhole"
        if not changes:
            rows = [r for r in link_rows(path) if r.school == school]
            if not rows:
                raise click.UsageError(f"'{school}' is not a lab school")
            row = rows[0]
        else:
            row = set_link(path, school, **changes)
    if as_json:
        print_json(_row_json(row))
    else:
        console.print(f"{safe(row.school)} link: {safe(_describe(row))} ({safe(row.url)})")


@click.command("join")
@click.argument("schools", nargs=-1)
@_state_option
@click.option("--json", "as_json", is_flag=True, help="{school: exit code of its join} on stdout.")
@pass_app
@handle_errors()
def join_cmd(app: App, schools: tuple[str, ...], state_path: Path | None, as_json: bool) -> None:
    """Enrol SCHOOLS (default: all) on the lab server; each collector joins through its link."""
    said: list[str] = []
    results = join(_state(app, state_path), schools, echo=said.append)
    failed = sorted(code for code, rc in results.items() if rc != 0)
    if as_json:
        print_json(results)
    else:
        for line in said:
            console.print(safe(line))
        console.print(f"{len(results) - len(failed)} of {len(results)} collectors joined")
    if failed:
        if not as_json:
            console.print(f"failed: {safe(', '.join(failed))}")
        sys.exit(1)


@click.command(
    "on",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("site")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@_state_option
@pass_app
@handle_errors()
def on(app: App, site: str, args: tuple[str, ...], state_path: Path | None) -> None:
    """Run itops ARGS as SITE: a school's collector (its code) or the lab 'server'.

    \b
    itops lab on KEP-DCP probe run --lab     a round on that school's collector
    itops lab on KEP-DCP sync                its sync through its link (exit code kept)
    itops lab on server report health        the central report
    """
    if not args:
        raise click.UsageError(
            "give the itops command to run, e.g. 'itops lab on server report health'"
        )
    sys.exit(run_on(_state(app, state_path), site, args))


@click.command("env")
@click.argument("site")
@_state_option
@click.option("--json", "as_json", is_flag=True, help="The variables as a JSON object.")
@pass_app
@handle_errors()
def env(app: App, site: str, state_path: Path | None, as_json: bool) -> None:
    """Shell lines that make itops act as SITE (a school code or 'server'): eval them."""
    found = site_env(_state(app, state_path), site)
    if as_json:
        print_json(found)
        return
    for name, value in found.items():
        click.echo(f"export {name}={shlex.quote(value)}")


COMMANDS = [link, join_cmd, on, env]
"""Added to the ``itops lab`` group."""
