"""Secret scrubbing of configurations, per rule set."""

from __future__ import annotations

import pytest

from kape_itops.lab.ssh_sim import recording
from kape_itops.probes.ssh.scrub import MASK, scrub

CISCO_SECRETS = [
    "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
    "$1$kJ3s$Zb8fQ2pWmVt7kP0aY1xHc/",
    "0822455D0A16",
    "SchoolRO-7781",
    "SchoolRW-9ab2",
    "045802150C2E",
    "070C285F4D06",
    "104D000A0618",
]
ROUTEROS_SECRETS = [
    "Lab-Wifi-2026!",
    "Teach3rs#1",
    "guest-pass-99",
    "VpnS3cret!",
    "kape-mon-2026",
    "IpsecPSK-551",
]


@pytest.mark.parametrize(
    ("platform", "ruleset", "secrets", "masked"),
    [
        ("cisco_ios", "cisco", CISCO_SECRETS, 8),
        ("mikrotik_routeros", "routeros", ROUTEROS_SECRETS, 7),
    ],
)
def test_recorded_configs_keep_no_secret(
    platform: str, ruleset: str, secrets: list[str], masked: int
) -> None:
    config = str(recording(platform)["config"])
    assert all(s in config for s in secrets)  # the recordings really contain them
    out = scrub(config, ruleset)
    for s in secrets:
        assert s not in out.text
    assert out.masked == masked
    # the rest of the configuration is untouched
    assert len(out.text.splitlines()) == len(config.splitlines())
    assert "service password-encryption" in out.text or ruleset == "routeros"


def test_cisco_lines_keep_their_shape() -> None:
    text = (
        "enable secret 5 $1$abc\n"
        "username bob privilege 15 password 0 hunter2\n"
        "snmp-server community public RO 10\n"
        "snmp-server host 10.0.0.5 version 2c trapcomm\n"
        "snmp-server user mon grp v3 auth sha AuthPass1 priv aes 128 PrivPass2\n"
        "crypto isakmp key VpnKey address 203.0.113.1\n"
        " ip ospf message-digest-key 1 md5 OspfKey\n"
        "ntp authentication-key 1 md5 NtpKey 7\n"
        "interface Vlan1\n description uplink\n"
    )
    out = scrub(text, "cisco").text.splitlines()
    assert out[0] == f"enable secret 5 {MASK}"
    assert out[1] == f"username bob privilege 15 password 0 {MASK}"
    assert out[2] == f"snmp-server community {MASK} RO 10"
    assert out[3] == f"snmp-server host 10.0.0.5 version 2c {MASK}"
    assert "AuthPass1" not in out[4] and "PrivPass2" not in out[4]
    assert out[5] == f"crypto isakmp key {MASK} address 203.0.113.1"
    assert out[6] == f" ip ospf message-digest-key 1 md5 {MASK}"
    assert "NtpKey" not in out[7]
    assert out[8:] == ["interface Vlan1", " description uplink"]


def test_routeros_quoted_values_continuations_and_snmp_names() -> None:
    text = (
        "/interface wireless security-profiles\n"
        'add name=staff wpa2-pre-shared-key="with space \\"q\\"" \\\n    mode=dynamic-keys\n'
        "/snmp community\n"
        "add addresses=10.0.0.0/8 name=secretcomm\n"
        "/interface bridge\n"
        "add name=bridge\n"
    )
    out = scrub(text, "routeros").text
    assert "with space" not in out and "secretcomm" not in out
    assert f"wpa2-pre-shared-key={MASK} mode=dynamic-keys" in out
    assert f"name={MASK}" in out
    assert "add name=bridge" in out  # names outside /snmp community stay


def test_generic_rules_catch_common_shapes() -> None:
    text = "password: abc\nAPI_KEY=xyz\ncommunity public\nhostname school-1\n"
    out = scrub(text, "generic")
    assert out.text == f"password: {MASK}\nAPI_KEY={MASK}\ncommunity {MASK}\nhostname school-1\n"
    assert out.masked == 3


def test_scrub_is_idempotent_and_rejects_unknown_rulesets() -> None:
    config = str(recording("cisco_ios")["config"])
    once = scrub(config, "cisco").text
    assert scrub(once, "cisco").text == once
    with pytest.raises(ValueError, match="unknown scrub rule set 'juniper'"):
        scrub("x", "juniper")


def test_encrypted_keyword_is_kept_and_the_hash_masked() -> None:
    text = (
        "username admin password encrypted 5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8 privilege 15\n"
        "enable password level 15 encrypted 7c4a8d09ca3762af61e59520943dc26494f8941b\n"
        'username "admin" password 5e8848a1c2d3 level 15 encrypted\n'
        "user name support privilege guest password 0 Support-2026\n"
    )
    out = scrub(text, "cisco")
    assert out.text == (
        "username admin password encrypted <masked> privilege 15\n"
        "enable password level 15 encrypted <masked>\n"
        'username "admin" password <masked> level 15 encrypted\n'
        "user name support privilege guest password 0 <masked>\n"
    )
    assert out.masked == 4
