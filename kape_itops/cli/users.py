"""``itops server user``: the server's user accounts (add, list, role, disable, enable,
password).

A password comes from ``ITOPS_USER_PASSWORD`` when set, else from a hidden prompt asked twice
(on a terminal), else from two lines of standard input (scripts). It is never printed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, print_json, table
from kape_itops.domain.users import Role, User
from kape_itops.errors import UsageError

PASSWORD_ENV = "ITOPS_USER_PASSWORD"  # noqa: S105 (the variable's name)


def _line(prompt: str) -> str:
    click.echo(prompt, nl=False, err=True)
    line = sys.stdin.readline()
    if not line:
        raise UsageError(f"no password given: type it, pipe two lines, or set {PASSWORD_ENV}")
    return line.removesuffix("\n").removesuffix("\r")


def read_password() -> str:
    """The new password: the environment, a hidden prompt twice, or two lines of stdin."""
    if (value := os.environ.get(PASSWORD_ENV)) is not None:
        return value
    if sys.stdin.isatty():
        return str(
            click.prompt(
                "password",
                hide_input=True,
                confirmation_prompt="repeat the password",
                err=True,
            )
        )
    first, second = _line("password: "), _line("repeat the password: ")
    click.echo(err=True)
    if first != second:
        raise UsageError("the two passwords differ")
    return first


def _json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "disabled_at": user.disabled_at,
        "created_at": user.created_at,
        "created_by": user.created_by,
        "password_changed_at": user.password_changed_at,
        "failed_count": user.failed_count,
        "locked_until": user.locked_until,
    }


@click.group("user")
def user() -> None:
    """User accounts of the server's web pages and API, with their roles."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="admin: everything; it_staff: inventory, probes, backups; reviewer: quotations; "
    "viewer: read-only.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def add(app: App, name: str, role: str, as_json: bool) -> None:
    """Add user NAME (password: hidden prompt, twice, or ITOPS_USER_PASSWORD)."""
    accounts = app.accounts()
    password = read_password()
    made = accounts.add(name, role, password)
    if as_json:
        print_json(_json(made))
        return
    click.echo(f"added user {made.name} ({made.role.value})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def list_(app: App, as_json: bool) -> None:
    """Every user: role, disabled, created, last password change."""
    users = app.accounts().list()
    if as_json:
        print_json([_json(u) for u in users])
        return
    if not users:
        console.print("no user yet: add one with 'itops server user add NAME --role admin'")
        return
    rows = [
        [
            u.name,
            u.role.value,
            u.disabled_at or "",
            u.created_at,
            u.created_by,
            u.password_changed_at,
            u.locked_until or "",
        ]
        for u in users
    ]
    headers = ["name", "role", "disabled", "created", "by", "password changed", "locked until"]
    console.print(
        table(
            "users",
            headers,
            rows,
            tz=app.settings.zone(),
            keys=("name",),
            optional=["locked until", "by"],
        )
    )


def _changed(user: User, changed: bool, done: str, as_json: bool) -> None:
    if as_json:
        print_json({**_json(user), "changed": changed})
        return
    click.echo(f"user {user.name} {done}" if changed else f"user {user.name} was {done} already")


@user.command("disable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def disable(app: App, name: str, as_json: bool) -> None:
    """Refuse NAME's log-ins from now on (the account and its history stay)."""
    _changed(*app.accounts().disable(name), "disabled", as_json)


@user.command("enable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def enable(app: App, name: str, as_json: bool) -> None:
    """Let NAME log in again (lifts a lock after failed log-ins too)."""
    _changed(*app.accounts().enable(name), "enabled", as_json)


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def role(app: App, name: str, role: str, as_json: bool) -> None:
    """Give NAME another ROLE (the last admin who can log in keeps the admin role)."""
    made, changed = app.accounts().set_role(name, role)
    if as_json:
        print_json({**_json(made), "changed": changed})
        return
    if changed:
        click.echo(f"user {made.name} is now {made.role.value}")
    else:
        click.echo(f"user {made.name} was {made.role.value} already")


@user.command("password")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def password(app: App, name: str, as_json: bool) -> None:
    """Set NAME's password (hidden prompt, twice, or ITOPS_USER_PASSWORD)."""
    accounts = app.accounts()
    accounts.get(name)  # an unknown name fails before the prompt
    changed = accounts.set_password(name, read_password())
    if as_json:
        print_json(_json(changed))
        return
    click.echo(f"new password set for {changed.name}")
