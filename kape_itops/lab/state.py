"""The lab state file (default ``.itops-lab/state.json``): what runs, where each address answers.

Format (``address_map`` is the part :mod:`kape_itops.probes.addressmap` reads)::

    {
      "version": 1,
      "mode": "netns" | "loopback",
      "created": "2026-11-29T01:40:00+00:00",
      "address_map": {"10.30.1.5": {"address": "127.30.1.5", "ports": {"snmp": 16105}}},
      "pids": [1234],                    # processes to stop on 'lab down' (responder, host)
      "namespaces": ["itops-lab-0"],
      "interfaces": ["i1a2b3ch0"],       # root-namespace veth ends
      "routes": ["10.30.1.0/24"],        # routed into the namespace (netns mode)
      "devices": {"10.30.1.5": {"asset_tag": "KPT-PSP-004", "kind": "hotspot",
                                "delay_ms": 12.0, "jitter_ms": 2.0, "loss": 0.01, "down": false}},
      "tiers": {                         # two-tier lab (kape_itops.lab.twotier), when up
        "server": {"pid": 1240, "url": "http://127.0.0.1:41001", "db": "sqlite:///…"},
        "links": {"pid": 1241, "file": ".itops-lab/links.json"},
        "schools": {"KPT-PSP": {"folder": ".itops-lab/schools/KPT-PSP",
                                "url": "http://127.0.0.1:41002"}}
      }
    }
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.atomic import write_text
from kape_itops.errors import ConfigError

VERSION = 1


@dataclass(slots=True)
class LabState:
    """Everything ``lab down`` and ``lab status`` need, and the probe runner's address map."""

    mode: str
    address_map: dict[str, dict[str, Any]] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    tiers: dict[str, Any] = field(default_factory=dict)
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )

    def to_json(self) -> dict[str, Any]:
        """The file's JSON document."""
        return {
            "version": VERSION,
            "mode": self.mode,
            "created": self.created,
            "address_map": self.address_map,
            "pids": self.pids,
            "namespaces": self.namespaces,
            "interfaces": self.interfaces,
            "routes": self.routes,
            "devices": self.devices,
            "tiers": self.tiers,
        }


def write_state(path: Path, state: LabState) -> None:
    """Write the state atomically (temp file + rename), creating the folder."""
    text = json.dumps(state.to_json(), indent=2, sort_keys=False) + "\n"
    write_text(path, text, make_parents=True)


def read_state(path: Path) -> LabState | None:
    """The state at ``path``; None when there is none; ConfigError when it is unreadable."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"lab state file {path} is unreadable: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("mode") not in ("netns", "loopback"):
        raise ConfigError(f"lab state file {path}: not a lab state (no mode netns|loopback)")
    try:
        return LabState(
            mode=str(doc["mode"]),
            address_map=dict(doc.get("address_map", {})),
            pids=[int(p) for p in doc.get("pids", [])],
            namespaces=[str(n) for n in doc.get("namespaces", [])],
            interfaces=[str(n) for n in doc.get("interfaces", [])],
            routes=[str(r) for r in doc.get("routes", [])],
            devices=dict(doc.get("devices", {})),
            tiers=dict(doc.get("tiers", {})),
            created=str(doc.get("created", "")),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"lab state file {path}: bad content: {exc}") from exc
