"""Every YAML loader refuses the hostile corpus (tests/hostile/yaml_docs.py) with one clear line.

The loaders: spec templates, RFQs, probe kinds and overrides, SNMP profiles, SSH command sets,
ONVIF settings. All go through :mod:`kape_itops.yamlsafe`; a refusal must come fast (the
corpus expands to billions of values or loops forever when read naively).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.errors import ItopsError, ValidationFailed
from kape_itops.limits import Limits
from kape_itops.probes import profiles
from kape_itops.probes.onvif import settings as onvif
from kape_itops.probes.snmp import settings as snmp_profiles
from kape_itops.probes.ssh import settings as ssh_commands
from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.spec import load_spec
from kape_itops.yamlsafe import YamlRefused, load_yaml, load_yaml_text
from tests.hostile.bounded import run_itops
from tests.hostile.yaml_docs import DOCS, laughs

REPO = Path(__file__).resolve().parents[2]
SECONDS = 5.0


def _probes(tmp_path: Path) -> Path:
    dest = tmp_path / "probes"
    shutil.copytree(REPO / "probes", dest)
    return dest


def _kind(tmp_path: Path, data: bytes) -> Callable[[], object]:
    folder = _probes(tmp_path)
    (folder / "kinds" / "laptop.yaml").write_bytes(data)
    return lambda: profiles.load_profiles(folder)


def _overrides(tmp_path: Path, data: bytes) -> Callable[[], object]:
    folder = _probes(tmp_path)
    (folder / "overrides.yaml").write_bytes(data)
    return lambda: profiles.load_profiles(folder)


def _snmp(tmp_path: Path, data: bytes) -> Callable[[], object]:
    folder = _probes(tmp_path)
    (folder / "snmp" / "hostile.yaml").write_bytes(data)
    return lambda: snmp_profiles.load_profiles(folder / "snmp")


def _ssh(tmp_path: Path, data: bytes) -> Callable[[], object]:
    folder = _probes(tmp_path)
    (folder / "ssh" / "cisco_ios.yaml").write_bytes(data)
    return lambda: ssh_commands.load_command_sets(folder)


def _onvif(tmp_path: Path, data: bytes) -> Callable[[], object]:
    folder = _probes(tmp_path)
    (folder / "onvif.yaml").write_bytes(data)
    return lambda: onvif.load_profile(folder / "onvif.yaml")


def _spec(tmp_path: Path, data: bytes) -> Callable[[], object]:
    path = tmp_path / "laptop.yaml"
    path.write_bytes(data)
    return lambda: load_spec(path)


def _rfq(tmp_path: Path, data: bytes) -> Callable[[], object]:
    path = tmp_path / "rfq.yaml"
    path.write_bytes(data)
    return lambda: load_rfq(path)


LOADERS: dict[str, Callable[[Path, bytes], Callable[[], object]]] = {
    "kind": _kind,
    "overrides": _overrides,
    "snmp": _snmp,
    "ssh": _ssh,
    "onvif": _onvif,
    "spec": _spec,
    "rfq": _rfq,
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_loader_refuses_every_hostile_document(tmp_path: Path, loader: str, doc: str) -> None:
    data, words = DOCS[doc]
    load = LOADERS[loader](tmp_path, data)
    started = time.monotonic()
    with pytest.raises(ItopsError) as info:
        load()
    assert time.monotonic() - started < SECONDS
    text = str(info.value)
    if isinstance(info.value, ValidationFailed):
        text += "\n" + "\n".join(str(i) for i in info.value.issues)
    line = next((x for x in text.splitlines() if words in x), None)
    assert line is not None, text[:2000]
    assert len(line) < 300 and "Traceback" not in text


def test_the_safe_loader_still_reads_ordinary_yaml() -> None:
    doc = "base: &b {warn: 1, crit: 2}\nprinter: {<<: *b, crit: 3}\nlist: [*b, *b]\nwhen: 2024-01-02\n"
    data, node = load_yaml_text(doc)
    assert data["printer"] == {"warn": 1, "crit": 3}
    assert data["list"] == [{"warn": 1, "crit": 2}] * 2
    assert node is not None and node.start_mark.line == 0


def test_limits_can_be_raised(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(laughs(levels=4, width=9))  # 9^4 = 6561 values: fine by default
    assert len(load_yaml(path)["d"]) == 9
    with pytest.raises(YamlRefused, match="ITOPS_MAX_YAML_NODES"):
        load_yaml(path, Limits(max_yaml_nodes=1000))
    with pytest.raises(YamlRefused, match="more than 5 aliases"):
        load_yaml(path, Limits(max_yaml_aliases=5))
    with pytest.raises(YamlRefused, match="nested deeper than 1 levels"):
        load_yaml(path, Limits(max_depth=1))


def test_every_shipped_yaml_file_loads() -> None:
    files = [p for p in REPO.rglob("*.yaml") if ".venv" not in p.parts and ".git" not in p.parts]
    assert len(files) > 20
    for path in files:
        load_yaml(path)


def test_spec_check_cli_refuses_the_laughs_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "laptop.yaml"
    path.write_bytes(laughs())
    run = run_itops(["spec", "check", str(path)], timeout=60)
    assert run.code == 1 and "Traceback" not in run.stderr
    assert "values through its aliases" in run.stderr + run.stdout
    assert run.peak_mib < 300 and run.seconds < 30


def test_spec_check_cli_names_a_latin1_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "laptop.yaml"
    path.write_bytes("id: laptop\ntitle: Ordinateur portable \u00e9l\u00e8ve\n".encode("latin-1"))
    result = runner.invoke(cli, ["spec", "check", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8 text: byte 0xe9 at line 2" in result.output + result.stderr
