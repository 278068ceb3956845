"""``itops doctor``: what this machine can do, and the exact fix for what it cannot."""

from __future__ import annotations

import sys

import click

from kape_itops.cli.app import handle_errors
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.probes.doctor import run_checks


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors()
def doctor(as_json: bool) -> None:
    """Check raw/unprivileged ICMP, ARP sweeps, SNMP tools, fping, namespaces, snmpd, sshd.

    Exit 0 when everything is available, 1 when something is missing (each with its fix).
    """
    checks = run_checks()
    if as_json:
        print_json({"checks": checks})
    else:
        t = table(
            "itops doctor",
            ["capability", "ok", "found", "fix"],
            [[c.name, "yes" if c.ok else "NO", c.detail, c.fix or ""] for c in checks],
        )
        for row, c in zip(t.rows, checks, strict=True):
            row.style = "green" if c.ok else "yellow"
        console.print(t)
        missing = [c for c in checks if not c.ok]
        for c in missing:
            console.print(f"[yellow]missing[/] {safe(c.name)}: {safe(c.fix)}")
    sys.exit(1 if any(not c.ok for c in checks) else 0)
