"""The lab's secrets file: 0600, loadable, one entry per referenced credential name."""

from __future__ import annotations

import stat
from pathlib import Path

from kape_itops.lab.credentials import write_lab_secrets
from kape_itops.secrets import SecretStore


def test_lab_secrets_file_is_private_and_complete(tmp_path: Path) -> None:
    (tmp_path / "secrets.toml").write_text("stale")
    path = write_lab_secrets(tmp_path, {"school-default", "cameras", "odd name"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store = SecretStore.load(path)
    assert store.names() == ["cameras", "lab", "odd name", "school-default"]
    for name in store.names():
        for protocol in ("snmp", "ssh", "onvif"):
            store.credential(name, protocol)
    ssh = store.credential("school-default", "ssh")
    assert ssh.get("username") == "itops" and ssh.secret("password") is not None
    assert store.credential("cameras", "onvif").get("username") == "admin"
    assert "stale" not in path.read_text()
