"""One loader for YAML data files checked by a schema: every problem, located as file:line at path.

The seven loaders (spec, RFQ, probe kinds, overrides, SNMP profiles, SSH command sets, ONVIF
settings) all read through :mod:`kape_itops.schemadoc`, so each reports *every* schema problem of
a file, each with its line and its path in the document, and a YAML error with its line.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kape_itops.errors import ConfigError, ItopsError, ValidationFailed
from kape_itops.probes import profiles
from kape_itops.probes.onvif import settings as onvif
from kape_itops.probes.snmp import settings as snmp
from kape_itops.probes.ssh import settings as ssh
from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.spec import load_spec
from kape_itops.schemadoc import Doc, check_doc, config_error, load_checked, validator

REPO = Path(__file__).resolve().parents[2]

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "items"],
    "properties": {
        "name": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"size": {"type": "integer", "minimum": 1}},
            },
        },
    },
}


def test_every_problem_is_located_and_reported_at_once(tmp_path: Path) -> None:
    f = tmp_path / "doc.yaml"
    f.write_text("name: 7\nitems:\n  - size: 2\n  - size: 0\ncolour: blue\n")
    with pytest.raises(ValidationFailed) as err:
        load_checked(f, validator(SCHEMA), "sample")
    shown = [str(i) for i in err.value.issues]
    assert shown == [
        f"{f}:1 at (document): Additional properties are not allowed ('colour' was unexpected)",
        f"{f}:4 at items[1].size: 0 is less than the minimum of 1 (value '0')",
        f"{f}:1 at name: 7 is not of type 'string' (value '7')",
    ]
    assert str(err.value) == f"{f}: not a usable sample: 3 error(s)"


def test_a_problem_of_meaning_is_located_like_a_schema_error(tmp_path: Path) -> None:
    f = tmp_path / "doc.yaml"
    f.write_text("name: a\nitems:\n  - size: 2\n  - size: 3\n")
    doc = load_checked(f, validator(SCHEMA))
    assert doc.data["items"][1] == {"size": 3}
    assert str(doc.issue(("items", 1, "size"), "too big", 3)) == (
        f"{f}:4 at items[1].size: too big (value '3')"
    )
    # a key the document lacks is placed at its nearest parent's line
    assert str(doc.issue(("items", 1, "colour"), "missing")) == (
        f"{f}:4 at items[1].colour: missing"
    )


def test_unreadable_and_broken_files_are_issues_not_crashes(tmp_path: Path) -> None:
    check = validator(SCHEMA)
    doc, issues = check_doc(tmp_path / "absent.yaml", check)
    assert doc is None and [i.reason for i in issues] == ["cannot read: No such file or directory"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: a\nitems: [unclosed\n")
    doc, issues = check_doc(broken, check)
    assert doc is None and re.fullmatch(
        rf"{re.escape(str(broken))}:\d+: not valid YAML: .+", str(issues[0])
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: \u00e9l\u00e8ve\n".encode("latin-1"))
    doc, issues = check_doc(latin, check)
    assert doc is None and "not UTF-8 text: byte 0xe9 at line 1" in str(issues[0])


def test_empty_and_prepare(tmp_path: Path) -> None:
    f = tmp_path / "empty.yaml"
    f.write_text("# nothing yet\n")
    doc, issues = check_doc(f, validator({"type": "object"}), empty={})
    assert doc is not None and doc.data == {} and issues == []
    g = tmp_path / "when.yaml"
    g.write_text("when: 2026-11-05\n")
    dated = {"type": "object", "properties": {"when": {"type": "string"}}}
    assert check_doc(g, validator(dated))[1], "a YAML date is not text"
    doc, issues = check_doc(g, validator(dated), prepare=lambda d: {"when": str(d["when"])})
    assert issues == [] and isinstance(doc, Doc) and doc.data == {"when": "2026-11-05"}


def test_config_error_lists_every_issue(tmp_path: Path) -> None:
    f = tmp_path / "doc.yaml"
    f.write_text("items: []\nname: [x]\n")
    _, issues = check_doc(f, validator(SCHEMA))
    err = config_error("invalid things", issues)
    assert isinstance(err, ConfigError)
    assert str(err) == (f"invalid things:\n  {f}:2 at name: ['x'] is not of type 'string'")


def _probes(tmp_path: Path) -> Path:
    dest = tmp_path / "probes"
    shutil.copytree(REPO / "probes", dest)
    return dest


Case = tuple[str, str, Callable[[Path], object]]
"""(file to write, its content, the load) per loader: the content breaks two schema rules."""


def _cases(tmp_path: Path) -> dict[str, Case]:
    probes = _probes(tmp_path)
    return {
        "kind": (
            "probes/kinds/camera.yaml",
            "kind: camera\nprobes: [ping, ping]\ncolour: blue\n",
            lambda p: profiles.load_profiles(probes),
        ),
        "overrides": (
            "probes/overrides.yaml",
            "schools:\n  KPT-PSP:\n    ping: {thresholds: {loss_pct: {warn: ten}}}\n    mood: x\n",
            lambda p: profiles.load_profiles(probes),
        ),
        "snmp": (
            "probes/snmp/hostile.yaml",
            "name: hostile\ndescription: x\nchecks: [toner]\nsystem: {sys_name: sysName.0}\n",
            lambda p: snmp.load_profiles(probes / "snmp"),
        ),
        "ssh": (
            "probes/ssh/cisco_ios.yaml",
            "platform: cisco_ios\ndevice_type: cisco_ios\ncolour: blue\nchecks:\n"
            "  - {name: v, command: show version, parser: magic, reads: version}\n",
            lambda p: ssh.load_command_sets(probes),
        ),
        "onvif": (
            "probes/onvif.yaml",
            "defaults:\n  rtsp_port: 70000\n  colour: blue\n",
            lambda p: onvif.load_profile(p),
        ),
        "spec": (
            "laptop.yaml",
            "id: laptop\nversion: '1'\ncategory: laptop\ntitle: t\ncolour: blue\nrequirements:\n"
            "  - {id: r1, label: RAM, attribute: ram, operator: '>>', level: mandatory}\n",
            load_spec,
        ),
        "rfq": (
            "rfq.yaml",
            "rfq: X\ntitle: t\nspec: laptop\ncolour: blue\nlots:\n"
            "  - {id: '1', lines: [{item: A, quantity: -1}]}\n",
            load_rfq,
        ),
    }


EXPECTED = {
    "kind": ("1 at (document)", "2 at probes"),
    "overrides": ("3 at schools.KPT-PSP", "3 at schools.KPT-PSP.ping.thresholds.loss_pct.warn"),
    "snmp": ("3 at checks[0]", "4 at system.sys_name"),
    "ssh": ("1 at (document)", "5 at checks[0].parser"),
    "onvif": ("2 at defaults", "2 at defaults.rtsp_port"),
    "spec": ("1 at (document)", "7 at requirements[0].operator"),
    "rfq": ("1 at (document)", "6 at lots[0].lines[0].quantity"),
}


def _text(exc: ItopsError) -> str:
    text = str(exc)
    if isinstance(exc, ValidationFailed):
        text += "\n" + "\n".join(str(i) for i in exc.issues)
    return text


@pytest.mark.parametrize("loader", sorted(EXPECTED))
def test_every_loader_reports_every_schema_problem_with_line_and_path(
    tmp_path: Path, loader: str
) -> None:
    name, content, load = _cases(tmp_path)[loader]
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ItopsError) as err:
        load(path)
    text = _text(err.value)
    for where in EXPECTED[loader]:
        assert f"{path}:{where}: " in text, text


@pytest.mark.parametrize("loader", sorted(EXPECTED))
def test_every_loader_names_the_line_of_a_yaml_error(tmp_path: Path, loader: str) -> None:
    name, _, load = _cases(tmp_path)[loader]
    path = tmp_path / name
    path.write_text("a: 1\nb: [unclosed\n")
    with pytest.raises(ItopsError) as err:
        load(path)
    assert re.search(rf"{re.escape(str(path))}:\d+: not valid YAML: ", _text(err.value))
