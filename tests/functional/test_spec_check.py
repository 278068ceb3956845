"""Spec templates: every shipped file validates; bad specs name file, line, path and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.errors import ValidationFailed
from kape_itops.quotes.spec import load_spec, spec_schema

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
GOOD = """\
id: mini
version: "1"
category: laptop
title: Mini
requirements:
  - id: ram
    label: Memory
    attribute: ram
    operator: ">="
    value: 8
    unit: GB
    level: mandatory
  - id: ssd
    label: Storage
    attribute: storage
    operator: ">="
    value: 256
    unit: GB
    level: desirable
    weight: 10
"""


def test_every_shipped_spec_loads_and_every_category_is_covered() -> None:
    files = sorted(SPECS.glob("*.yaml"))
    specs = [load_spec(f) for f in files]
    assert {s.category for s in specs} == {
        "laptop",
        "desktop",
        "tablet",
        "printer",
        "hotspot",
        "switch",
        "camera",
        "nvr",
        "ups",
    }
    assert len({s.id for s in specs}) == len(specs)
    for s in specs:
        assert any(r.mandatory for r in s.requirements), s.id
        assert s.total_weight > 0 or any(r.money_value for r in s.requirements), s.id


def test_schema_copy_in_specs_matches_the_package() -> None:
    assert json.loads((SPECS / "schema.json").read_text()) == spec_schema()


def test_cli_spec_check_ok(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["spec", "check", str(SPECS)])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == 9


def test_cli_spec_check_json(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["spec", "check", str(SPECS), "--json"])
    doc = json.loads(result.output)
    assert (result.exit_code, doc["ok"], len(doc["files"])) == (0, True, 9)
    bad = write(tmp_path, GOOD.replace("unit: GB\n", "unit: GBX\n", 1))
    result = runner.invoke(cli, ["spec", "check", str(bad), "--json"])
    doc = json.loads(result.stdout)
    assert (result.exit_code, doc["ok"], doc["files"][0]["ok"]) == (1, False, False)
    issue = doc["files"][0]["issues"][0]
    assert issue["reason"] == "unknown unit 'GBX'" and "GBX" in issue["message"]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "unit: GB\n    level: mandatory",
            "unit: GBX\n    level: mandatory",
            ":11 at requirements[0].unit: unknown unit 'GBX'",
        ),
        (
            'operator: ">="\n    value: 8',
            'operator: "=>"\n    value: 8',
            ":9 at requirements[0].operator: unknown operator '=>'",
        ),
        (
            "weight: 10",
            "note: no weight",
            "at requirements[1]: a desirable requirement needs a weight",
        ),
        (
            "level: mandatory",
            "level: mandatory\n    weight: 3",
            "at requirements[0]: a mandatory requirement is pass/fail",
        ),
        ("value: 8\n", "value: lots\n", "at requirements[0].value: 'lots': no data value found"),
        ("id: ssd", "id: ram", "at requirements[1].id: duplicate requirement id"),
        ("category: laptop", "category: toaster", "at category: 'toaster' is not one of"),
    ],
)
def test_bad_spec_messages(
    tmp_path: Path, runner: CliRunner, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ValidationFailed) as err:
        load_spec(path)
    assert any(expected in str(i) for i in err.value.issues), [str(i) for i in err.value.issues]
    assert all(str(i).startswith(str(path)) for i in err.value.issues)
    result = runner.invoke(cli, ["spec", "check", str(path)])
    assert result.exit_code == 1
    assert expected in result.output


def test_reference_cpu_must_be_in_the_table(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - id: ssd",
        '  - id: cpu\n    label: CPU\n    attribute: cpu\n    type: cpu\n    operator: ">="\n'
        "    value: Core i5 or equivalent\n    level: mandatory\n  - id: ssd",
    )
    with pytest.raises(ValidationFailed) as err:
        load_spec(write(tmp_path, text))
    assert "reference CPU" in str(err.value.issues[0])
    assert "requirements[1].value" in str(err.value.issues[0])


def test_not_yaml(tmp_path: Path, runner: CliRunner) -> None:
    path = write(tmp_path, "id: [unclosed\n")
    result = runner.invoke(cli, ["spec", "check", str(path)])
    assert result.exit_code == 1
    assert "not valid YAML" in result.output
