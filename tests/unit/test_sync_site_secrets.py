"""The ``[server.sync]`` section of the secrets file: written atomically, 0600, rest kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kape_itops.errors import SecretsError
from kape_itops.probes import catalog
from kape_itops.secrets import (
    Secret,
    SecretStore,
    SyncSecrets,
    read_sync_section,
    write_sync_section,
)

OTHER = """# site secrets, kept by hand
[school-default.snmp]
version = "2c"
community = "n0t-public"   # trailing comment

"""
AFTER = """
# alerts below
[alerts.telegram]
token = "123:abc"
chat_id = "-100"
"""


def section(**kw: str) -> SyncSecrets:
    values = {
        "url": "https://127.0.0.1:8443",
        "site": "0b9c6f1e-0000-4000-8000-000000000001",
        "school": "KEP-DCP",
        "credential": "cred-XYZ",
        "signing_key": "ab" * 32,
    }
    values.update(kw)
    return SyncSecrets(
        url=values["url"],
        site=values["site"],
        school=values["school"],
        credential=Secret(values["credential"]),
        signing_key=Secret(values["signing_key"]),
        cafile=values.get("cafile"),
    )


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "secrets.toml"
    p.write_text(text, encoding="utf-8")
    os.chmod(p, mode)
    return p


def test_a_new_file_is_created_0600(tmp_path: Path) -> None:
    p = tmp_path / "secrets.toml"
    assert not p.exists()
    write_sync_section(p, section(cafile="/etc/itops/server.pem"))
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    got = read_sync_section(p)
    assert got == section(cafile="/etc/itops/server.pem")


def test_other_content_is_kept_byte_for_byte(tmp_path: Path) -> None:
    p = _file(tmp_path, OTHER + AFTER, 0o400)
    write_sync_section(p, section())
    text = p.read_text(encoding="utf-8")
    assert text.startswith(OTHER + AFTER)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    first = text
    # replacing the section keeps what surrounds it exactly
    p.write_text(OTHER + first[len(OTHER + AFTER) :].lstrip("\n") + AFTER, encoding="utf-8")
    os.chmod(p, 0o600)
    before = p.read_text(encoding="utf-8")
    write_sync_section(p, section(credential="new-cred", school="KEP-PPS"))
    text = p.read_text(encoding="utf-8")
    assert text.startswith(OTHER) and text.endswith(AFTER)
    assert text.count("[server.sync]") == 1
    assert before != text
    got = read_sync_section(p)
    assert got is not None and got.credential.reveal() == "new-cred" and got.school == "KEP-PPS"
    store = SecretStore.load(p, protocols=catalog.secret_protocols())
    assert store.credential("school-default", "snmp").secret("community") == Secret("n0t-public")


def test_sync_secrets_are_secret_values(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    write_sync_section(p, section())
    part = SecretStore.load(p, protocols=catalog.secret_protocols()).credential("server", "sync")
    assert part.get("url") == "https://127.0.0.1:8443"
    assert part.get("credential") is None and part.secret("credential") == Secret("cred-XYZ")
    assert part.secret("signing_key") == Secret("ab" * 32)
    assert "cred-XYZ" not in repr(read_sync_section(p))


def test_awkward_values_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    odd = 'a"b\\c\nd\te\x7fក'
    write_sync_section(p, section(url=odd, credential=odd))
    got = read_sync_section(p)
    assert got is not None and got.url == odd and got.credential.reveal() == odd


def test_a_file_open_to_others_is_refused_and_unchanged(tmp_path: Path) -> None:
    p = _file(tmp_path, OTHER, 0o644)
    with pytest.raises(SecretsError, match="chmod 600"):
        write_sync_section(p, section())
    assert p.read_text(encoding="utf-8") == OTHER


@pytest.mark.parametrize(
    "text", ['[server]\nsync = { url = "x" }\n', 'server.sync.url = "x"\n', "[server.sync\n"]
)
def test_another_form_of_the_section_is_refused(tmp_path: Path, text: str) -> None:
    p = _file(tmp_path, text + OTHER)
    with pytest.raises(SecretsError):
        write_sync_section(p, section())
    assert p.read_text(encoding="utf-8") == text + OTHER


def test_no_section(tmp_path: Path) -> None:
    assert read_sync_section(_file(tmp_path, OTHER)) is None


def test_an_incomplete_section_says_join_again(tmp_path: Path) -> None:
    p = _file(tmp_path, '[server.sync]\nurl = "https://x"\n')
    with pytest.raises(SecretsError, match="join again"):
        read_sync_section(p)
