"""``itops lab up|down|status``: the simulated school network for demos and tests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.render import console, err_console, print_json, safe
from kape_itops.datafiles import data_folder
from kape_itops.errors import ConfigError, StoreError
from kape_itops.lab.lab import (
    LabDevice,
    devices_from_csv,
    lab_devices,
    lab_down,
    lab_status,
    lab_up,
)
from kape_itops.probes.addressmap import DEFAULT_STATE

_state_option = click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Lab state file [default: <ITOPS_DATA>/.itops-lab/state.json].",
)


def _state(app: App, state_path: Path | None) -> Path:
    return state_path or app.settings.data_dir / DEFAULT_STATE


def _devices(app: App) -> tuple[list[LabDevice], str]:
    """Devices from the database when it has lab addresses, else inventory/devices.csv."""
    url = app.settings.db_url
    if not (url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()):
        try:
            found = lab_devices(app.inventory().devices())
            if found:
                return found, "the database"
        except (StoreError, ConfigError):
            pass
    csv_path = data_folder(app.settings.data_dir).area("inventory").file("devices.csv")
    if csv_path.exists():
        return devices_from_csv(csv_path), str(csv_path)
    return [], "nowhere (no database devices, no inventory/devices.csv)"


@click.group()
def lab() -> None:
    """The simulated school network (network namespaces as root, loopback otherwise)."""


@lab.command()
@click.option(
    "--mode",
    type=click.Choice(["auto", "netns", "loopback"]),
    default="auto",
    show_default=True,
    help="netns needs root; loopback maps 10.30.i.h to 127.30.i.h.",
)
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="MODULE:FUNCTION",
    help="Extra simulator to start (besides lab.EXTRA_COMPONENTS).",
)
@click.option(
    "--simulators/--no-simulators",
    default=True,
    show_default=True,
    help="Start the SNMP, ONVIF and SSH simulators (--no-simulators: a ping-only lab).",
)
@click.option(
    "--two-tier",
    is_flag=True,
    help="Also start a server and, per school, a collector behind its own link (itops lab link).",
)
@click.option(
    "--server-db",
    metavar="URL",
    help="The lab server's database [default: SQLite in the lab folder].",
)
@click.option(
    "--server-inventory",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Inventory folder imported into the server's database [default: the data folder's].",
)
@_state_option
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def up(
    app: App,
    mode: str,
    components: tuple[str, ...],
    simulators: bool,
    two_tier: bool,
    server_db: str | None,
    server_inventory: Path | None,
    state_path: Path | None,
    as_json: bool,
) -> None:
    """Start the simulated network for the inventory's 10.30.0.0/16 devices."""
    devices, source = _devices(app)
    path = _state(app, state_path)
    state, started = lab_up(devices, path, mode, components, simulators=simulators)
    tiers_started = False
    if two_tier:
        from kape_itops.lab.twotier import tiers_up

        folder = server_inventory or (
            data_folder(app.settings.data_dir).area("inventory").file("devices.csv").parent
        )
        state, tiers_started = tiers_up(path, inventory=folder, server_db=server_db)
    status = lab_status(path)
    if as_json:
        print_json(
            {
                "started": started,
                **({"tiers_started": tiers_started} if two_tier else {}),
                "state_file": str(path),
                **status.counts,
                **state.to_json(),
            }
        )
        return
    verb = "started" if started else "already up:"
    console.print(
        f"lab {verb} {state.mode} mode, {status.counts['devices']} devices from {safe(source)} "
        f"({status.counts['answering']} answering, {status.counts['down']} simulated down)"
    )
    if state.mode == "loopback":
        console.print(
            "loopback mode: 10.30.i.h answers ping on 127.30.i.h, the down ones too (no "
            "simulators run for them); delay, loss and silent hosts need root"
        )
    else:
        console.print(
            f"namespace {safe(', '.join(state.namespaces))}; routes {safe(' '.join(state.routes))}"
        )
    console.print(f"state file {safe(path)}; probe it with: itops probe run --lab")
    if state.tiers:
        console.print(
            f"two tiers {'started' if two_tier and tiers_started else 'already up'}: server {safe(state.tiers['server']['url'])} "
            f"({safe(state.tiers['server']['db'])}), {len(state.tiers['schools'])} collectors "
            "behind their links: itops lab link, itops lab join, itops lab on SCHOOL sync"
        )


@lab.command()
@_state_option
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def down(app: App, state_path: Path | None, as_json: bool) -> None:
    """Stop the lab's processes and remove its namespaces and routes."""
    done = lab_down(_state(app, state_path), leftovers=state_path is None)
    if as_json:
        print_json({"done": done})
        return
    for line in done or ["lab was not running"]:
        console.print(safe(line))


@lab.command()
@_state_option
@click.option("--json", "as_json", is_flag=True)
@pass_app
@handle_errors()
def status(app: App, state_path: Path | None, as_json: bool) -> None:
    """Report whether the lab runs as recorded (exit 0 up, 1 broken, 3 down)."""
    st = lab_status(_state(app, state_path))
    if as_json:
        print_json(
            {
                "up": st.up,
                "problems": st.problems,
                **st.counts,
                "mode": st.state.mode if st.state else None,
                "namespaces": st.state.namespaces if st.state else [],
                "pids": st.state.pids if st.state else [],
                "tiers": st.state.tiers if st.state else {},
            }
        )
    elif st.state is None:
        console.print("lab is down")
    else:
        console.print(
            f"lab {'up' if st.up else 'BROKEN'}: {st.state.mode} mode since {safe(st.state.created)}, "
            f"{st.counts['devices']} devices ({st.counts['down']} simulated down), "
            f"{st.counts['processes']} process(es)"
        )
        if st.state.tiers:
            console.print(
                f"two tiers: server {safe(st.state.tiers['server']['url'])}, "
                f"{len(st.state.tiers['schools'])} collectors behind their links (itops lab link)"
            )
        for p in st.problems:
            err_console.print(f"problem: {safe(p)}")
    sys.exit(0 if st.up else 3 if st.state is None else 1)


def _add_tier_commands() -> None:
    from kape_itops.cli.lab_tiers import COMMANDS

    for command in COMMANDS:
        lab.add_command(command)


_add_tier_commands()
