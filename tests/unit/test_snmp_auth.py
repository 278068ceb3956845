"""SNMP credentials from secrets entries, their validation, masking and error translation."""

from __future__ import annotations

import pytest
from pysnmp.proto import errind

from kape_itops.lab.snmp_sim import lab_recording
from kape_itops.probes.snmp.client import SnmpAuth, auth_from_credential, norm_protocol, translate
from kape_itops.secrets import Credential, Secret


def _cred(settings: dict[str, str], secrets: dict[str, str]) -> Credential:
    return Credential("x", "snmp", settings, {k: Secret(v) for k, v in secrets.items()})


def test_v3_entry_becomes_auth_and_never_shows_its_keys() -> None:
    auth = auth_from_credential(
        _cred(
            {"version": "3", "user": "mon", "auth_protocol": "sha256", "priv_protocol": "aes256"},
            {"auth_key": "very-secret-auth", "priv_key": "very-secret-priv"},
        )
    )
    assert (auth.auth_protocol, auth.priv_protocol, auth.level) == (
        "SHA-256",
        "AES-256",
        "authPriv",
    )
    shown = repr(auth) + str(auth) + auth.describe()
    assert "very-secret" not in shown
    assert auth.describe() == "v3 user=mon SHA-256/AES-256"


def test_v2c_entry_and_default_version() -> None:
    auth = auth_from_credential(_cred({}, {"community": "c0mmunity"}))
    assert auth.version == "2c"
    assert "c0mmunity" not in repr(auth)


@pytest.mark.parametrize(
    ("settings", "secrets", "message"),
    [
        ({"version": "3"}, {}, "needs a user name"),
        (
            {"version": "3", "user": "u", "auth_protocol": "SHA-1024"},
            {"auth_key": "k"},
            "auth protocol 'SHA-1024'",
        ),
        ({"version": "3", "user": "u", "auth_protocol": "SHA"}, {}, "needs an auth key"),
        (
            {"version": "3", "user": "u", "priv_protocol": "AES"},
            {"priv_key": "k"},
            "needs an auth protocol",
        ),
        ({"version": "2c"}, {}, "needs a community"),
        ({"version": "4"}, {"community": "c"}, "must be 1, 2c or 3"),
    ],
)
def test_unusable_entries_are_refused(
    settings: dict[str, str], secrets: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        auth_from_credential(_cred(settings, secrets))


def test_protocol_names_are_normalised() -> None:
    assert [norm_protocol(p) for p in ("sha", "SHA-512", "aes", "AES128", "des", None)] == [
        "SHA",
        "SHA-512",
        "AES",
        "AES-128",
        "DES",
        None,
    ]


V2 = SnmpAuth(version="2c", community=Secret("hush"))
V3 = SnmpAuth(version="3", user="mon", auth_protocol="SHA", auth_key=Secret("k" * 10))


def test_translate_timeout_names_community_and_acl() -> None:
    failure = translate(errind.requestTimedOut, V2, "127.0.0.1:161")
    assert failure.kind == "timeout"
    assert failure.message == "no response from 127.0.0.1:161 — check community/ACL"


def test_translate_v3_errors() -> None:
    assert "authentication failure" in translate(errind.wrongDigest, V3, "h").message
    assert translate(errind.unknownUserName, V3, "h").message == "unknown SNMPv3 user 'mon' on h"
    assert translate(errind.decryptionError, V3, "h").kind == "decrypt"


def test_translate_scrubs_secrets_from_foreign_text() -> None:
    assert "hush" not in translate("bad community hush", V2, "h").message


def test_lab_recordings_per_kind_are_stable() -> None:
    assert lab_recording("hotspot", "KAPE-0001") == "ap-clients"
    assert lab_recording("laptop", "KAPE-0001") is None
    assert lab_recording("printer", "KAPE-0042") == lab_recording("printer", "KAPE-0042")
