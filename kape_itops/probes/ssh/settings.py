"""Per-platform SSH command sets (``probes/ssh/<platform>.yaml``), validated by a JSON Schema.

A command set says which netmiko ``device_type`` to use, which health commands to run and how
to read each (see :mod:`kape_itops.probes.ssh.parse`), the thresholds, the backup command with
its volatile lines, and which commands change the device (refused by ``itops ssh run`` unless
``--allow-config``). A device selects a set by its inventory ``platform`` (the set's name or
one of its aliases), else by its manufacturer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from kape_itops.datafiles import DataDir, as_data_dir, data_folder, shipped_schema
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError
from kape_itops.yamlsafe import load_yaml

SCHEMA_FILE = Path("schema") / "ssh.schema.json"
SSH_DIR = "ssh"
_HEADER = "invalid SSH command set:\n  "


@dataclass(frozen=True, slots=True)
class HealthCommand:
    """One health command and how to read its output."""

    name: str
    command: str
    parser: str
    reads: str
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class BackupSpec:
    """How to fetch the running configuration and which lines are volatile."""

    command: str
    ignore: tuple[re.Pattern[str], ...] = ()
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class CommandSet:
    """Everything kape-itops knows about one platform's CLI."""

    platform: str
    device_type: str
    checks: tuple[HealthCommand, ...]
    description: str = ""
    aliases: tuple[str, ...] = ()
    enable: bool = False
    config_mode: bool = True
    scrub: str = "generic"
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    backup: BackupSpec | None = None
    config_commands: tuple[re.Pattern[str], ...] = ()
    source: str = ""

    def changes_config(self, command: str) -> bool:
        """Whether ``command`` looks like it changes the device."""
        return any(p.search(command) for p in self.config_commands)


@dataclass(frozen=True, slots=True)
class CommandSets:
    """Every loaded command set, by platform name."""

    sets: Mapping[str, CommandSet]

    @property
    def names(self) -> list[str]:
        """Platform names, sorted."""
        return sorted(self.sets)

    def get(self, name: str) -> CommandSet:
        """A set by name or alias; ConfigError listing the choices otherwise."""
        found = self.find(name)
        if found is None:
            raise ConfigError(
                f"no SSH command set for platform '{name}'; known: {', '.join(self.names)}"
            )
        return found

    def find(self, name: str | None) -> CommandSet | None:
        """A set by name, alias or netmiko device type (case-insensitive), or None."""
        if not name:
            return None
        key = name.strip().lower()
        if key in self.sets:
            return self.sets[key]
        for cs in self.sets.values():
            if key in cs.aliases or key == cs.device_type:
                return cs
        return None

    def for_device(self, device: Device, override: str | None = None) -> CommandSet | None:
        """The set for a device: the override, its platform, else its manufacturer."""
        for candidate in (override, device.platform, device.manufacturer):
            found = self.find(candidate)
            if found is not None:
                return found
        return None


def _validator(layers: DataDir) -> Draft202012Validator:
    path = layers.file(str(SCHEMA_FILE))
    if not path.is_file():
        path = shipped_schema("probes", SCHEMA_FILE.name)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read SSH command-set schema {path}: {exc}") from exc
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _compile(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.I))
        except re.error as exc:
            raise ConfigError(f"{where}: bad regular expression {p!r}: {exc}") from exc
    return tuple(out)


def parse_command_set(doc: Any, source: str, validator: Draft202012Validator) -> CommandSet:
    """Validate one decoded YAML document into a CommandSet; ConfigError lists every problem."""
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"{source}: at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in errors
        ]
        raise ConfigError(_HEADER + "\n  ".join(lines))
    names = [c["name"] for c in doc["checks"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: duplicate check name(s): {', '.join(dupes)}")
    backup = None
    if "backup" in doc:
        b = doc["backup"]
        backup = BackupSpec(
            command=b["command"],
            ignore=_compile(b.get("ignore", []), source),
            timeout_s=b.get("timeout_s"),
        )
    return CommandSet(
        platform=doc["platform"],
        device_type=doc["device_type"],
        checks=tuple(
            HealthCommand(c["name"], c["command"], c["parser"], c["reads"], c.get("timeout_s"))
            for c in doc["checks"]
        ),
        description=doc.get("description", ""),
        aliases=tuple(a.lower() for a in doc.get("aliases", [])),
        enable=bool(doc.get("enable", False)),
        config_mode=bool(doc.get("config_mode", True)),
        scrub=doc.get("scrub", "generic"),
        thresholds={k: dict(v) for k, v in doc.get("thresholds", {}).items()},
        backup=backup,
        config_commands=_compile(doc.get("config_commands", []), source),
        source=source,
    )


def load_command_sets(probes_dir: Path | DataDir) -> CommandSets:
    """Load and validate every ``ssh/*.yaml`` of ``probes_dir``; problems of all files at once."""
    layers = as_data_dir(probes_dir)
    files = layers.files(SSH_DIR, "*.yaml")
    if not files:
        raise ConfigError(f"no SSH command sets: no {SSH_DIR}/*.yaml in {layers.where()}")
    validator = _validator(layers)
    sets: dict[str, CommandSet] = {}
    problems: list[str] = []
    aliases: dict[str, str] = {}
    for path in files:
        try:
            doc = load_yaml(path)
            cs = parse_command_set(doc, str(path), validator)
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
            continue
        except ConfigError as exc:
            problems.extend(str(exc).removeprefix(_HEADER).split("\n  "))
            continue
        if cs.platform != path.stem:
            problems.append(f"{path}: platform '{cs.platform}' does not match the file name")
            continue
        for alias in cs.aliases:
            if alias in aliases or alias in sets:
                problems.append(
                    f"{path}: alias '{alias}' is already used by {aliases[alias]}"
                    if alias in aliases
                    else f"{path}: alias '{alias}' is a platform"
                )
            aliases[alias] = cs.platform
        sets[cs.platform] = cs
    if problems:
        raise ConfigError("invalid SSH command set(s):\n  " + "\n  ".join(problems))
    if not sets:
        raise ConfigError(f"no SSH command sets in {layers.where()}")
    return CommandSets(sets)


def default_probes_dir() -> DataDir:
    """``probes/`` of the data folder (local over shipped)."""
    from kape_itops.config import Settings

    return data_folder(Settings().data_dir).area("probes")
