"""``itops discover --onvif``: WS-Discovery of ONVIF devices on one interface, diffed with the inventory.

The lead wires :data:`discover_onvif` (a click command) or :func:`run_discover_onvif` into
``itops discover``. Exit codes: 0 everything found is known and nothing is missing, 1 unknown
devices answered or inventory cameras are missing, 2 usage errors.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, err_console, print_json, safe, table
from kape_itops.discovery.diff import DiscoveryDiff
from kape_itops.discovery.service import onvif_interface
from kape_itops.discovery.wsd_messages import WSD_GROUP, WSD_PORT, Discovered
from kape_itops.errors import UsageError

__all__ = ["discover_onvif", "run_discover_onvif"]


def _found_json(item: Discovered) -> dict[str, Any]:
    return {
        "address": item.address,
        "source": item.source,
        "endpoint": item.endpoint,
        "xaddrs": list(item.xaddrs),
        "name": item.scope("name"),
        "hardware": item.scope("hardware"),
        "location": item.scope("location"),
    }


def diff_json(interface: str, found: list[Discovered], diff: DiscoveryDiff) -> dict[str, Any]:
    """The discovery and its comparison as plain JSON."""
    return {
        "interface": interface,
        "found": [_found_json(f) for f in found],
        "known": [{"asset_tag": d.asset_tag, **_found_json(f)} for d, f in diff.known],
        "unknown": [_found_json(f) for f in diff.unknown],
        "missing": [
            {"asset_tag": d.asset_tag, "school": d.school, "kind": d.kind.value, "ip": d.ip}
            for d in diff.missing
        ],
        "not_cameras": [
            {"asset_tag": d.asset_tag, "kind": d.kind.value, **_found_json(f)}
            for d, f in diff.not_cameras
        ],
    }


def _render(interface: str, found: list[Discovered], diff: DiscoveryDiff) -> None:
    console.print(f"WS-Discovery on {safe(interface)}: {len(found)} ONVIF device(s) answered")
    rows: list[tuple[object, ...]] = [
        ("known", d.asset_tag, f.address, f.scope("name"), f.scope("hardware"))
        for d, f in diff.known
    ]
    rows += [("UNKNOWN", "", f.address, f.scope("name"), f.scope("hardware")) for f in diff.unknown]
    rows += [
        (
            f"not a camera ({d.kind.value})",
            d.asset_tag,
            f.address,
            f.scope("name"),
            f.scope("hardware"),
        )
        for d, f in diff.not_cameras
    ]
    rows += [("MISSING", d.asset_tag, d.ip, d.manufacturer, d.model) for d in diff.missing]
    if rows:
        console.print(
            table("ONVIF devices", ("state", "asset tag", "address", "name", "hardware"), rows)
        )


def run_discover_onvif(
    app: App,
    interface: str | None,
    timeout: float,
    schools: tuple[str, ...] = (),
    as_json: bool = False,
    directed: str | None = None,
    record: bool = True,
) -> int:
    """Discover, compare with the inventory's cameras/NVRs, store, render; returns the exit code.

    With ``record`` the sweep is stored per school (see
    :func:`~kape_itops.discovery.record.onvif_records`) for the health report.
    """
    iface = onvif_interface(interface)
    if interface is None:
        err_console.print(f"note: probing on {safe(iface)} (the default route's interface)")
    dest = (WSD_GROUP, WSD_PORT)
    if directed:
        host, _, port = directed.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--to expects IPV4:PORT, not {directed!r}")
        dest = (host, int(port))
    swept = app.discovery().onvif(iface, timeout, schools, dest, record)
    found, diff, recorded, notes = swept.found, swept.diff, swept.sweep_ids, swept.notes
    if as_json:
        print_json({**diff_json(iface, found, diff), "sweep_ids": recorded, "notes": notes})
    else:
        for note in notes:
            err_console.print(f"note: {safe(note)}")
        _render(iface, found, diff)
        if recorded:
            console.print(
                f"stored as discovery sweep(s) {', '.join(map(str, recorded))} "
                "(listed by itops report health)"
            )
    return 1 if diff.unknown or diff.missing or diff.not_cameras else 0


@click.command("discover-onvif")
@click.option(
    "--interface", "-i", help="Network interface to probe on [default: the default route's]."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60.0),
    default=3.0,
    show_default=True,
    help="Seconds to collect answers.",
)
@click.option(
    "--school", "schools", multiple=True, help="Compare with these schools only (repeatable)."
)
@click.option(
    "--to",
    "directed",
    metavar="IPV4:PORT",
    help="Send a directed probe to one device instead of the multicast group.",
)
@click.option("--no-record", is_flag=True, help="Do not store the sweep for the health report.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
@handle_errors()
def discover_onvif(
    app: App,
    interface: str | None,
    timeout: float,
    schools: tuple[str, ...],
    directed: str | None,
    no_record: bool,
    as_json: bool,
) -> None:
    """Find ONVIF cameras by WS-Discovery on ONE interface and diff them with the inventory."""
    sys.exit(
        run_discover_onvif(
            app, interface, timeout, schools, as_json, directed, record=not no_record
        )
    )
