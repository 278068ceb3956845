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

from jsonschema.protocols import Validator

from kape_itops.datafiles import DataDir, as_data_dir, data_folder, shipped_schema
from kape_itops.domain.inventory import Device
from kape_itops.errors import ConfigError, Issue
from kape_itops.schemadoc import Doc, check_doc, config_error, validator

SCHEMA_FILE = Path("schema") / "ssh.schema.json"
SSH_DIR = "ssh"


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


def _validator(layers: DataDir) -> Validator:
    path = layers.file(str(SCHEMA_FILE))
    if not path.is_file():
        path = shipped_schema("probes", SCHEMA_FILE.name)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read SSH command-set schema {path}: {exc}") from exc
    return validator(schema, formats=True)


def _compile(
    doc: Doc, at: tuple[str, ...], patterns: list[str], issues: list[Issue]
) -> tuple[re.Pattern[str], ...]:
    out = []
    for i, p in enumerate(patterns):
        try:
            out.append(re.compile(p, re.I))
        except re.error as exc:
            issues.append(doc.issue((*at, i), f"bad regular expression {p!r}: {exc}"))
    return tuple(out)


def parse_command_set(doc: Doc) -> tuple[CommandSet | None, list[Issue]]:
    """A schema-checked document as a CommandSet, or the problems of meaning it has."""
    data = doc.data
    names = [c["name"] for c in data["checks"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        return None, [doc.issue(("checks",), f"duplicate check name(s): {', '.join(dupes)}")]
    issues: list[Issue] = []
    backup = None
    if "backup" in data:
        b = data["backup"]
        backup = BackupSpec(
            command=b["command"],
            ignore=_compile(doc, ("backup", "ignore"), b.get("ignore", []), issues),
            timeout_s=b.get("timeout_s"),
        )
    config_commands = _compile(doc, ("config_commands",), data.get("config_commands", []), issues)
    if issues:
        return None, issues
    return CommandSet(
        platform=data["platform"],
        device_type=data["device_type"],
        checks=tuple(
            HealthCommand(c["name"], c["command"], c["parser"], c["reads"], c.get("timeout_s"))
            for c in data["checks"]
        ),
        description=data.get("description", ""),
        aliases=tuple(a.lower() for a in data.get("aliases", [])),
        enable=bool(data.get("enable", False)),
        config_mode=bool(data.get("config_mode", True)),
        scrub=data.get("scrub", "generic"),
        thresholds={k: dict(v) for k, v in data.get("thresholds", {}).items()},
        backup=backup,
        config_commands=config_commands,
        source=doc.source,
    ), []


def load_command_sets(probes_dir: Path | DataDir) -> CommandSets:
    """Load and validate every ``ssh/*.yaml`` of ``probes_dir``; problems of all files at once."""
    layers = as_data_dir(probes_dir)
    files = layers.files(SSH_DIR, "*.yaml")
    if not files:
        raise ConfigError(f"no SSH command sets: no {SSH_DIR}/*.yaml in {layers.where()}")
    check = _validator(layers)
    sets: dict[str, CommandSet] = {}
    problems: list[Issue] = []
    aliases: dict[str, str] = {}
    for path in files:
        doc, found = check_doc(path, check)
        cs, meaning = parse_command_set(doc) if doc is not None and not found else (None, [])
        if cs is None or doc is None:
            problems += found + meaning
            continue
        if cs.platform != path.stem:
            problems.append(
                doc.issue(("platform",), f"platform '{cs.platform}' does not match the file name")
            )
            continue
        for i, alias in enumerate(cs.aliases):
            if alias in aliases or alias in sets:
                problems.append(
                    doc.issue(
                        ("aliases", i),
                        f"alias '{alias}' is already used by {aliases[alias]}"
                        if alias in aliases
                        else f"alias '{alias}' is a platform",
                    )
                )
            aliases[alias] = cs.platform
        sets[cs.platform] = cs
    if problems:
        raise config_error("invalid SSH command set(s)", problems)
    if not sets:
        raise ConfigError(f"no SSH command sets in {layers.where()}")
    return CommandSets(sets)


def default_probes_dir() -> DataDir:
    """``probes/`` of the data folder (local over shipped)."""
    from kape_itops.config import Settings

    return data_folder(Settings().data_dir).area("probes")
