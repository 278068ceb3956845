"""``itops inventory …``: list, show, summary, warranty, edits and history."""

from __future__ import annotations

import csv
import datetime as dt
import sys

import click
from rich.table import Table

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.lazy import LazyGroup
from kape_itops.cli.options import duration, filter_options, since
from kape_itops.cli.render import console, print_json, table
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.fields import DEVICE_COLUMNS, to_text
from kape_itops.domain.inventory import Change, Device, DeviceFilter
from kape_itops.domain.text import reveal
from kape_itops.errors import NotFoundError
from kape_itops.inventory.cells import to_cell
from kape_itops.inventory.service import Inventory

FILES = {
    "import": "kape_itops.cli.inventory_io:import_cmd",
    "export": "kape_itops.cli.inventory_io:export_cmd",
    "labels": "kape_itops.cli.inventory_io:labels_cmd",
}
"""The commands that read or write files, in their own module."""


@click.group(cls=LazyGroup, lazy=FILES)
def inventory() -> None:
    """Schools and devices: list, show, edit, history, import and export."""


@inventory.command("list")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout (the import format).")
@pass_app
@handle_errors()
def list_cmd(
    app: App,
    flt: DeviceFilter,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List devices as a table (or JSON/CSV for scripts)."""
    devices = app.inventory().devices(flt)
    if as_json:
        print_json(devices)
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(DEVICE_COLUMNS)
        for d in devices:
            writer.writerow([to_cell(reveal(to_text(getattr(d, c)))) for c in DEVICE_COLUMNS])
        return
    console.print(
        table(
            f"{len(devices)} device(s)",
            ["tag", "school", "room", "kind", "model", "ip", "status", "funding", "warranty"],
            (
                [
                    d.asset_tag,
                    d.school,
                    d.room,
                    d.kind,
                    " ".join(filter(None, [d.manufacturer, d.model])),
                    d.ip,
                    d.status,
                    d.funding,
                    d.warranty_until,
                ]
                for d in devices
            ),
            optional=("funding", "room", "warranty"),
        )
    )


def _change_table(
    title: str | None, changes: list[Change], tz: dt.tzinfo, key: str = "tag"
) -> Table:
    """The change log as a table, times in ``tz`` (on a narrow terminal source and actor go)."""
    columns = ["when", "actor", key, "action", "field", "old", "new", "source"]
    rows = _change_rows(changes)
    return table(title, columns, rows, tz=tz, seconds=True, optional=("source", "actor"))


def _change_rows(changes: list[Change]) -> list[list[object]]:
    return [
        [
            c.at,
            c.actor,
            c.key,
            c.action,
            c.field or "",
            c.old or "",
            c.new or "",
            c.source,
        ]
        for c in changes
    ]


@inventory.command()
@click.argument("tag", metavar="TAG|IP|MAC|SERIAL|HOST")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def show(app: App, tag: str, as_json: bool) -> None:
    """All fields of one device and its change history.

    The device is found by asset tag (any case), IP, MAC (any notation), serial or host name;
    when several match, they are listed and the exit code is 1.
    """
    inv = app.inventory()
    found = inv.find(tag)
    if not found:
        raise NotFoundError(f"no device with asset tag, IP, MAC, serial or host name '{tag}'")
    if len(found) > 1:
        _print_matches(tag, found, as_json)
        sys.exit(1)
    device = found[0]
    history = inv.history(device.asset_tag)
    if as_json:
        print_json({"device": device, "history": history})
        return
    console.print(
        table(
            f"device {device.asset_tag}",
            ["field", "value"],
            ([c, to_text(getattr(device, c))] for c in DEVICE_COLUMNS),
        )
    )
    console.print(_change_table("history", history, app.settings.zone()))


def _print_matches(key: str, devices: list[Device], as_json: bool) -> None:
    if as_json:
        print_json({"matches": devices})
    else:
        cols = ["tag", "school", "kind", "ip", "mac", "serial", "hostname", "status"]
        rows = ([getattr(d, c if c != "tag" else "asset_tag") for c in cols] for d in devices)
        console.print(table(f"{len(devices)} devices match '{key}'", cols, rows))
    click.echo(f"error: {len(devices)} devices match '{key}'; show one by its asset tag", err=True)


@inventory.command()
@filter_options
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def summary(
    app: App,
    flt: DeviceFilter,
    as_json: bool,
) -> None:
    """Devices per school × kind and per funding project: the whole programme on one screen."""
    inv = app.inventory()
    s = inv.summary(flt)
    if as_json:
        print_json(s)
        return
    names = {sc.code: sc.name for sc in inv.schools()}
    kinds_used = [
        k.value for k in DeviceKind if any(k.value in row for row in s.by_school_kind.values())
    ]
    wide = console.width >= 150
    rows: list[list[object]] = []
    for code in sorted(s.by_school_kind):
        counts = s.by_school_kind[code]
        named = [code, names.get(code, "")] if wide else [code]
        rows.append([*named, *(counts.get(k, "") for k in kinds_used), sum(counts.values())])
    totals = [sum(r.get(k, 0) for r in s.by_school_kind.values()) for k in kinds_used]
    rows.append([*(["TOTAL", ""] if wide else ["TOTAL"]), *totals, s.total])
    header = ["school", "name"] if wide else ["school"]
    console.print(table("devices per school and kind", [*header, *kinds_used, "total"], rows))
    funding_rows = sorted(s.by_funding.items(), key=lambda kv: (-kv[1], kv[0]))
    console.print(
        table(
            "per funding project",
            ["funding", "devices"],
            funding_rows,
        )
    )
    console.print(table("per status", ["status", "devices"], sorted(s.by_status.items())))


@inventory.command()
@click.option(
    "--within",
    default="90d",
    show_default=True,
    callback=duration(bare_unit="d"),
    help="Window ahead, e.g. 90d, 12w.",
)
@filter_options
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def warranty(
    app: App,
    within: dt.timedelta,
    flt: DeviceFilter,
    as_json: bool,
) -> None:
    """Warranties that run out within the window, and those already expired."""
    rep = app.inventory().warranty(within.days, dt.datetime.now(app.settings.zone()).date(), flt)
    if as_json:
        print_json(rep)
        return

    def rows(devs: list[Device]) -> list[list[object]]:
        return [
            [
                d.asset_tag,
                d.school,
                d.kind,
                d.model,
                d.warranty_until,
                (d.warranty_until - rep.today).days if d.warranty_until else "",
            ]
            for d in devs
        ]

    cols = ["tag", "school", "kind", "model", "warranty until", "days left"]
    console.print(
        table(
            f"expiring within {rep.within_days} days ({len(rep.expiring)})",
            cols,
            rows(rep.expiring),
        )
    )
    console.print(table(f"already expired ({len(rep.expired)})", cols, rows(rep.expired)))


def _print_changes(changes: list[Change], as_json: bool, tz: dt.tzinfo) -> None:
    if as_json:
        print_json(changes)
    elif changes:
        console.print(_change_table(None, changes, tz))
    else:
        console.print("no change: the values were already set")


@inventory.command("set")
@click.argument("tag")
@click.argument("assignments", nargs=-1, required=True, metavar="FIELD=VALUE…")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def set_cmd(app: App, tag: str, assignments: tuple[str, ...], as_json: bool) -> None:
    """Change fields of a device (a value of '-' clears the field)."""
    pairs: dict[str, str] = {}
    for a in assignments:
        if "=" not in a:
            raise click.UsageError(f"'{a}' is not FIELD=VALUE")
        k, v = a.split("=", 1)
        pairs[k] = v
    inv = app.inventory()
    _print_changes(inv.set(tag, pairs), as_json, app.settings.zone())
    named = {k.strip().lower(): v.strip() for k, v in pairs.items()}
    if "school" in named or "ip" in named:
        _warn_subnet(inv, named.get("new_asset_tag") or tag)


@inventory.command()
@click.argument("tag")
@click.option("--school", help="New school code.")
@click.option("--room", help="New room (empty string: no room).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def move(app: App, tag: str, school: str | None, room: str | None, as_json: bool) -> None:
    """Move a device to another school and/or room (warns when its IP is outside the school's)."""
    inv = app.inventory()
    _print_changes(inv.move(tag, school, room), as_json, app.settings.zone())
    if school is not None:
        _warn_subnet(inv, tag)


def _warn_subnet(inv: Inventory, tag: str) -> None:
    warning = inv.subnet_warning(tag)
    if warning:
        click.echo(f"warning: {warning}", err=True)


@inventory.command()
@click.argument("tag")
@click.option("--reason", required=True, help="Why (kept in the notes and the change log).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def retire(app: App, tag: str, reason: str, as_json: bool) -> None:
    """Mark a device retired."""
    _print_changes(app.inventory().retire(tag, reason), as_json, app.settings.zone())


@inventory.command()
@click.argument("tag", required=False)
@click.option(
    "--since", callback=since, help="A duration back (7d) or a local date (YYYY-MM-DD, ITOPS_TZ)."
)
@click.option("--limit", type=click.IntRange(1), help="Only the newest N entries.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def history(
    app: App, tag: str | None, since: dt.datetime | None, limit: int | None, as_json: bool
) -> None:
    """The change log (of one device when TAG is given)."""
    changes = app.inventory().history(tag, since, limit)
    if as_json:
        print_json(changes)
        return
    console.print(
        _change_table(f"{len(changes)} change(s)", changes, app.settings.zone(), key="key")
    )
