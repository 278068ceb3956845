"""``itops inventory …``: list, show, summary, warranty, edits and history."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.table import Table

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, print_json, table
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.fields import DEVICE_COLUMNS, to_text
from kape_itops.domain.inventory import Change, Device, DeviceFilter
from kape_itops.domain.text import reveal
from kape_itops.domain.timespan import DurationTooLong, parse_duration
from kape_itops.errors import ConfigError, NotFoundError
from kape_itops.inventory.cells import to_cell
from kape_itops.inventory.service import Inventory


def _inv(app: App) -> Inventory:
    return Inventory(app.store(), app.actor)


def _days(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration(value if value[-1:].isalpha() else value + "d").days
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.now(dt.UTC) - parse_duration(value)
    except DurationTooLong as exc:
        raise click.BadParameter(str(exc)) from exc
    except ValueError:
        pass
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"'{value}' is neither a duration (7d) nor a date (YYYY-MM-DD)"
        ) from exc
    # a day before 1900 means "from the start"; as it is it would not fit a UTC datetime
    return dt.datetime.combine(max(day, dt.date(1900, 1, 1)), dt.time(), _zone(_ctx))


def _zone(ctx: click.Context) -> dt.tzinfo:
    """The display zone (ITOPS_TZ) from a click context, for option callbacks."""
    app = ctx.find_object(App)
    try:
        return app.settings.zone() if app else dt.UTC
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The shared device-selection options, handed to the command as one ``flt: DeviceFilter``."""

    @functools.wraps(fn)
    def inner(
        *args: Any,
        schools: tuple[str, ...],
        kinds: tuple[str, ...],
        statuses: tuple[str, ...],
        fundings: tuple[str, ...],
        search: str | None,
        **kwargs: Any,
    ) -> Any:
        return fn(*args, flt=make_filter(schools, kinds, statuses, fundings, search), **kwargs)

    options = [
        click.option("--school", "schools", multiple=True, help="School code (repeatable)."),
        click.option(
            "--kind", "kinds", multiple=True, type=click.Choice([k.value for k in DeviceKind])
        ),
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=click.Choice([s.value for s in DeviceStatus]),
        ),
        click.option("--funding", "fundings", multiple=True, help="Funding project (repeatable)."),
        click.option(
            "--search",
            help="Text in tag, model, manufacturer, serial, MAC, IP, host name or notes.",
        ),
    ]
    decorated: Callable[..., Any] = inner
    for opt in reversed(options):
        decorated = opt(decorated)
    return decorated


def make_filter(
    schools: tuple[str, ...],
    kinds: tuple[str, ...],
    statuses: tuple[str, ...],
    fundings: tuple[str, ...],
    search: str | None,
) -> DeviceFilter:
    """A DeviceFilter from CLI option values."""
    return DeviceFilter(
        schools=tuple(s.upper() for s in schools),
        kinds=tuple(DeviceKind(k) for k in kinds),
        statuses=tuple(DeviceStatus(s) for s in statuses),
        fundings=fundings,
        search=search,
    )


@click.group()
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
    devices = _inv(app).devices(flt)
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
    inv = _inv(app)
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
    inv = _inv(app)
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
    callback=_days,
    help="Window ahead, e.g. 90d, 12w.",
)
@filter_options
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def warranty(
    app: App,
    within: int,
    flt: DeviceFilter,
    as_json: bool,
) -> None:
    """Warranties that run out within the window, and those already expired."""
    rep = _inv(app).warranty(within, dt.datetime.now(app.settings.zone()).date(), flt)
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
    inv = _inv(app)
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
    inv = _inv(app)
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
    _print_changes(_inv(app).retire(tag, reason), as_json, app.settings.zone())


@inventory.command()
@click.argument("tag", required=False)
@click.option(
    "--since", callback=_since, help="A duration back (7d) or a local date (YYYY-MM-DD, ITOPS_TZ)."
)
@click.option("--limit", type=click.IntRange(1), help="Only the newest N entries.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def history(
    app: App, tag: str | None, since: dt.datetime | None, limit: int | None, as_json: bool
) -> None:
    """The change log (of one device when TAG is given)."""
    changes = _inv(app).history(tag, since, limit)
    if as_json:
        print_json(changes)
        return
    console.print(
        _change_table(f"{len(changes)} change(s)", changes, app.settings.zone(), key="key")
    )


from kape_itops.cli import inventory_io  # noqa: E402, F401  (registers import/export/labels)
