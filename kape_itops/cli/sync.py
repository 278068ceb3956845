"""``itops sync``: push this site's records to the server, pull its school's inventory.

Exit codes: 0 synced; 3 the server could not be reached or the link broke (safe to retry: a
schedule may treat it as "offline"); 1 the server refused (revoked, another school's data,
a bad batch) or a bundle was refused; 2 bad arguments or settings (not joined, no secrets).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, err_console, print_json, safe, table
from kape_itops.domain.sync import STREAMS, Conflict
from kape_itops.errors import LinkError, SecretsError, UsageError
from kape_itops.sync.http import READ_TIMEOUT_S, HttpTransport
from kape_itops.sync.outbox import BATCH_RESULTS

EXIT_LINK = 3
"""``itops sync`` could not reach the server, or lost it midway (nothing acked is lost)."""
LINK_EXITS: dict[type[BaseException], int] = {LinkError: EXIT_LINK}


class Shown:
    """A transport that moves a progress bar by the records each ack covers."""

    def __init__(self, inner: HttpTransport, progress: Progress | None, task: Any) -> None:
        self.inner = inner
        self.progress = progress
        self.task = task

    def join(self, token: str, public_key: str, name: str, version: str) -> dict[str, Any]:
        return self.inner.join(token, public_key, name, version)

    def hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.inner.hello(payload)

    def push(self, batch: bytes) -> dict[str, Any]:
        ack = self.inner.push(batch)
        if self.progress is not None:
            n = sum(
                ack.get(k, 0) for k in ("committed", "duplicates") if isinstance(ack.get(k), int)
            )
            self.progress.update(self.task, advance=n, description=str(ack.get("stream", "")))
        return ack

    def pull(self) -> dict[str, Any]:
        if self.progress is not None:
            self.progress.update(self.task, description="inventory")
        return self.inner.pull()


def site_transport(app: App, timeout: float | None = None) -> HttpTransport:
    """The HTTP transport of this joined site (URL, credential and pinned certificate from
    the secrets file's ``[server.sync]``)."""
    from kape_itops.secrets import read_sync_section

    path = app.settings.secrets_path
    if path is None:
        raise UsageError(
            "syncing needs the secrets file holding [server.sync]: --secrets or ITOPS_SECRETS"
        )
    section = read_sync_section(path)
    if section is None:
        raise SecretsError(f"{path} has no [server.sync] section: run 'itops sync join URL TOKEN'")
    cafile = Path(section.cafile) if section.cafile else None
    return HttpTransport(
        section.url, section.credential.reveal(), cafile=cafile, timeout=timeout or READ_TIMEOUT_S
    )


def _run_options(fn: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option("-q", "--quiet", is_flag=True, help="No progress bar; the summary only."),
            click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout."),
            click.option(
                "--timeout",
                type=click.FloatRange(1, 3600),
                envvar="ITOPS_SYNC_TIMEOUT",
                help=f"Seconds to wait for each answer [env ITOPS_SYNC_TIMEOUT; default "
                f"{READ_TIMEOUT_S:g}].",
            ),
            click.option(
                "--batch",
                type=click.IntRange(1, 1_000_000),
                envvar="ITOPS_SYNC_BATCH",
                help=f"Probe results per batch [env ITOPS_SYNC_BATCH; default {BATCH_RESULTS}].",
            ),
        ]
    ):
        fn = option(fn)
    return fn


@click.group(invoke_without_command=True)
@_run_options
@click.pass_context
def sync(
    ctx: click.Context, quiet: bool, as_json: bool, timeout: float | None, batch: int | None
) -> None:
    """Sync with the server: push what it has not acknowledged, pull the school's inventory.

    Exit 0 synced, 3 server unreachable or link lost (retry later), 1 refused by the server,
    2 not joined or bad settings.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run, quiet=quiet, as_json=as_json, timeout=timeout, batch=batch)


@sync.command("run", hidden=True)
@_run_options
@pass_app
@handle_errors(LINK_EXITS)
def run(app: App, quiet: bool, as_json: bool, timeout: float | None, batch: int | None) -> None:
    """Push, then pull (what plain ``itops sync`` does)."""
    site = app.sync_site()
    before = site.status()
    if not before.joined:
        raise UsageError("this site has not joined a server: itops sync join URL TOKEN")
    progress = None
    if not quiet and not as_json and err_console.is_terminal:
        progress = Progress(
            TextColumn("syncing {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        )
    with site_transport(app, timeout) as http:
        task = None
        if progress is not None:
            progress.start()
            task = progress.add_task("hello", total=max(1, sum(before.backlog.values())))
        try:
            report = site.sync(Shown(http, progress, task), batch or BATCH_RESULTS)
        finally:
            if progress is not None:
                progress.stop()
    push = report.push
    if as_json:
        print_json(
            {
                "pushed": {s: push.committed.get(s, 0) for s in STREAMS},
                "duplicates": {s: push.duplicates.get(s, 0) for s in STREAMS},
                "batches": push.batches,
                "conflicts": len(push.conflicts),
                "backlog": push.backlog,
                "pull": report.pull,
                "clock_offset_s": report.clock_offset_s,
                "error": report.error,
            }
        )
    else:
        sent = ", ".join(
            f"{s} {push.committed.get(s, 0)}"
            + (f" (+{push.duplicates[s]} already there)" if push.duplicates.get(s) else "")
            for s in STREAMS
        )
        console.print(f"pushed {sent} in {push.batches} batch(es)")
        if push.conflicts:
            console.print(
                f"[yellow]{len(push.conflicts)} inventory conflict(s)[/]: itops sync conflicts"
            )
        if report.pull is not None:
            p = report.pull
            console.print(
                f"pulled {p.devices} device(s): {p.created} new, {p.updated} updated, "
                f"{p.kept_local} field(s) kept local (not yet acknowledged)"
            )
            for why in p.skipped[:10]:
                console.print(f"  skipped {safe(why)}")
        offset = report.clock_offset_s
        if offset is not None and abs(offset) > 60:
            console.print(f"[red]this clock is {offset:+.0f} s off the server's[/]: fix its time")
    if report.error is not None:
        click.echo(
            f"error: {report.error}; {push.backlog} record(s) still to send (run again when "
            "the link is back: nothing acknowledged is sent twice)",
            err=True,
        )
        sys.exit(EXIT_LINK)


@sync.command("join")
@click.argument("url")
@click.argument("token")
@click.option(
    "--cafile",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Trust only this certificate (PEM) for the server: a pinned, e.g. self-signed, one.",
)
@click.option("--name", help="What the server calls this site [default: host name].")
@click.option("--force", is_flag=True, help="Join again (a new site identity).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors(LINK_EXITS)
def join(
    app: App,
    url: str,
    token: str,
    cafile: Path | None,
    name: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Join the server at URL with a one-time TOKEN from 'itops server enroll'."""
    pinned = cafile.resolve() if cafile else None
    with HttpTransport(url, None, cafile=pinned) as http:
        grant = app.sync_site().join(
            http.url, token, http, cafile=str(pinned) if pinned else None, name=name, force=force
        )
    if as_json:  # never the credential: it is in the secrets file only
        print_json({"url": http.url, "site": grant.site_uid, "school": grant.school})
        return
    console.print(
        f"joined {safe(http.url)} as site {safe(grant.site_uid)} of school {safe(grant.school)}; "
        f"its credential is in {safe(app.settings.secrets_path)} (mode 0600)"
    )
    console.print("next: itops sync (and itops schedule install to sync after every round)")


@sync.command("export")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Bundle file."
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def export(app: App, out: Path, as_json: bool) -> None:
    """Write everything not yet acknowledged to a signed bundle (for 'itops sync import')."""
    done = app.sync_site().export(out)
    if as_json:
        print_json(done)
        return
    held = ", ".join(f"{s} {done.records.get(s, 0)}" for s in STREAMS)
    console.print(
        f"wrote {safe(done.path)}: {held} ({done.batches} batch(es), {done.bytes:,} bytes)"
    )
    console.print("carry it to the server and run there: itops sync import FILE")


@sync.command("import")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def import_(app: App, bundle: Path, as_json: bool) -> None:
    """On the server: apply a site's signed bundle (safe to import twice)."""
    got = app.sync_server().import_bundle(bundle)
    if as_json:
        print_json(got)
        return
    added = ", ".join(f"{s} {got.committed.get(s, 0)}" for s in STREAMS)
    dup = sum(got.duplicates.values())
    console.print(
        f"imported {safe(bundle)} from site {safe(got.site)} ({safe(got.school)}): {added}"
        + (f"; {dup} already here" if dup else "")
    )
    if got.conflicts:
        console.print(
            f"[yellow]{len(got.conflicts)} inventory conflict(s)[/]: itops sync conflicts"
        )


@sync.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def status(app: App, as_json: bool) -> None:
    """This site: its server, school, last sync and what it still has to send."""
    got = app.sync_site().status()
    if as_json:
        print_json(got)
        return
    if not got.joined:
        console.print("not joined to a server: itops sync join URL TOKEN")
        return
    zone = app.settings.zone()
    console.print(f"site {safe(got.site)} of school {safe(got.school)} at {safe(got.url)}")
    last = (
        got.last_sync_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        if got.last_sync_at
        else "never"
    )
    console.print(
        f"last sync: {last}" + (f"; last error: {safe(got.last_error)}" if got.last_error else "")
    )
    rows = [[s, got.cursors.get(s, 0), got.backlog.get(s, 0)] for s in STREAMS]
    console.print(table(None, ["stream", "acknowledged up to", "to send"], rows))
    if got.conflicts:
        console.print(f"{got.conflicts} open conflict(s): itops sync conflicts")


def _conflict_rows(found: list[Conflict]) -> list[list[object]]:
    return [
        [
            c.id,
            c.entity,
            c.key,
            c.field,
            c.kept,
            c.kept_at,
            c.kept_by,
            c.other,
            c.other_at,
            c.other_by,
            c.resolved_at or "",
        ]
        for c in found
    ]


@sync.command("conflicts")
@click.option("--all", "include_resolved", is_flag=True, help="Resolved ones too.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def conflicts(app: App, include_resolved: bool, as_json: bool) -> None:
    """Inventory fields edited in two places: the later edit was kept, the other is shown."""
    if app.joined():
        found = app.sync_site().conflicts(include_resolved)
    else:
        found = app.sync_server().conflicts(include_resolved=include_resolved)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no open conflicts" if not include_resolved else "no conflicts")
        return
    headers = [
        "id",
        "entity",
        "key",
        "field",
        "kept",
        "kept at",
        "kept by",
        "other",
        "other at",
        "other by",
        "resolved",
    ]
    console.print(
        table(
            "conflicts",
            headers,
            _conflict_rows(found),
            tz=app.settings.zone(),
            optional=["resolved", "kept by", "other by"],
        )
    )
    console.print(
        "check each one, edit the inventory if the other value was right, then: "
        "itops sync resolve ID"
    )


@sync.command("resolve")
@click.argument("conflict_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def resolve(app: App, conflict_id: int, as_json: bool) -> None:
    """Mark conflict ID as looked at (it leaves the open list)."""
    if app.joined():
        done = app.sync_site().resolve(conflict_id)
    else:
        done = app.sync_server().resolve(conflict_id, app.actor)
    if as_json:
        print_json(done)
        return
    console.print(
        f"conflict {done.id} ({safe(done.key)} {safe(done.field)}) resolved by {safe(done.resolved_by)}"
    )
