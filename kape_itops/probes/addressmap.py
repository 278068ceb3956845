"""The simulated lab's address map: where each inventory address really answers.

``itops lab up`` writes a state file (default ``.itops-lab/state.json``); ``itops probe run
--lab`` (or ``ITOPS_LAB_STATE=path``) reads it and probes the mapped addresses and ports instead
of the inventory's. Without either, nothing is rewritten. The file is JSON; this module reads
only the key ``address_map`` and ignores the lab's other keys::

    {
      "version": 1,
      "mode": "loopback",                       # or "netns" (the lab's own keys, ignored here)
      "address_map": {
        "10.30.1.20": {                          # the address in the inventory
          "address": "127.30.1.20",              # where it answers (same address in netns mode)
          "ports": {"snmp": 16120, "onvif": 18020, "ssh": 12220, "rtsp": 15520, "9100": 19100}
        }
      }
    }

``ports`` maps a probe or service name (``snmp``, ``onvif``, ``ssh``, ``rtsp``, …) or an
original TCP port number written as a string (for the ping probe's TCP fallback) to the port
that answers. A probe kind found in ``ports`` gets it as ``Target.port``; the whole ``ports``
mapping is handed to every probe in ``Target.settings["lab_ports"]``.

Safety: when a map is in use, inventory addresses that are not in it are not probed at all
(their results say so), so a lab run never sends to a real network by accident.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kape_itops.errors import ConfigError

ENV_VAR = "ITOPS_LAB_STATE"
DEFAULT_STATE = Path(".itops-lab") / "state.json"


@dataclass(frozen=True, slots=True)
class Mapped:
    """Where one inventory address answers in the lab."""

    address: str
    ports: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AddressMap:
    """Inventory address -> lab address and ports."""

    entries: Mapping[str, Mapped]
    source: str = ""

    def lookup(self, address: str) -> Mapped | None:
        """The lab location of ``address``, or None when the lab does not simulate it."""
        return self.entries.get(address)

    def __len__(self) -> int:
        return len(self.entries)


def _bad(path: Path, where: str, reason: str) -> ConfigError:
    return ConfigError(f"lab state file {path}: at {where}: {reason}")


def parse_address_map(doc: object, path: Path) -> AddressMap:
    """Validate the ``address_map`` of a decoded state file."""
    if not isinstance(doc, dict):
        raise _bad(path, "(top level)", "expected a JSON object")
    raw = doc.get("address_map")
    if not isinstance(raw, dict):
        raise _bad(path, "address_map", "missing or not an object")
    entries: dict[str, Mapped] = {}
    for key, value in raw.items():
        where = f"address_map.{key}"
        if not isinstance(value, dict):
            raise _bad(path, where, "expected an object with 'address' and 'ports'")
        address = value.get("address")
        if not isinstance(address, str):
            raise _bad(path, f"{where}.address", "missing or not a string")
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise _bad(path, f"{where}.address", f"'{address}' is not an IP address") from None
        ports = value.get("ports", {})
        if not isinstance(ports, dict):
            raise _bad(path, f"{where}.ports", "expected an object of name -> port")
        for name, port in ports.items():
            if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
                raise _bad(path, f"{where}.ports.{name}", f"{port!r} is not a port number")
        entries[key] = Mapped(address=address, ports=dict(ports))
    return AddressMap(entries=entries, source=str(path))


def load_address_map(path: Path) -> AddressMap:
    """Read the lab state file at ``path``; ConfigError with a hint when it is absent or bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"lab state file {path} not found; start the lab with 'itops lab up' first"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read lab state file {path}: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"lab state file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}): "
            f"{exc.msg}"
        ) from exc
    return parse_address_map(doc, path)


def lab_state_path(
    use_lab: bool, data_dir: Path, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The state file to use: ``ITOPS_LAB_STATE`` if set, else the default when ``--lab``."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    if use_lab:
        return data_dir / DEFAULT_STATE
    return None
