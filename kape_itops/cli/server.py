"""``itops server``: run the central API, enrol and revoke school sites, show their status."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.text import Text

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.options import duration
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.cli.users import user

DEFAULT_PORT = 8080
URL_ENV = "ITOPS_SERVER_URL"
"""The URL sites reach this server at, printed in the ``sync join`` line of ``enroll``."""


def _serve_options(fn: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option(
                "--host",
                default="127.0.0.1",
                show_default=True,
                help="Address to listen on (0.0.0.0: every interface).",
            ),
            click.option(
                "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535)
            ),
            click.option(
                "--cert",
                type=click.Path(path_type=Path, dir_okay=False, exists=True),
                help="TLS certificate (PEM); without it, serve plain HTTP behind a TLS proxy.",
            ),
            click.option(
                "--key",
                type=click.Path(path_type=Path, dir_okay=False, exists=True),
                help="TLS private key (PEM) of --cert.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


@click.group(invoke_without_command=True)
@_serve_options
@click.pass_context
def server(ctx: click.Context, host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """The central server: HTTP API for school sites ('itops server' alone serves)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve, host=host, port=port, cert=cert, key=key)


@server.command("serve")
@_serve_options
@pass_app
@handle_errors()
def serve(app: App, host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """Serve the API until stopped (SIGTERM/Ctrl-C finish running requests first)."""
    from kape_itops.server.run import ServeOptions, check_tls
    from kape_itops.server.run import serve as run

    options = ServeOptions(host=host, port=port, cert=cert, key=key)
    check_tls(options)
    app.database()  # schema made (SQLite) or checked (PostgreSQL) before listening
    app.close()
    run(app.settings.db_url, options, secrets_path=app.settings.secrets_path)


server.add_command(
    click.Command("run", callback=serve.callback, params=serve.params, help=serve.help, hidden=True)
)
server.add_command(user)


@server.command("enroll")
@click.argument("school")
@click.option(
    "--ttl",
    default="7d",
    show_default=True,
    callback=duration(positive=True),
    help="How long the token can be used.",
)
@click.option(
    "--url",
    envvar=URL_ENV,
    help=f"The URL sites reach this server at [env {URL_ENV}], for the printed join line.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def enroll(app: App, school: str, ttl: dt.timedelta, url: str | None, as_json: bool) -> None:
    """Print a one-time token a SCHOOL's collector or laptop joins with."""
    token, expires = app.sync_server().enroll(school, ttl, app.actor)
    where = url.rstrip("/") if url else "https://SERVER:8080"
    if as_json:
        join = f"itops sync join {where} {token}" if url else None
        print_json({"school": school, "token": token, "expires_at": expires, "join": join})
        return
    local = expires.astimezone(app.settings.zone()).strftime("%Y-%m-%d %H:%M %Z")
    click.echo(f"one-time token for {school} (valid until {local}):")
    click.echo(token)
    click.echo("on the school's collector or laptop, run:")
    click.echo(f"  itops sync join {where} {token}")
    if not url:
        click.echo(
            f"(replace https://SERVER:8080 with this server's URL, or set {URL_ENV})", err=True
        )


@server.command("revoke")
@click.argument("school")
@click.option(
    "--site", "site_uid", metavar="UID", help="Only this site (default: every site of SCHOOL)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def revoke(app: App, school: str, site_uid: str | None, as_json: bool) -> None:
    """Refuse a school's sites from now on (their credentials and bundles)."""
    sites = app.sync_server().revoke(school, site_uid, app.actor)
    if as_json:
        print_json([{"school": school, "site": s.uid, "name": s.name} for s in sites])
        return
    for site in sites:
        click.echo(f"revoked site {site.uid} ({safe(site.name)}) of {school}")
    if not sites:
        click.echo(f"{school} has no site left to revoke")


@server.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def status(app: App, as_json: bool) -> None:
    """Each site's last sync, backlog, clock offset and version."""
    lines = app.sync_server().status()
    if as_json:
        print_json(
            [
                {
                    "school": s.site.school,
                    "site": s.site.uid,
                    "name": s.site.name,
                    "last_sync_at": s.site.last_sync_at,
                    "silent_for_s": s.silent_for.total_seconds() if s.silent_for else None,
                    "backlog": s.site.backlog,
                    "clock_offset_s": s.site.clock_offset_s,
                    "clock_off": s.site.clock_off,
                    "version": s.site.version,
                    "revoked_at": s.site.revoked_at,
                    "records": s.records,
                }
                for s in lines
            ]
        )
        return
    if not lines:
        console.print("no site has joined yet: enrol one with 'itops server enroll SCHOOL'")
        return
    rows = []
    for s in lines:
        offset = s.site.clock_offset_s
        text = "-" if offset is None else f"{offset + 0.0:+.1f} s".replace("-0.0", "0.0")
        shown = Text(f"{text} !", style="bold red") if s.site.clock_off else Text(text)
        rows.append(
            [
                s.site.school,
                s.site.uid[:8],  # like a short commit id; --json has the whole uid
                s.site.name,
                s.site.last_sync_at,
                "-" if s.site.backlog is None else s.site.backlog,
                shown,
                s.site.version or "-",
                s.site.revoked_at or "",
                ", ".join(f"{k} {v}" for k, v in s.records.items()),
            ]
        )
    headers = [
        "school",
        "site",
        "name",
        "last sync",
        "backlog",
        "clock",
        "version",
        "revoked",
        "held",
    ]
    console.print(
        table(
            "sites",
            headers,
            rows,
            tz=app.settings.zone(),
            keys=("site",),
            optional=["held", "name", "revoked"],
        )
    )
