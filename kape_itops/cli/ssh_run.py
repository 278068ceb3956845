"""``itops ssh run TARGET COMMAND``: one command on one device, its output verbatim.

The ``ssh`` group (:mod:`kape_itops.cli.ssh`) loads this command when used; it logs in with
the same options as the other ``ssh`` commands.
"""

from __future__ import annotations

import re

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.ssh import AccessOptions, access_options, address_map, command_sets
from kape_itops.cli.ssh_render import clean
from kape_itops.errors import ItopsError, NotFoundError, UsageError
from kape_itops.probes.ssh.client import SshFailure, SshOptions, connect, login_from_credential

__all__ = ["run_cmd"]


def _parse_target(text: str) -> tuple[str, int | None]:
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?", text)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"TARGET {text!r}: port must be a number 1-65535")
        return host, int(port)
    return text, None


@click.command("run")
@click.argument("target")
@click.argument("command")
@click.option("--platform", help="Command set for host[:port] targets (cisco_ios, linux …).")
@access_options
@click.option("--allow-config", is_flag=True, help="Run COMMAND in configuration mode.")
@click.option("--lab", is_flag=True, help="Map an asset tag's address through the lab map.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 600),
    default=20.0,
    show_default=True,
    help="Seconds to wait for the command's output.",
)
@pass_app
@handle_errors()
def run_cmd(
    app: App,
    target: str,
    command: str,
    platform: str | None,
    access: AccessOptions,
    allow_config: bool,
    lab: bool,
    timeout: float,
) -> None:
    """Run one COMMAND on TARGET (an asset tag, or host[:port] with --platform and a login).

    Commands that change the device are refused unless --allow-config.
    """
    if not command.strip():
        raise UsageError("COMMAND is empty")
    sets = command_sets(app)
    login = access.login(app)
    device = None
    if "." not in target and ":" not in target and "[" not in target:
        try:
            device = app.inventory().device(target)
        except NotFoundError:
            device = None
        except ItopsError:
            device = None
    if device is not None:
        cs = sets.for_device(device, platform)
        if cs is None:
            raise UsageError(
                f"device {target} has no SSH platform: give --platform ({', '.join(sets.names)})"
            )
        host = device.ip or device.hostname
        if not host:
            raise UsageError(f"device {target} has no IP address or host name")
        port: int | None = None
        amap = address_map(app, lab)
        if amap is not None:
            mapped = amap.lookup(host)
            if mapped is None:
                raise UsageError(f"address {host} of {target} is not in the lab address map")
            host, port = mapped.address, mapped.ports.get("ssh")
        if login is None:
            cred = device.credential or _school_credential(app, device.school)
            if cred is None:
                raise UsageError(f"no SSH credential for {target}: give --user or --credential")
            login = login_from_credential(app.secrets().credential(cred, "ssh"))
    else:
        if platform is None:
            raise UsageError(
                f"'{target}' is not an asset tag in the inventory; for host[:port] give --platform"
            )
        cs = sets.get(platform)
        host, port = _parse_target(target)
        if login is None:
            raise UsageError(
                "give --user (password from ITOPS_SSH_PASSWORD or a prompt) or --credential"
            )
    if not allow_config and cs.changes_config(command):
        raise UsageError(
            f"'{command}' looks like it changes the device ({cs.platform}); refused. "
            "Use --allow-config to run it in configuration mode."
        )
    kh = access.host_keys()
    options = SshOptions(kh, command_timeout_s=timeout)
    try:
        with connect(host, port or 22, cs.device_type, login, options) as session:
            if cs.enable:
                session.enable()
            if allow_config:
                lines = [ln for ln in command.splitlines() if ln.strip()]
                output = session.configure(lines, config_mode=cs.config_mode)
            else:
                output = session.run(command, timeout)
    except SshFailure as exc:
        raise _RunFailed(exc.message) from exc
    click.echo(clean(output).rstrip("\n"))


class _RunFailed(ItopsError):
    """The command could not be run on the device."""


def _school_credential(app: App, code: str) -> str | None:
    for school in app.inventory().schools():
        if school.code == code:
            return school.credential
    return None
