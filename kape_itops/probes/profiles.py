"""Per-kind probe profiles (``probes/kinds/*.yaml``) and their overrides, validated by schema.

A kind profile says which probes apply to a device kind and holds one settings section per
probe kind; that section (merged with the overrides) becomes ``Target.settings`` of the probe.
Keys the runner itself reads in every section:

- ``check_timeout_s``: hard limit of one check (else the run's default);
- ``port``: the port to probe (else the probe's default; the lab address map may replace it);
- ``thresholds``: ``{metric: {warn: N, crit: N}}``; when ``warn > crit`` lower values are worse.

The ping section also has ``count``, ``interval_s``, ``timeout_s`` (per echo) and ``tcp_ports``
(the TCP-connect fallback ports, tried in order); its thresholds are over ``rtt_avg_ms`` and
``loss_pct`` (any ping metric works). Everything else in a section belongs to the
probe's owner (e.g. ``snmp: {profile: printer}``).

Overrides come, in increasing precedence, from the kind profile, ``probes/overrides.yaml``
``schools.<code>``, then ``devices.<asset tag>``; mappings merge key by key, lists and values
replace. A device's own inventory field ``probes`` replaces the kind's list of probes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator
from referencing import Registry, Resource

from kape_itops.datafiles import DataDir, as_data_dir, shipped_schema
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError, Issue
from kape_itops.schemadoc import check_doc, config_error, validator

KINDS_DIR = "kinds"
SCHEMA_DIR = "schema"
OVERRIDES_FILE = "overrides.yaml"
DEFAULT_DEADLINE_S = 60.0


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: mappings merge recursively, everything else replaces."""
    out = dict(base)
    for key, value in top.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge(old, value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class KindProfile:
    """What to probe on one device kind, and how."""

    kind: DeviceKind
    probes: tuple[str, ...]
    sections: Mapping[str, Mapping[str, Any]]
    deadline_s: float | None = None
    description: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Overrides:
    """Settings overrides by school code and by asset tag."""

    schools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    devices: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Profiles:
    """Every kind profile plus the overrides: answers 'which probes, with what settings'."""

    kinds: Mapping[DeviceKind, KindProfile]
    overrides: Overrides = field(default_factory=Overrides)
    source: str = ""

    def missing(self) -> list[DeviceKind]:
        """Device kinds without a profile."""
        return [k for k in DeviceKind if k not in self.kinds]

    def profile(self, kind: DeviceKind) -> KindProfile:
        """The profile of ``kind``; ConfigError naming the expected file when absent."""
        try:
            return self.kinds[kind]
        except KeyError:
            raise ConfigError(
                f"no probe profile for device kind '{kind}': expected "
                f"{Path(self.source) / KINDS_DIR / (kind.value + '.yaml')}"
            ) from None

    def probes_for(self, device: Device) -> tuple[str, ...]:
        """The probe kinds that apply: the device's own list, else its kind's."""
        if device.probes:
            return tuple(dict.fromkeys(device.probes))
        return self.profile(device.kind).probes

    def _layers(self, device: Device) -> list[Mapping[str, Any]]:
        return [
            self.overrides.schools.get(device.school, {}),
            self.overrides.devices.get(device.asset_tag, {}),
        ]

    def settings_for(self, device: Device, probe: str) -> dict[str, Any]:
        """The merged settings section of ``probe`` for ``device``."""
        out: dict[str, Any] = dict(self.profile(device.kind).sections.get(probe, {}))
        for layer in self._layers(device):
            section = layer.get(probe)
            if isinstance(section, Mapping):
                out = merge(out, section)
        return out

    def deadline_for(self, device: Device) -> float:
        """Seconds allowed for all probes of ``device`` together."""
        deadline = self.profile(device.kind).deadline_s or DEFAULT_DEADLINE_S
        for layer in self._layers(device):
            if "deadline_s" in layer:
                deadline = float(layer["deadline_s"])
        return deadline


# -- loading and validation ----------------------------------------------------------------


def _schema_file(layers: DataDir, name: str) -> Path:
    path = layers.file(f"{SCHEMA_DIR}/{name}")
    return path if path.is_file() else shipped_schema("probes", name)


def _schemas(layers: DataDir) -> tuple[Validator, Validator]:
    kind_path = _schema_file(layers, "kind.schema.json")
    over_path = _schema_file(layers, "overrides.schema.json")
    try:
        kind = json.loads(kind_path.read_text(encoding="utf-8"))
        over = json.loads(over_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the probe profile schemas {kind_path}: {exc}") from exc
    registry: Registry[Any] = Registry().with_resources(
        [(kind["$id"], Resource.from_contents(kind)), (over["$id"], Resource.from_contents(over))]
    )
    return validator(kind, registry=registry), validator(over, registry=registry)


def load_profiles(probes_dir: Path | DataDir) -> Profiles:
    """Load and validate ``kinds/*.yaml`` and the optional ``overrides.yaml`` of ``probes_dir``.

    A :class:`DataDir` is read through its layers (a local file hides the shipped one of the same
    name). Every problem of every file is reported at once: file, path in the document, reason.
    """
    layers = as_data_dir(probes_dir)
    kind_files = layers.files(KINDS_DIR, "*.yaml")
    if not kind_files:
        raise ConfigError(f"no probe profiles: no {KINDS_DIR}/*.yaml in {layers.where()}")
    kind_validator, over_validator = _schemas(layers)
    problems: list[Issue] = []
    kinds: dict[DeviceKind, KindProfile] = {}
    for path in kind_files:
        checked, found = check_doc(path, kind_validator)
        if found or checked is None:
            problems += found
            continue
        doc = checked.data
        kind = DeviceKind(doc["kind"])
        if path.stem != kind.value:
            problems.append(checked.issue(("kind",), f"'{kind}' does not match the file name"))
            continue
        kinds[kind] = KindProfile(
            kind=kind,
            probes=tuple(doc["probes"]),
            sections={
                k: v
                for k, v in doc.items()
                if k not in ("kind", "description", "probes", "deadline_s")
            },
            deadline_s=float(doc["deadline_s"]) if "deadline_s" in doc else None,
            description=doc.get("description", ""),
            source=str(path),
        )
    overrides = Overrides()
    over_path = layers.file(OVERRIDES_FILE)
    if over_path.exists():
        checked, found = check_doc(over_path, over_validator, empty={})
        problems += found
        if not found and checked is not None:
            doc = checked.data
            overrides = Overrides(
                schools=doc.get("schools") or {}, devices=doc.get("devices") or {}
            )
    if problems:
        raise config_error("invalid probe profile(s)", problems)
    return Profiles(kinds=kinds, overrides=overrides, source=layers.where())
