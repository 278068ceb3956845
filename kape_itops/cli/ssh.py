"""``itops ssh …``: health checks, configuration backups, diffs and ad-hoc commands over SSH.

Host keys are verified against the known-hosts file (``--known-hosts``, default
``$ITOPS_KNOWN_HOSTS`` or ``~/.config/itops/known_hosts``): a new key is refused unless
``--trust-new`` pins it; a changed key is always refused. Passwords never appear on the
command line: ``--user`` takes the password from ``ITOPS_SSH_PASSWORD`` or a prompt (or use
``--key-file``), ``--credential NAME`` takes the ``[NAME.ssh]`` entry of the secrets file, and
without either each device uses its own (or its school's) credential.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from kape_itops.backups.service import BackupService, BackupSettings
from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.lazy import LazyGroup
from kape_itops.cli.probe_run import run_and_show
from kape_itops.cli.render import console, err_console, print_json, safe
from kape_itops.cli.ssh_render import clean, diff_json, show_history, show_outcomes
from kape_itops.datafiles import data_folder
from kape_itops.domain.backups import BackupStatus
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.errors import ConfigError, ItopsError, UsageError
from kape_itops.probes.addressmap import AddressMap, lab_state_path, load_address_map
from kape_itops.probes.profiles import load_profiles
from kape_itops.probes.registry import ProbeRegistry
from kape_itops.probes.runner import RunnerConfig
from kape_itops.probes.service import RunRequest
from kape_itops.probes.ssh.client import (
    SshLogin,
    login_from_credential,
)
from kape_itops.probes.ssh.hostkeys import KnownHosts
from kape_itops.probes.ssh.probe import DEFAULT_CONCURRENCY, SshProbe
from kape_itops.probes.ssh.settings import CommandSets, load_command_sets
from kape_itops.secrets import Secret, env_secret

PASSWORD_ENV = "ITOPS_SSH_PASSWORD"  # noqa: S105 - a variable name, not a password


@click.group(cls=LazyGroup, lazy={"run": "kape_itops.cli.ssh_run:run_cmd"})
def ssh() -> None:
    """SSH health checks, configuration backups and diffs of network gear."""


# -- shared options ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AccessOptions:
    """How to log in and how to treat host keys, as given on the command line."""

    user: str | None
    key_file: Path | None
    credential: str | None
    known_hosts: Path | None
    trust_new: bool
    insecure: bool

    def login(self, app: App) -> SshLogin | None:
        """The login the options name (None: take each device's credential)."""
        return _login(app, self.user, self.key_file, self.credential)

    def host_keys(self) -> KnownHosts | None:
        """The known-hosts policy (None only with --insecure-no-host-key-check)."""
        return _known_hosts(self.known_hosts, self.trust_new, self.insecure)


def access_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--user, --key-file, --credential, --known-hosts, --trust-new, --insecure-no-host-key-check.

    The command receives them as one ``access: AccessOptions``.
    """

    @functools.wraps(fn)
    def inner(
        *args: Any,
        user: str | None,
        key_file: Path | None,
        credential: str | None,
        known_hosts: Path | None,
        trust_new: bool,
        insecure: bool,
        **kwargs: Any,
    ) -> Any:
        access = AccessOptions(user, key_file, credential, known_hosts, trust_new, insecure)
        return fn(*args, access=access, **kwargs)

    options = [
        click.option(
            "--user",
            help=f"Login name (password from {PASSWORD_ENV} or a prompt; "
            "enable secret from ITOPS_SSH_ENABLE_SECRET).",
        ),
        click.option(
            "--key-file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="Private key for --user (key-based login).",
        ),
        click.option("--credential", help="Entry [NAME.ssh] of the secrets file."),
        click.option(
            "--known-hosts",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Known-hosts file [env ITOPS_KNOWN_HOSTS; default ~/.config/itops/known_hosts].",
        ),
        click.option("--trust-new", is_flag=True, help="Pin host keys seen for the first time."),
        click.option(
            "--insecure-no-host-key-check",
            "insecure",
            is_flag=True,
            help="Do not verify host keys at all (lab use only).",
        ),
    ]
    decorated: Callable[..., Any] = inner
    for opt in reversed(options):
        decorated = opt(decorated)
    return decorated


def selection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--school, --tag, --lab, --concurrency, --json."""
    for opt in reversed(
        [
            click.option("--school", "schools", multiple=True, help="School code (repeatable)."),
            click.option("--tag", "tags", multiple=True, help="Asset tag (repeatable)."),
            click.option(
                "--lab", is_flag=True, help="Use the simulated lab's address map (itops lab up)."
            ),
            click.option(
                "--concurrency",
                type=click.IntRange(1, 256),
                default=DEFAULT_CONCURRENCY,
                show_default=True,
                help="SSH sessions open at once.",
            ),
            click.option("--json", "as_json", is_flag=True, help="JSON output."),
        ]
    ):
        fn = opt(fn)
    return fn


def _known_hosts(path: Path | None, trust_new: bool, insecure: bool) -> KnownHosts | None:
    if insecure:
        if trust_new:
            raise UsageError("--trust-new and --insecure-no-host-key-check exclude each other")
        err_console.print(
            "warning: host keys are NOT verified (--insecure-no-host-key-check)", markup=False
        )
        return None
    return KnownHosts(path, trust_new=trust_new)


def _login(
    app: App, user: str | None, key_file: Path | None, credential: str | None
) -> SshLogin | None:
    if credential and user:
        raise UsageError("give --user or --credential, not both")
    if credential:
        return login_from_credential(app.secrets().credential(credential, "ssh"))
    if key_file and not user:
        raise UsageError("--key-file needs --user")
    if not user:
        return None
    if key_file:
        return SshLogin(user, key_file=str(key_file))
    password = env_secret(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise UsageError(
                f"no password for --user {user}: set {PASSWORD_ENV}, use --key-file or --credential"
            )
        password = Secret(click.prompt(f"SSH password for {user}", hide_input=True))
    enable = env_secret("ITOPS_SSH_ENABLE_SECRET")
    return SshLogin(user, password=password, enable_secret=enable)


def command_sets(app: App) -> CommandSets:
    """The SSH command sets of the data folder (probes/ssh/*.yaml)."""
    return load_command_sets(data_folder(app.settings.data_dir).area("probes"))


def address_map(app: App, lab: bool) -> AddressMap | None:
    """The lab's address map with --lab or ITOPS_LAB_STATE, else None."""
    path = lab_state_path(lab, app.settings.data_dir)
    return load_address_map(path) if path else None


# -- check ---------------------------------------------------------------------------------
@ssh.command("check")
@selection_options
@access_options
@pass_app
@handle_errors({ItopsError: 3})
def check_cmd(
    app: App,
    schools: tuple[str, ...],
    tags: tuple[str, ...],
    lab: bool,
    concurrency: int,
    as_json: bool,
    access: AccessOptions,
) -> None:
    """Run the health commands: a probe run of the ssh probe with these login options.

    The same run as ``itops probe run --only ssh --kind router --kind switch --kind hotspot``
    (any kind with --tag), stored, shown and ending alike, but the table lists every device.
    Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios).
    """
    probes_dir = data_folder(app.settings.data_dir).area("probes")
    sets = load_command_sets(probes_dir)
    kh = access.host_keys()
    login = access.login(app)

    def factory() -> SshProbe:
        return SshProbe(
            command_sets=sets,
            known_hosts=kh,
            insecure_no_host_key_check=access.insecure,
            login=login,
            concurrency=concurrency,
        )

    service = app.probes(
        load_profiles(probes_dir),
        registry=ProbeRegistry(paths={}, factories={"ssh": factory}),
        config=RunnerConfig(concurrency=concurrency, per_school=concurrency, retries=0),
    )
    kinds = () if tags else (DeviceKind.ROUTER, DeviceKind.SWITCH, DeviceKind.HOTSPOT)
    request = RunRequest(
        schools=schools,
        kinds=kinds,
        tags=tags,
        only=("ssh",),
        lab_state=lab_state_path(lab, app.settings.data_dir),
    )
    sys.exit(run_and_show(app, service, request, as_json=as_json, every_result=True))


# -- backup --------------------------------------------------------------------------------
@ssh.command("backup")
@selection_options
@access_options
@pass_app
@handle_errors()
def backup_cmd(
    app: App,
    schools: tuple[str, ...],
    tags: tuple[str, ...],
    lab: bool,
    concurrency: int,
    as_json: bool,
    access: AccessOptions,
) -> None:
    """Fetch, scrub and store running configurations (unchanged ones are only marked).

    Exit 0 when every device was backed up, 1 when any failed.
    """
    probes_dir = data_folder(app.settings.data_dir).area("probes")
    try:
        profiles = load_profiles(probes_dir)
    except ConfigError:
        profiles = None
    service = app.backups(
        load_command_sets(probes_dir),
        BackupSettings(
            known_hosts=access.host_keys(),
            login=access.login(app),
            concurrency=concurrency,
        ),
        profiles=profiles,
    )
    flt = DeviceFilter(schools=schools, tags=tags)
    report = asyncio.run(service.run(flt, address_map(app, lab)))
    outcomes = sorted(report.outcomes, key=lambda o: o.asset_tag)
    if as_json:
        print_json({"run_id": report.run_id, "outcomes": outcomes})
    else:
        show_outcomes(outcomes)
        done = {s: report.count(s) for s in BackupStatus}
        console.print(
            ", ".join(f"{s.value} {n}" for s, n in done.items() if n) or "nothing to back up",
            markup=False,
        )
    sys.exit(1 if report.count(BackupStatus.FAILED) else 0)


def _backups(app: App) -> BackupService:
    return app.backups(CommandSets({}), BackupSettings(known_hosts=None), with_secrets=False)


# -- history / diff ------------------------------------------------------------------------
@ssh.command("history")
@click.argument("tag")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
@handle_errors()
def history_cmd(app: App, tag: str, as_json: bool) -> None:
    """Every stored backup of a device (versions and unchanged marks)."""
    entries = _backups(app).history(tag)
    if as_json:
        print_json(entries)
        return
    if not entries:
        console.print(f"no backups of {safe(tag)} yet: run 'itops ssh backup --tag {safe(tag)}'")
        return
    show_history(tag, entries, app.settings.zone())


@ssh.command("diff")
@click.argument("tag")
@click.option("--from", "from_ref", help="Older version: number (3, v3) or date/time.")
@click.option("--to", "to_ref", help="Newer version: number or date/time [default: newest].")
@click.option("--json", "as_json", is_flag=True, help="JSON output (both versions and the diff).")
@pass_app
@handle_errors()
def diff_cmd(app: App, tag: str, from_ref: str | None, to_ref: str | None, as_json: bool) -> None:
    """Unified diff between two stored versions (secrets are masked in storage).

    A date/time in --from/--to is local time (ITOPS_TZ) unless it gives its offset.
    """
    old, new, text = _backups(app).diff(tag, from_ref, to_ref, tz=app.settings.zone())
    if as_json:
        print_json(diff_json(tag, old, new, text))
        return
    if not text:
        click.echo(f"v{old.version} and v{new.version} of {tag} are identical")
        return
    click.echo(clean(text), nl=False)
