"""Known-hosts verification: known, unknown (refused or pinned), changed (always refused)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from kape_itops.probes.ssh.hostkeys import (
    HostKeyChanged,
    HostKeyUnknown,
    KnownHosts,
    default_path,
    fingerprint,
    host_pattern,
    parse_entries,
)

KEY_A = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + b"A" * 36).decode()
KEY_B = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + b"B" * 36).decode()


def test_host_pattern_follows_openssh() -> None:
    assert host_pattern("10.0.0.1", 22) == "10.0.0.1"
    assert host_pattern("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_parse_entries_plain_hashed_negated_and_comments() -> None:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, b"[127.0.0.1]:2200", hashlib.sha1).digest()
    hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
    text = (
        "# comment\n\n"
        f"[127.0.0.1]:2200,other ssh-ed25519 {KEY_A}\n"
        f"{hashed} ssh-rsa {KEY_B}\n"
        f"@revoked [127.0.0.1]:2200 ssh-ed25519 {KEY_B}\n"
        f"!*,[127.0.0.1]:2201 ssh-ed25519 {KEY_B}\n"
        "broken-line\n"
    )
    found = parse_entries(text, "127.0.0.1", 2200)
    assert [(k.key_type, k.line) for k in found] == [("ssh-ed25519", 3), ("ssh-rsa", 4)]
    assert parse_entries(text, "127.0.0.1", 22) == []


def test_unknown_key_is_refused_with_the_fingerprint(tmp_path: Path) -> None:
    kh = KnownHosts(tmp_path / "kh")
    with pytest.raises(HostKeyUnknown, match=r"not known .*SHA256:.*--trust-new"):
        kh.verify("127.0.0.1", 2200, "ssh-ed25519", KEY_A)
    assert not (tmp_path / "kh").exists()


def test_trust_new_pins_then_known(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "kh"
    assert KnownHosts(path, trust_new=True).verify("127.0.0.1", 2200, "ssh-ed25519", KEY_A) == (
        "pinned"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f"[127.0.0.1]:2200 ssh-ed25519 {KEY_A}\n"
    assert KnownHosts(path).verify("127.0.0.1", 2200, "ssh-ed25519", KEY_A) == "known"


def test_changed_key_is_refused_even_when_trusting_new(tmp_path: Path) -> None:
    path = tmp_path / "kh"
    path.write_text(f"[127.0.0.1]:2200 ssh-ed25519 {KEY_A}\n")
    for trust in (False, True):
        with pytest.raises(HostKeyChanged) as err:
            KnownHosts(path, trust_new=trust).verify("127.0.0.1", 2200, "ssh-ed25519", KEY_B)
        text = str(err.value)
        assert "HAS CHANGED" in text and "line 1" in text and str(path) in text
        assert fingerprint(KEY_A) in text and fingerprint(KEY_B) in text
    assert path.read_text() == f"[127.0.0.1]:2200 ssh-ed25519 {KEY_A}\n"


def test_other_key_type_for_a_pinned_host_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "kh"
    path.write_text(f"[127.0.0.1]:2200 ssh-ed25519 {KEY_A}\n")
    with pytest.raises(HostKeyChanged):
        KnownHosts(path, trust_new=True).verify("127.0.0.1", 2200, "ssh-rsa", KEY_B)


def test_default_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ITOPS_KNOWN_HOSTS", str(tmp_path / "x"))
    assert default_path() == tmp_path / "x"
    monkeypatch.delenv("ITOPS_KNOWN_HOSTS")
    assert default_path().parts[-3:] == (".config", "itops", "known_hosts")
    assert fingerprint("!!!") == "SHA256:<invalid key>"
