"""The secrets file: mode check, format errors, secrets never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kape_itops.errors import SecretsError
from kape_itops.probes import catalog
from kape_itops.secrets import Secret, SecretStore, env_secret

GOOD = """
[school-default.snmp]
version = "2c"
community = "n0t-public"

[school-default.ssh]
username = "admin"
password = "hunter2"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "secrets.toml"
    p.write_text(text, encoding="utf-8")
    os.chmod(p, mode)
    return p


def test_loads_entries_and_hides_values(tmp_path: Path) -> None:
    store = SecretStore.load(write(tmp_path, GOOD))
    cred = store.credential("school-default", "snmp")
    assert cred.get("version") == "2c"
    community = cred.secret("community")
    assert community is not None and community.reveal() == "n0t-public"
    for shown in (
        str(community),
        repr(community),
        repr(cred),
        str(store.credential("school-default", "ssh")),
    ):
        assert "n0t-public" not in shown and "hunter2" not in shown
    assert store.names() == ["school-default"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_refuses_files_readable_by_others(tmp_path: Path, mode: int) -> None:
    p = write(tmp_path, GOOD, mode)
    with pytest.raises(SecretsError, match=r"chmod 600"):
        SecretStore.load(p)


def test_missing_file_and_entries_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SecretsError, match="does not exist"):
        SecretStore.load(tmp_path / "nope.toml")
    store = SecretStore.load(write(tmp_path, GOOD))
    with pytest.raises(SecretsError, match="'cameras' is not defined"):
        store.credential("cameras", "onvif")
    with pytest.raises(SecretsError, match=r"no \[school-default.onvif\] part"):
        store.credential("school-default", "onvif")
    with pytest.raises(SecretsError, match="no secrets file given"):
        SecretStore.empty().credential("x", "snmp")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a.snmp\nversion=1", "not valid TOML"),
        ("a = 1", "must be a table"),
        ("[a.telnet]\nuser='x'", "unknown part 'telnet'"),
        ("[a.snmp]\ncommunity = [1, 2]", "must be a string"),
    ],
)
def test_bad_content_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SecretsError, match=message):
        SecretStore.load(write(tmp_path, text), protocols=catalog.secret_protocols())


def test_secret_parts_are_the_catalogs_protocols(tmp_path: Path) -> None:
    """The parts an entry may have come from the probe kinds' declarations, nowhere else."""
    assert set(catalog.secret_protocols()) == {"snmp", "onvif", "ssh"}
    path = write(tmp_path, "[a.snmp]\ncommunity='x'\n[a.ssh]\nuser='u'\n[a.onvif]\nuser='u'")
    store = SecretStore.load(path, protocols=catalog.secret_protocols())
    assert store.names() == ["a"]
    with pytest.raises(SecretsError, match="expected one of snmp, onvif, ssh"):
        SecretStore.load(write(tmp_path, "[a.http]\nuser='x'"), protocols=catalog.secret_protocols())


def test_non_utf8_file(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_bytes(b"[a.snmp]\ncommunity = '\xff'\n")
    os.chmod(p, 0o600)
    with pytest.raises(SecretsError, match="is not UTF-8 text"):
        SecretStore.load(p)


def test_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITOPS_TEST_SECRET", "abc")
    assert env_secret("ITOPS_TEST_SECRET") == Secret("abc")
    monkeypatch.setenv("ITOPS_TEST_SECRET", "")
    assert env_secret("ITOPS_TEST_SECRET") is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_refuses_a_file_another_user_owns(tmp_path: Path) -> None:
    import pwd

    p = write(tmp_path, GOOD)
    nobody = pwd.getpwnam("nobody")
    os.chown(p, nobody.pw_uid, nobody.pw_gid)
    with pytest.raises(SecretsError, match=r"belongs to nobody, who could change it.*chown root"):
        SecretStore.load(p)
    os.chown(p, 0, 0)
    assert SecretStore.load(p).names() == ["school-default"]


@pytest.mark.timeout(20)
def test_refuses_a_fifo_without_waiting_for_a_writer(tmp_path: Path) -> None:
    p = tmp_path / "secrets.toml"
    os.mkfifo(p, 0o600)
    with pytest.raises(SecretsError, match="is not a regular file"):
        SecretStore.load(p)
    with pytest.raises(SecretsError, match="is not a regular file"):
        SecretStore.load(tmp_path)


def test_a_link_to_a_good_file_is_read(tmp_path: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(write(tmp_path, GOOD))
    assert SecretStore.load(link).names() == ["school-default"]


def test_hostile_toml_is_refused_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretsError, match="nested too deeply"):
        SecretStore.load(write(tmp_path, "a = " + "[" * 100_000))
    monkeypatch.setenv("ITOPS_MAX_FILE_MB", "1")
    big = write(tmp_path, "# " + "x" * (1024 * 1024) + "\n" + GOOD)
    with pytest.raises(SecretsError, match=r"too large .*ITOPS_MAX_FILE_MB"):
        SecretStore.load(big)
