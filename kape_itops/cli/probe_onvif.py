"""``itops probe onvif TARGET[:PORT]``: the layered ONVIF camera/NVR check of one device.

The password comes from ``--credential NAME`` (secrets file ``[NAME.onvif]``), else the
``ITOPS_ONVIF_PASSWORD`` environment variable, else a hidden prompt; it is never stored or printed.
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage and setup errors too).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from kape_itops.atomic import output_folder
from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.nagios import NAGIOS_ERRORS
from kape_itops.cli.options import parse_target
from kape_itops.cli.render import console, print_json, result_json, status_line, table
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import UsageError
from kape_itops.probes.base import ProbeContext, Target, check_once
from kape_itops.probes.onvif.evaluate import LAYERS
from kape_itops.secrets import Credential, Secret, SecretStore, env_secret

__all__ = ["onvif"]

PASSWORD_ENV = "ITOPS_ONVIF_PASSWORD"  # noqa: S105 - the variable's name
_CLI_ENTRY = "command-line"
PROTOCOL = "onvif"


def _credentials(app: App, user: str | None, credential: str | None) -> tuple[str, Secret]:
    if credential:
        cred = app.secrets().credential(credential, PROTOCOL)
        name = user or cred.get("username") or cred.get("user")
        secret = cred.secret("password")
        if not name or secret is None:
            raise UsageError(
                f"credential '{credential}' needs username and password in [{credential}.onvif]"
            )
        return name, secret
    name = user or "admin"
    secret = env_secret(PASSWORD_ENV)
    if secret is not None:
        return name, secret
    if not sys.stdin.isatty():
        raise UsageError(
            f"no ONVIF password: set {PASSWORD_ENV}, use --credential NAME, or run in a terminal"
        )
    try:
        typed = click.prompt(f"ONVIF password for {name}", hide_input=True, err=True)
    except click.Abort as exc:
        raise UsageError("no ONVIF password given") from exc
    return name, Secret(str(typed))


async def _check(target: Target, secrets: SecretStore, timeout: float) -> ProbeResult:
    # the SOAP stack loads in ~0.6 s: only here
    from kape_itops.probes.onvif.probe import OnvifProbe

    return await check_once(OnvifProbe(), ProbeContext(secrets=secrets, timeout_s=timeout), target)


def render(result: ProbeResult) -> None:
    """The result: a status line, the layers, then the metrics (device strings escaped)."""
    m = result.metrics
    console.print(status_line(result, method=False))
    failed = m.get("failed_layer")
    passed = int(m.get("layer", 0))
    ms = m.get("layer_ms", {})
    rows = []
    for number, name in LAYERS.items():
        if number <= passed:
            state = "passed"
        elif number == failed:
            state = "FAILED"
        else:
            continue
        rows.append((number, name, state, f"{ms.get(str(number), 0):.0f} ms"))
    console.print(table("layers", ("#", "layer", "state", "time"), rows))
    details = [(k, v) for k, v in m.items() if k not in {"layer_ms", "layer", "failed_layer"}]
    console.print(table("details", ("metric", "value"), details))


@click.command("onvif")
@click.argument("target", metavar="TARGET[:PORT]")
@click.option("--user", help="ONVIF user name [default: the credential's, else admin].")
@click.option(
    "--credential", help="Secrets-file entry NAME holding [NAME.onvif] username/password."
)
@click.option(
    "--save-snapshot",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the snapshot JPEG in this folder (not stored otherwise).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120.0),
    default=5.0,
    show_default=True,
    help="Seconds allowed for each ONVIF, HTTP or RTSP exchange.",
)
@click.option(
    "--rtsp-port",
    type=click.IntRange(0, 65535),
    help="RTSP port of the stream check [default: the one the camera's stream URI names; "
    "0 skips the stream check].",
)
@click.option("--nvr", is_flag=True, help="Also check recording state (layer 6).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
@handle_errors(NAGIOS_ERRORS)
def onvif(
    app: App,
    target: str,
    user: str | None,
    credential: str | None,
    save_snapshot: Path | None,
    timeout: float,
    rtsp_port: int | None,
    nvr: bool,
    as_json: bool,
) -> None:
    """Check one ONVIF camera or NVR layer by layer; Nagios exit codes 0/1/2/3.

    TARGET is an address, a host name or an inventory asset tag (then its IP, credential and
    identity are used: a swapped camera is flagged). The password comes from --credential, else
    ITOPS_ONVIF_PASSWORD, else a prompt; it is never stored or printed.
    """
    host, port = parse_target(target)
    device = app.known_device(host)
    if device is not None:
        if not device.ip:
            raise UsageError(f"{device.asset_tag} has no IP address in the inventory")
        host = device.ip
        credential = credential or device.credential
    name, secret = _credentials(app, user, credential)
    secrets = SecretStore(
        {
            _CLI_ENTRY: {
                PROTOCOL: Credential(_CLI_ENTRY, PROTOCOL, {"username": name}, {"password": secret})
            }
        },
        None,
    )
    settings: dict[str, Any] = {"recording": True} if nvr else {}
    if save_snapshot is not None:
        output_folder(save_snapshot, perms=0o700)  # a missing parent is said before probing
        settings["save_snapshot_dir"] = str(save_snapshot)
    if rtsp_port is not None:
        settings["rtsp_port"] = rtsp_port or None
        if rtsp_port == 0:
            settings["stream_check"] = False
    result = asyncio.run(
        _check(
            Target(host, port, device=device, settings=settings, credential=_CLI_ENTRY),
            secrets,
            timeout,
        )
    )
    if as_json:
        print_json(result_json(result, device))
    else:
        render(result)
    sys.exit(result.exit_code)
