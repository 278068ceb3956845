"""``itops discover``: sweep a school's network and reconcile it with the inventory."""

from __future__ import annotations

import sys

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.discover_onvif import run_discover_onvif
from kape_itops.cli.render import console, err_console, print_json, safe, table
from kape_itops.discovery.diff import DiscoveryReport
from kape_itops.errors import UsageError


def _render(report: DiscoveryReport, accepted: int | None) -> None:
    r = report.result
    console.print(
        f"{safe(report.school)}: swept {safe(' '.join(report.subnets))} by {report.method} in "
        f"{report.duration_s:.1f} s: {len(report.observed)} host(s) seen, {len(r.matched)} matched"
    )
    if r.unknown:
        console.print(
            table(
                "on the network, not in the inventory",
                ["ip", "mac", "vendor"],
                [[u.ip, u.mac or "-", u.vendor or "unknown"] for u in r.unknown],
            )
        )
    if r.missing:
        console.print(
            table(
                "in the inventory, not seen",
                ["asset tag", "kind", "ip", "mac"],
                [[d.asset_tag, d.kind.value, d.ip, d.mac or "-"] for d in r.missing],
            )
        )
    if r.changes:
        console.print(
            table(
                "changed",
                ["asset tag", "field", "inventory", "observed"],
                [[c.asset_tag, c.field, c.old or "-", c.new] for c in r.changes],
            )
        )
    if r.clean:
        console.print("the network matches the inventory")
    elif accepted is not None:
        console.print(f"recorded {accepted} change(s) in the change log (source 'discover')")
    elif r.changes:
        console.print(f"run again with --accept to record the {len(r.changes)} IP/MAC change(s)")


@click.command()
@click.option("--school", help="School code, e.g. KPT-PSP (required unless --onvif).")
@click.option(
    "--onvif",
    is_flag=True,
    help="WS-Discovery of ONVIF cameras/NVRs on --interface only, diffed with the inventory.",
)
@click.option(
    "--to",
    "directed",
    metavar="IPV4:PORT",
    help="With --onvif: a directed probe to one device instead of the multicast group.",
)
@click.option(
    "--subnet",
    "subnets",
    multiple=True,
    metavar="CIDR",
    help="Subnet to sweep (repeatable) [default: the school's subnets].",
)
@click.option("--interface", help="Interface for the ARP sweep [default: the route's].")
@click.option(
    "--method",
    type=click.Choice(["auto", "arp", "ping"]),
    default="auto",
    show_default=True,
    help="auto: ARP as root with scapy, else ping.",
)
@click.option(
    "--window",
    type=click.FloatRange(0.1, 30.0),
    default=2.0,
    show_default=True,
    help="Seconds to collect ARP answers.",
)
@click.option("--accept", is_flag=True, help="Record observed IP/MAC changes in the inventory.")
@click.option(
    "--no-record",
    is_flag=True,
    help="Do not store the sweep (stored sweeps feed the health report's unknown devices).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def discover(
    app: App,
    school: str | None,
    onvif: bool,
    directed: str | None,
    subnets: tuple[str, ...],
    interface: str | None,
    method: str,
    window: float,
    accept: bool,
    no_record: bool,
    as_json: bool,
) -> None:
    """Find unknown devices, devices not seen, and IP/MAC changes (exit 0 clean, 1 differences).

    The inventory is never written without --accept; the sweep itself is stored for the health
    report unless --no-record. With --onvif, cameras answering WS-Discovery on the
    interface are compared with the inventory's cameras and NVRs instead.
    """
    if onvif:
        if accept or subnets:
            raise UsageError(
                "--onvif takes --interface, --window, --school, --to, --no-record and --json only"
            )
        schools = (school.strip().upper(),) if school else ()
        sys.exit(
            run_discover_onvif(
                app, interface, window, schools, as_json, directed, record=not no_record
            )
        )
    if not school:
        raise UsageError("--school is required (or use --onvif)")
    service = app.discovery()
    swept = service.sweep(school, subnets, interface, method, window, record=not no_record)
    report, recorded = swept.report, swept.sweep_id
    for note in report.notes:
        err_console.print(f"note: {safe(note)}")
    accepted = service.accept(report) if accept else None
    if as_json:
        print_json({"report": report, "accepted": accepted, "sweep_id": recorded})
    else:
        _render(report, accepted)
        if recorded is not None:
            console.print(f"stored as discovery sweep {recorded} (listed by itops report health)")
    sys.exit(0 if report.result.clean else 1)
