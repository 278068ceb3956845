"""``itops probe …``: health probes with Nagios plugin exit codes.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; every usage or setup error is 3 too.

The group holds ``run`` (:mod:`kape_itops.cli.probe_run`) and one command per probe kind of the
registry (:mod:`kape_itops.probes.catalog` plus ``ITOPS_PROBES``): the kind's own module
``kape_itops/cli/probe_<kind>.py`` (a click command named like the kind) when there is one,
else :func:`kind_command`, which probes one TARGET once. Each is imported only when used.
Every subcommand gets exit code 3 for click usage errors automatically; wrap the command body
with ``@handle_errors(NAGIOS_ERRORS)`` for our own errors and end with
``sys.exit(nagios_code(statuses))``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.nagios import NAGIOS_ERRORS, NAGIOS_UNKNOWN
from kape_itops.cli.options import parse_target
from kape_itops.cli.render import brief, console, print_json, result_json, status_line, table
from kape_itops.datafiles import data_folder
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import ConfigError, UsageError
from kape_itops.probes import catalog
from kape_itops.probes.base import Target
from kape_itops.probes.registry import ProbeRegistry


def _nagios(exc: click.UsageError) -> click.UsageError:
    """The same error, exiting 3 instead of click's 2 (an instance attribute, so every
    subclass keeps its own message and help output)."""
    vars(exc)["exit_code"] = NAGIOS_UNKNOWN
    return exc


class NagiosGroup(click.Group):
    """A group whose click usage errors (and those of its subcommands) exit 3."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _nagios(exc)  # noqa: B904 - the same exception, re-raised

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _nagios(exc)  # noqa: B904 - the same exception, re-raised


RUN = "run"
KIND_MODULE = "kape_itops.cli.probe_{}"
"""Where a probe kind's own command lives (its attribute is named like the kind)."""


def kind_names() -> list[str]:
    """Every probe kind of the registry (a bad ``ITOPS_PROBES`` is said by ``probe run``)."""
    try:
        names = ProbeRegistry.default().names
    except ConfigError:
        names = list(catalog.names())
    return [n for n in names if n != RUN]


def _kind_module(name: str) -> str | None:
    module = KIND_MODULE.format(name)
    try:
        return module if importlib.util.find_spec(module) is not None else None
    except (ImportError, ValueError):
        return None


class ProbeGroup(NagiosGroup):
    """``run`` and one command per probe kind, each loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, RUN, *kind_names()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            command = _load(cmd_name)
            if command is not None:
                self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


def _load(name: str) -> click.Command | None:
    if name == RUN:
        from kape_itops.cli.probe_run import run_cmd

        return run_cmd
    if name not in kind_names():
        return None
    module = _kind_module(name)
    if module is None:
        return kind_command(name)
    command = getattr(importlib.import_module(module), name)
    if not isinstance(command, click.Command):
        raise TypeError(f"{module}:{name} is not a click command")
    return command


@click.group(cls=ProbeGroup)
def probe() -> None:
    """Health probes (ping, SNMP, ONVIF, SSH) with Nagios exit codes 0/1/2/3."""


def parse_settings(assignments: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; true/false, whole and decimal numbers become those, the rest text."""
    out: dict[str, Any] = {}
    for item in assignments:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r} is not KEY=VALUE")
        out[key.strip()] = _value(text.strip())
    return out


def _value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def show_result(result: ProbeResult) -> None:
    """A status line, then every metric (device strings escaped)."""
    console.print(status_line(result))
    rows = [(k, brief(v)) for k, v in result.metrics.items()]
    if rows:
        console.print(table("details", ("metric", "value"), rows))


def _target(
    app: App,
    name: str,
    text: str,
    credential: str | None,
    settings: dict[str, Any],
    profiles: Path | None,
) -> Target:
    """TARGET as host[:port], or an inventory device with its address, credential and profile
    settings; ``settings`` go over the profile's."""
    host, port = parse_target(text)
    device = app.known_device(host)
    if device is None:
        return Target(host, port, settings=settings, credential=credential)
    address = device.ip or device.hostname
    if not address:
        raise UsageError(f"{device.asset_tag} has no IP address or host name in the inventory")
    from kape_itops.probes.profiles import load_profiles

    folder = profiles or data_folder(app.settings.data_dir).area("probes")
    merged = {**load_profiles(folder).settings_for(device, name), **settings}
    schools = {s.code: s.credential for s in app.inventory().schools()}
    chosen = credential or device.credential or schools.get(device.school)
    return Target(address, port, device=device, settings=merged, credential=chosen)


def kind_command(name: str) -> click.Command:
    """``itops probe NAME TARGET``: probe one target once through the registry (not stored)."""
    spec = catalog.kind(name)
    what = spec.summary if spec is not None and spec.summary else f"the {name} probe"

    @click.command(name)
    @click.argument("target", metavar="TARGET[:PORT]")
    @click.option("--credential", help="Secrets-file entry NAME [default: the device's].")
    @click.option(
        "--set",
        "assignments",
        multiple=True,
        metavar="KEY=VALUE",
        help="A probe setting over the profile's (repeatable), e.g. platform=cisco_ios.",
    )
    @click.option(
        "--timeout",
        type=click.FloatRange(0.1, 600.0),
        default=2.0,
        show_default=True,
        help="Seconds per request.",
    )
    @click.option(
        "--profiles",
        type=click.Path(path_type=Path, file_okay=False),
        help="Probe profile folder [default: ITOPS_DATA/probes].",
    )
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @pass_app
    @handle_errors(NAGIOS_ERRORS)
    def command(
        app: App,
        target: str,
        credential: str | None,
        assignments: tuple[str, ...],
        timeout: float,
        profiles: Path | None,
        as_json: bool,
    ) -> None:
        from kape_itops.probes.service import check_target

        settings = parse_settings(assignments)
        probed = _target(app, name, target, credential, settings, profiles)
        result = asyncio.run(check_target(name, probed, app.secrets(), timeout_s=timeout))
        if as_json:
            print_json(result_json(result, probed.device))
        else:
            show_result(result)
        sys.exit(result.exit_code)

    command.help = (
        f"Probe TARGET once: {what}; Nagios exit codes 0/1/2/3.\n\n"
        "TARGET is host[:PORT] or an inventory asset tag (then its address, credential and "
        "profile settings are used). The result is shown, not stored."
    )
    return command


__all__ = [
    "NagiosGroup",
    "kind_command",
    "kind_names",
    "probe",
    "show_result",
]
