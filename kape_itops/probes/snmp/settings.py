"""SNMP profiles (``probes/snmp/*.yaml``): loaded, schema-checked and resolved.

A profile names the checks it runs (rows of :data:`~.checks.CHECKS`) and the numeric OIDs each
check reads; ``extends`` pulls in another profile (``base`` holds every OID group and the vendor
client-count table).
Mappings merge key by key, lists and values replace. A probe's ``Target.settings`` (the kind
profile's ``snmp`` section) may override ``thresholds``, ``timeout_s``, ``retries``,
``max_repetitions``, ``max_rows`` and ``deadline_s``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kape_itops.config import Settings
from kape_itops.datafiles import DataDir, as_data_dir, data_folder, shipped_schema
from kape_itops.errors import ConfigError, Issue
from kape_itops.probes.profiles import merge
from kape_itops.probes.snmp.checks import CHECKS, SECTIONS
from kape_itops.schemadoc import check_doc, config_error, validator

SCHEMA_FILE = "snmp.schema.json"
TUNABLES = ("timeout_s", "retries", "max_repetitions", "max_rows", "deadline_s")


@dataclass(frozen=True, slots=True)
class SnmpProfile:
    """A resolved profile: the checks, their OID sections and the request limits."""

    name: str
    description: str
    checks: tuple[str, ...]
    sections: Mapping[str, Any]
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    timeout_s: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    max_rows: int = 5000
    deadline_s: float = 15.0

    def section(self, name: str) -> Mapping[str, Any]:
        """One OID section (``system``, ``interfaces`` …), empty when absent."""
        value = self.sections.get(name)
        return value if isinstance(value, Mapping) else {}

    def with_settings(self, settings: Mapping[str, Any]) -> SnmpProfile:
        """This profile with a probe section's overrides applied."""
        thresholds = merge(self.thresholds, settings.get("thresholds") or {})
        tun = {k: settings[k] for k in TUNABLES if settings.get(k) is not None}
        return SnmpProfile(
            name=self.name,
            description=self.description,
            checks=self.checks,
            sections=self.sections,
            thresholds=thresholds,
            timeout_s=float(tun.get("timeout_s", self.timeout_s)),
            retries=int(tun.get("retries", self.retries)),
            max_repetitions=int(tun.get("max_repetitions", self.max_repetitions)),
            max_rows=int(tun.get("max_rows", self.max_rows)),
            deadline_s=float(tun.get("deadline_s", self.deadline_s)),
        )


def default_dir() -> DataDir:
    """``probes/snmp`` of the data folder (local over shipped)."""
    return data_folder(Settings().data_dir).area("probes").sub("snmp")


def _schema_path(layers: DataDir) -> Path:
    for root in layers.roots:
        candidate = root.parent / "schema" / SCHEMA_FILE
        if candidate.is_file():
            return candidate
    return shipped_schema("probes", SCHEMA_FILE)


class ProfileSet:
    """Every profile file of one folder, validated on load."""

    def __init__(self, directory: Path | DataDir) -> None:
        self.directory = directory
        layers = as_data_dir(directory)
        schema_path = _schema_path(layers)
        try:
            schema = json.loads(schema_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"SNMP profile schema {schema_path} cannot be read: {exc}") from exc
        self._validator = validator(schema)
        self._raw: dict[str, dict[str, Any]] = {}
        files = layers.files("", "*.yaml")
        if not files:
            raise ConfigError(f"no SNMP profiles (*.yaml) in {layers.where()}")
        problems = [issue for path in files for issue in self._load(path)]
        if problems:
            raise config_error("invalid SNMP profile(s)", problems)

    def _load(self, path: Path) -> list[Issue]:
        doc, issues = check_doc(path, self._validator)
        if issues or doc is None:
            return issues
        name = str(doc.data["name"])
        if name != path.stem:
            return [doc.issue(("name",), f"name '{name}' must match the file name '{path.stem}'")]
        self._raw[name] = doc.data
        return []

    def names(self) -> list[str]:
        """Profile names, sorted."""
        return sorted(self._raw)

    def _resolved(self, name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        if name in seen:
            raise ConfigError(f"SNMP profiles extend in a loop: {' -> '.join((*seen, name))}")
        raw = self._raw.get(name)
        if raw is None:
            raise ConfigError(
                f"unknown SNMP profile '{name}' (have: {', '.join(self.names())}) in {as_data_dir(self.directory).where()}"
            )
        parent = raw.get("extends")
        if not parent:
            return dict(raw)
        return merge(self._resolved(str(parent), (*seen, name)), raw)

    def get(self, name: str) -> SnmpProfile:
        """The resolved profile; a clear error when a check lacks its OID section."""
        data = self._resolved(name)
        checks = tuple(data.get("checks") or ("system",))
        for check in checks:
            module = CHECKS.get(check)
            if module is None:
                raise ConfigError(
                    f"SNMP profile '{name}' runs '{check}', which is not a check "
                    f"(have: {', '.join(CHECKS)})"
                )
            for needed in module.NEEDS:
                if not isinstance(data.get(needed), Mapping):
                    raise ConfigError(
                        f"SNMP profile '{name}' runs '{check}' but has no '{needed}' section"
                    )
        sections = {k: v for k, v in data.items() if k in SECTIONS}
        return SnmpProfile(
            name=name,
            description=str(data.get("description", "")),
            checks=checks,
            sections=sections,
            thresholds=data.get("thresholds") or {},
            timeout_s=float(data.get("timeout_s", 2.0)),
            retries=int(data.get("retries", 1)),
            max_repetitions=int(data.get("max_repetitions", 25)),
            max_rows=int(data.get("max_rows", 5000)),
            deadline_s=float(data.get("deadline_s", 15.0)),
        )


def load_profiles(directory: Path | DataDir | None = None) -> ProfileSet:
    """All profiles of ``directory`` (default ``probes/snmp`` of the data folder)."""
    return ProfileSet(directory or default_dir())
