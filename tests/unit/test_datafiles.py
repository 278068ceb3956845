"""Data folders: shipped defaults in the package, a local folder overriding them file by file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.datafiles import AREAS, DataDir, copy_defaults, data_folder, shipped_root
from kape_itops.domain.enums import DeviceKind
from kape_itops.errors import UsageError
from kape_itops.probes.profiles import load_profiles
from kape_itops.probes.snmp.settings import load_profiles as load_snmp_profiles
from kape_itops.probes.ssh.settings import load_command_sets
from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.service import find_spec

REPO = Path(__file__).resolve().parents[2]


def test_shipped_defaults_are_the_repository_folders() -> None:
    root = shipped_root()
    for area in AREAS:
        shipped = sorted(p.relative_to(root / area) for p in (root / area).rglob("*.yaml"))
        in_repo = sorted(p.relative_to(REPO / area) for p in (REPO / area).rglob("*.yaml"))
        assert shipped == in_repo, area
    assert (root / "specs" / "cpus.csv").read_bytes() == (REPO / "specs" / "cpus.csv").read_bytes()


def test_no_local_folder_reads_shipped_only(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    assert folder.local is None
    assert folder.area("probes").roots == (shipped_root() / "probes",)
    assert "no local data folder" in folder.describe()
    profiles = load_profiles(folder.area("probes"))
    assert DeviceKind.CAMERA in profiles.kinds


def test_local_file_overrides_shipped_file_by_file(tmp_path: Path) -> None:
    kinds = tmp_path / "probes" / "kinds"
    kinds.mkdir(parents=True)
    camera = (shipped_root() / "probes" / "kinds" / "camera.yaml").read_text("utf-8")
    assert "onvif" in camera
    laptop = (shipped_root() / "probes" / "kinds" / "laptop.yaml").read_text("utf-8")
    local = laptop.replace("kind: laptop", "kind: camera").replace(
        "description: ", "description: local "
    )
    (kinds / "camera.yaml").write_text(local, "utf-8")
    folder = data_folder(tmp_path)
    assert folder.local == tmp_path
    assert folder.origin("probes/kinds/camera.yaml") == "local"
    assert folder.origin("probes/kinds/printer.yaml") == "shipped"
    profiles = load_profiles(folder.area("probes"))
    assert profiles.kinds[DeviceKind.CAMERA].probes == ("ping",)
    assert profiles.kinds[DeviceKind.CAMERA].description.startswith("local ")
    # every other kind still comes from the shipped defaults
    assert "snmp" in profiles.kinds[DeviceKind.PRINTER].probes
    # the other loaders read through the same layers
    assert "printer" in load_snmp_profiles(folder.area("probes").sub("snmp")).names()
    assert load_command_sets(folder.area("probes")).find("cisco_ios") is not None


def test_local_error_names_the_local_file(tmp_path: Path) -> None:
    kinds = tmp_path / "probes" / "kinds"
    kinds.mkdir(parents=True)
    (kinds / "camera.yaml").write_text("kind: camera\nprobes: [telepathy]\n", "utf-8")
    with pytest.raises(Exception, match=str(kinds / "camera.yaml")):
        load_profiles(data_folder(tmp_path).area("probes"))


def test_explicit_folder_is_taken_alone(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no kinds"):
        load_profiles(tmp_path / "probes")
    assert DataDir((tmp_path,)).files("kinds", "*.yaml") == []


def test_spec_by_id_or_path(tmp_path: Path) -> None:
    specs = data_folder(tmp_path).area("specs")
    assert find_spec("laptop", specs) == shipped_root() / "specs" / "laptop.yaml"
    assert find_spec(REPO / "specs" / "ups.yaml", specs) == REPO / "specs" / "ups.yaml"
    with pytest.raises(UsageError, match=r"no spec with id 'laptopp'.*have: camera"):
        find_spec("laptopp", specs)
    with pytest.raises(UsageError, match="no such spec file"):
        find_spec("nowhere/laptop.yaml", specs)
    local = tmp_path / "specs"
    local.mkdir()
    (local / "laptop.yaml").write_text("x", "utf-8")
    assert find_spec("laptop", data_folder(tmp_path).area("specs")) == local / "laptop.yaml"


def test_cpu_table_hash_is_of_the_file_read(tmp_path: Path) -> None:
    table = CpuTable.load()
    import hashlib

    expected = hashlib.sha256((shipped_root() / "specs" / "cpus.csv").read_bytes()).hexdigest()
    assert table.sha256 == expected


def test_copy_defaults_keeps_existing_files(tmp_path: Path) -> None:
    target = tmp_path / "data"
    written, kept = copy_defaults(target)
    assert kept == [] and Path("probes/kinds/camera.yaml") in written
    assert not list(target.rglob("*.py"))
    (target / "probes" / "kinds" / "camera.yaml").write_text("mine", "utf-8")
    written2, kept2 = copy_defaults(target)
    assert written2 == [] and len(kept2) == len(written)
    assert (target / "probes" / "kinds" / "camera.yaml").read_text("utf-8") == "mine"
    copy_defaults(target, overwrite=True)
    assert (target / "probes" / "kinds" / "camera.yaml").read_text("utf-8") != "mine"
    (tmp_path / "file").write_text("x", "utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        copy_defaults(tmp_path / "file")


def test_data_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ITOPS_DATA", raising=False)
    runner = CliRunner()
    res = runner.invoke(cli, ["data", "where", "--json", "probes/onvif.yaml", "specs/nope.yaml"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["local"] is None
    assert doc["files"][0]["origin"] == "shipped" and doc["files"][1]["path"] is None
    res = runner.invoke(cli, ["data", "init", "mine"])
    assert res.exit_code == 0, res.output
    monkeypatch.setenv("ITOPS_DATA", str(tmp_path / "mine"))
    res = runner.invoke(cli, ["data", "where", "--json", "probes/onvif.yaml"])
    doc = json.loads(res.output)
    assert doc["local"] == str((tmp_path / "mine").resolve())
    assert doc["files"][0]["origin"] == "local"
