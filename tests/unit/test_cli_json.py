"""Every command that prints a table or a report also offers ``--json`` for scripts."""

from __future__ import annotations

import click

from kape_itops.cli import cli

NO_TABLE = {
    "init": "one line: the schema revision",
    "data init": "one line: the folder written",
    "quote template": "writes an XLSX form, one line",
    "schedule install": "writes unit files, one line each",
    "ssh run": "the device's own output, verbatim",
    "server serve": "runs the server: its access log",
    "server run": "hidden alias of 'server serve'",
    "lab on": "runs another itops command: its output (and its --json)",
}
"""Commands that print no table, and what they print instead."""


def _leaves(group: click.Group, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    ctx = click.Context(group)
    out: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        if isinstance(cmd, click.Group):
            out.update(_leaves(cmd, (*path, name)))
        else:
            out[" ".join((*path, name))] = cmd
    return out


def test_every_table_command_has_json() -> None:
    leaves = _leaves(cli)
    assert set(NO_TABLE) <= set(leaves), "a listed command no longer exists"
    missing = [
        name
        for name, cmd in leaves.items()
        if name not in NO_TABLE and not any("--json" in getattr(p, "opts", ()) for p in cmd.params)
    ]
    assert missing == []
    for name in ("spec check", "ssh diff", "inventory labels"):
        assert name in leaves
