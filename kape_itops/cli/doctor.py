"""``itops doctor``: what this machine can do, and the exact fix for what it cannot."""

from __future__ import annotations

import sys

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.datafiles import data_folder
from kape_itops.doctor import Check, ready, run_checks


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
@handle_errors()
def doctor(app: App, as_json: bool) -> None:
    """Check raw/unprivileged ICMP, ARP sweeps, SNMP tools, fping, namespaces, snmpd, sshd.

    Exit 0 when every probe has a working method for this user, 1 when a needed capability is
    missing (each with its fix). Alternatives not needed are shown as information.
    """
    checks = run_checks()
    folder = data_folder(app.settings.data_dir)
    if as_json:
        data = {
            "local": str(folder.local.resolve()) if folder.local else None,
            "shipped": str(folder.shipped),
        }
        print_json({"ready": ready(checks), "checks": checks, "data_folder": data})
    else:
        t = table(
            "itops doctor",
            ["capability", "ok", "found", "fix"],
            [[c.name, _state(c), c.detail, c.fix or ""] for c in checks],
        )
        for row, c in zip(t.rows, checks, strict=True):
            row.style = "green" if c.ok else "yellow" if c.needed else "dim"
        console.print(t)
        console.print(f"data folder: {safe(folder.describe())}")
        missing = [c for c in checks if not c.ok and c.needed]
        for c in missing:
            console.print(f"[yellow]missing[/] {safe(c.name)}: {safe(c.fix)}")
        if not missing:
            console.print("[green]ready[/]: every probe has a working method for this user")
    sys.exit(0 if ready(checks) else 1)


def _state(check: Check) -> str:
    """The ``ok`` column: yes, NO (needed), or no (information only)."""
    return "yes" if check.ok else "NO" if check.needed else "no, not needed"
