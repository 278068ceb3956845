"""The SNMP checks table: one module per check, the schema's enum, sections and kept metrics
all read from it; a profile section a check needs is required by the table, not by a list."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from kape_itops.errors import ConfigError
from kape_itops.probes.snmp.checks import CHECKS, FIRST, SECTIONS
from kape_itops.probes.snmp.checks.base import Answer, Context, Outcome
from kape_itops.probes.snmp.kind import KIND
from kape_itops.probes.snmp.settings import load_profiles

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "probes" / "schema" / "snmp.schema.json").read_text())


def test_the_schemas_check_enum_is_the_table() -> None:
    assert SCHEMA["properties"]["checks"]["items"]["enum"] == list(CHECKS)


def test_every_section_a_check_needs_is_in_the_schema_and_in_base() -> None:
    base = load_profiles(REPO / "probes" / "snmp").get("base")
    for name, check in CHECKS.items():
        assert check.NEEDS, name
        for section in check.NEEDS:
            assert SCHEMA["properties"][section]["type"] == "object", (name, section)
            assert base.section(section), (name, section)
    assert {"system", "ups"} <= SECTIONS


def test_the_kind_keeps_exactly_the_metrics_the_checks_declare() -> None:
    declared = frozenset().union(*(check.KEPT for check in CHECKS.values()))
    assert declared == KIND.kept_metrics
    assert "ups_charge_pct" in KIND.kept_metrics


def test_system_comes_first_and_every_check_is_a_module_of_the_package() -> None:
    assert next(iter(CHECKS)) == FIRST
    for name, check in CHECKS.items():
        assert check.__name__ == f"kape_itops.probes.snmp.checks.{name}"  # type: ignore[attr-defined]


def test_asks_are_keyed_by_table_and_column() -> None:
    profile = load_profiles(REPO / "probes" / "snmp").get("base")
    ctx = Context(profile.sections, profile.thresholds, now=dt.datetime.now(dt.UTC))
    ups = CHECKS["ups"].ask(ctx, {})
    assert ups.get["charge_pct"] == "1.3.6.1.2.1.33.1.2.4.0"
    assert ups.walk == {"alarms.descr": "1.3.6.1.2.1.33.1.6.2.1.2"}
    printer = CHECKS["printer"].ask(ctx, {})
    assert printer.walk["page_count.value"] == "1.3.6.1.2.1.43.10.2.1.4"
    assert CHECKS["clients"].ask(ctx, {"sys_object_id": "1.3.6.1.4.1.99"}).walk == {}
    out = Outcome()
    CHECKS["cpu"].judge(ctx, Answer(), out)  # an agent without processors: nothing to say
    assert out.findings == []


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "schema").mkdir()
    shutil.copy(REPO / "probes" / "schema" / "snmp.schema.json", tmp_path / "schema")
    (tmp_path / "snmp").mkdir()
    return tmp_path / "snmp"


def test_the_ups_check_without_its_section_is_refused(folder: Path) -> None:
    (folder / "lone.yaml").write_text(
        "name: lone\ndescription: x\nchecks: [system, ups]\nsystem: {sys_uptime: 1.3.6.1.2.1.1.3.0}\n"
    )
    with pytest.raises(ConfigError, match="runs 'ups' but has no 'ups' section"):
        load_profiles(folder).get("lone")


def test_a_check_the_table_lacks_is_refused_even_if_a_local_schema_allows_it(
    folder: Path,
) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["checks"]["items"]["enum"].append("toner")
    (folder.parent / "schema" / "snmp.schema.json").write_text(json.dumps(schema))
    (folder / "odd.yaml").write_text(
        "name: odd\ndescription: x\nchecks: [system, toner]\nsystem: {sys_uptime: 1.3.6.1.2.1.1.3.0}\n"
    )
    with pytest.raises(ConfigError, match="runs 'toner', which is not a check"):
        load_profiles(folder).get("odd")
