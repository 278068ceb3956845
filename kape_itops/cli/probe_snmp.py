"""``itops probe snmp TARGET[:PORT]``: the SNMP health check of one device.

Credentials, in order: ``--credential NAME`` (secrets file ``[NAME.snmp]``); ``--v3-user NAME``
with the passphrases from ``ITOPS_SNMP_AUTH_KEY`` / ``ITOPS_SNMP_PRIV_KEY`` or a hidden prompt
(never from arguments); ``--community`` or ``ITOPS_SNMP_COMMUNITY`` (v2c, or v1 with
``--snmp-version 1``). Nothing secret is stored, printed or put in ``--json``.
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage and setup errors too).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.nagios import NAGIOS_ERRORS
from kape_itops.cli.options import parse_target
from kape_itops.cli.render import brief, console, print_json, result_json, status_line, table
from kape_itops.datafiles import DataDir, data_folder
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import UsageError
from kape_itops.probes.base import ProbeContext, Target, check_once
from kape_itops.probes.snmp.client import AUTH_PROTOCOLS, PRIV_PROTOCOLS, norm_protocol
from kape_itops.probes.snmp.probe import COMMUNITY_ENV, PROTOCOL, SnmpProbe
from kape_itops.probes.snmp.settings import load_profiles
from kape_itops.secrets import Credential, Secret, SecretStore, env_secret

__all__ = ["snmp"]

AUTH_KEY_ENV = "ITOPS_SNMP_AUTH_KEY"
PRIV_KEY_ENV = "ITOPS_SNMP_PRIV_KEY"
_CLI_ENTRY = "command-line"
_HIDDEN_METRICS = {"if_counters", "uptime_ticks", "uptime_wraps"}


def _passphrase(env: str, what: str, user: str) -> Secret:
    secret = env_secret(env)
    if secret is not None:
        return secret
    if not sys.stdin.isatty():
        raise UsageError(f"no SNMPv3 {what} passphrase for {user}: set {env} or run in a terminal")
    try:
        typed = click.prompt(f"SNMPv3 {what} passphrase for {user}", hide_input=True, err=True)
    except click.Abort as exc:
        raise UsageError(f"no SNMPv3 {what} passphrase given") from exc
    return Secret(str(typed))


def _adhoc_credential(
    community: str | None,
    version: str,
    v3_user: str | None,
    auth_protocol: str | None,
    priv_protocol: str | None,
) -> Credential:
    """A one-off in-memory secrets entry from the command line and environment."""
    if v3_user:
        if community:
            raise UsageError("--community and --v3-user exclude each other")
        settings = {"version": "3", "user": v3_user}
        secrets: dict[str, Secret] = {}
        if auth_protocol:
            settings["auth_protocol"] = auth_protocol
            secrets["auth_key"] = _passphrase(AUTH_KEY_ENV, "authentication", v3_user)
        if priv_protocol:
            if not auth_protocol:
                raise UsageError("--priv-protocol needs --auth-protocol (no privacy without auth)")
            settings["priv_protocol"] = priv_protocol
            secrets["priv_key"] = _passphrase(PRIV_KEY_ENV, "privacy", v3_user)
        return Credential(_CLI_ENTRY, PROTOCOL, settings, secrets)
    if auth_protocol or priv_protocol:
        raise UsageError("--auth-protocol/--priv-protocol need --v3-user")
    secret = Secret(community) if community else env_secret(COMMUNITY_ENV)
    if secret is None:
        raise UsageError(
            f"no SNMP credential: use --credential NAME, --v3-user NAME, --community, "
            f"or set {COMMUNITY_ENV}"
        )
    return Credential(_CLI_ENTRY, PROTOCOL, {"version": version}, {"community": secret})


def _protocol(choices: dict[str, Any]) -> Any:
    def convert(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        name = norm_protocol(value)
        if name is not None and name not in choices:
            raise click.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
        return name

    return convert


async def _check(
    target: Target, secrets: SecretStore, profiles: Path | DataDir | None
) -> ProbeResult:
    return await check_once(SnmpProbe(profiles), ProbeContext(secrets=secrets), target)


def as_json(result: ProbeResult) -> dict[str, Any]:
    """The result for ``--json`` (the counters kept for rates are left out)."""
    return result_json(result, hide=_HIDDEN_METRICS)


def render(result: ProbeResult) -> None:
    """Status line, supplies and other metrics; every device string escaped."""
    m = result.metrics
    console.print(status_line(result))
    supplies = m.get("supplies") or []
    if supplies:
        rows = [
            (
                s["name"],
                s["level"],
                s["max"],
                "" if s["pct"] is None else f"{s['pct']:g}%",
                s["state"],
            )
            for s in supplies
        ]
        console.print(table("supplies", ("supply", "level", "max", "percent", "state"), rows))
    skip = _HIDDEN_METRICS | {"supplies", "if_rates"}
    details = [(k, brief(v)) for k, v in m.items() if k not in skip]
    console.print(table("details", ("metric", "value"), details))


@click.command("snmp")
@click.argument("target")
@click.option("--profile", help="SNMP profile (probes/snmp/*.yaml): base, switch, printer …")
@click.option("--credential", help="Secrets-file entry NAME holding [NAME.snmp].")
@click.option("--community", help=f"v1/v2c community [env {COMMUNITY_ENV}; prefer the env].")
@click.option(
    "--snmp-version",
    type=click.Choice(["1", "2c"]),
    default="2c",
    show_default=True,
    help="Version used with --community.",
)
@click.option("--v3-user", help="SNMPv3 user (passphrases from env or a prompt, never arguments).")
@click.option(
    "--auth-protocol",
    callback=_protocol(AUTH_PROTOCOLS),
    help=f"SNMPv3 auth: {', '.join(AUTH_PROTOCOLS)} [key from env {AUTH_KEY_ENV} or prompt].",
)
@click.option(
    "--priv-protocol",
    callback=_protocol(PRIV_PROTOCOLS),
    help=f"SNMPv3 privacy: {', '.join(PRIV_PROTOCOLS)} [key from env {PRIV_KEY_ENV} or prompt].",
)
@click.option("--timeout", type=click.FloatRange(0.05, 60.0), help="Seconds per request.")
@click.option("--retries", type=click.IntRange(0, 10), help="Retries per request.")
@click.option("--deadline", type=click.FloatRange(0.1, 600.0), help="Seconds for the whole check.")
@click.option(
    "--profiles-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder of SNMP profiles [default <ITOPS_DATA>/probes/snmp].",
)
@click.option("--json", "as_json_", is_flag=True, help="Machine-readable output.")
@pass_app
@handle_errors(NAGIOS_ERRORS)
def snmp(
    app: App,
    target: str,
    profile: str | None,
    credential: str | None,
    community: str | None,
    snmp_version: str,
    v3_user: str | None,
    auth_protocol: str | None,
    priv_protocol: str | None,
    timeout: float | None,
    retries: int | None,
    deadline: float | None,
    profiles_dir: Path | None,
    as_json_: bool,
) -> None:
    """SNMP health of one device (v1/v2c/v3); Nagios exit codes 0/1/2/3."""
    host, port = parse_target(target)
    directory = profiles_dir or data_folder(app.settings.data_dir).area("probes").sub("snmp")
    if profile is not None and profile not in load_profiles(directory).names():
        raise UsageError(
            f"unknown SNMP profile '{profile}' (have: {', '.join(load_profiles(directory).names())})"
        )
    if credential:
        if community or v3_user:
            raise UsageError("--credential excludes --community and --v3-user")
        secrets = app.secrets()
        secrets.credential(credential, PROTOCOL)
        ref = credential
    else:
        entry = _adhoc_credential(community, snmp_version, v3_user, auth_protocol, priv_protocol)
        secrets = SecretStore({_CLI_ENTRY: {PROTOCOL: entry}}, None)
        ref = _CLI_ENTRY
    settings: dict[str, Any] = {"profile": profile} if profile else {}
    for key, value in (("timeout_s", timeout), ("retries", retries), ("deadline_s", deadline)):
        if value is not None:
            settings[key] = value
    result = asyncio.run(
        _check(Target(host, port, settings=settings, credential=ref), secrets, directory)
    )
    if as_json_:
        print_json(as_json(result))
    else:
        render(result)
    sys.exit(result.exit_code)
