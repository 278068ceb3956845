"""The registry's built-in kinds and the kind-profile schema follow the catalog of probe kinds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from kape_itops.domain.results import ProbeResult
from kape_itops.probes import catalog
from kape_itops.probes.base import Probe, ProbeContext, Target
from kape_itops.probes.kind import ProbeKindSpec
from kape_itops.probes.registry import ProbeRegistry, builtin

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "probes" / "schema" / "kind.schema.json").read_text("utf-8"))
_NOT_PROBES = {"kind", "description", "probes", "deadline_s"}


class EchoProbe:
    """A probe kind known only to a test catalog."""

    name = "echo"

    async def start(self, ctx: ProbeContext) -> None:
        pass

    async def check(self, target: Target) -> ProbeResult:
        raise NotImplementedError

    async def stop(self) -> None:
        pass


ECHO = ProbeKindSpec(name="echo", probe_class=f"{__name__}:EchoProbe")


def test_builtin_kinds_are_the_catalog() -> None:
    assert builtin() == {k.name: k.probe_class for k in catalog.KINDS}
    assert ProbeRegistry.default({}).names == sorted(catalog.names())


def test_a_kind_added_to_the_catalog_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "KINDS", (*catalog.KINDS, ECHO))
    reg = ProbeRegistry.default({})
    assert "echo" in reg.names
    assert isinstance(reg.create("echo"), EchoProbe)
    assert "echo" in ProbeRegistry().names


def test_itops_probes_adds_and_replaces_catalog_kinds() -> None:
    echo = f"{__name__}:EchoProbe"
    reg = ProbeRegistry.default({"ITOPS_PROBES": f"ping={echo},extra={echo}"})
    assert reg.paths["ping"] == echo
    assert reg.paths["extra"] == echo
    assert reg.paths["snmp"] == builtin()["snmp"]
    assert isinstance(reg.create("ping"), EchoProbe)


@pytest.mark.parametrize("name", catalog.names())
def test_every_catalog_kind_can_be_created(name: str) -> None:
    probe = ProbeRegistry.default({}).create(name)
    assert isinstance(probe, Probe)
    assert probe.name == name


def test_kind_schema_probe_names_follow_the_catalog() -> None:
    """Every catalog kind may be listed and has a settings section; no section is for no kind."""
    names = set(catalog.names())
    probe_name = SCHEMA["$defs"]["probe_name"]
    allowed = probe_name.get("enum")
    if allowed is not None:
        assert set(allowed) == names
    for name in names:
        assert re.fullmatch(probe_name["pattern"], name), name
    sections = set(SCHEMA["properties"]) - _NOT_PROBES
    assert sections == names


def test_shipped_kind_profiles_list_only_catalog_kinds() -> None:
    for path in sorted((REPO / "probes" / "kinds").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        assert set(doc["probes"]) <= set(catalog.names()), path.name
