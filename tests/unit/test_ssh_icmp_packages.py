"""The SSH and ICMP probe kinds live in their packages: declared once, pure parts free of I/O."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kape_itops.probes import catalog
from kape_itops.probes.icmp.kind import KIND as PING
from kape_itops.probes.kind import ProbeKindSpec
from kape_itops.probes.registry import ProbeRegistry
from kape_itops.probes.ssh.kind import KIND as SSH

IO_LIBRARIES = ("netmiko", "paramiko", "ntc_templates")
OUR_IO = (
    "kape_itops.probes.ssh.client",
    "kape_itops.probes.icmp.client",
    "kape_itops.probes.icmp.tcp",
)


def _loaded_after(module: str) -> set[str]:
    """Modules a fresh interpreter holds after importing ``module``."""
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout))


def test_catalog_lists_the_kinds_the_packages_declare() -> None:
    assert catalog.kind("ping") is PING
    assert catalog.kind("ssh") is SSH
    assert PING.probe_class == "kape_itops.probes.icmp.probe:PingProbe"
    assert SSH.probe_class == "kape_itops.probes.ssh.probe:SshProbe"


def test_the_declarations_keep_what_results_profiles_and_secrets_say() -> None:
    """The package is icmp, the kind is still ping; nothing a user sees changes."""
    assert (PING.name, PING.availability, PING.secrets_protocol, PING.kept_metrics) == (
        "ping",
        True,
        None,
        frozenset({"received"}),
    )
    assert (SSH.name, SSH.secrets_protocol, SSH.settings_schema) == (
        "ssh",
        "ssh",
        "ssh.schema.json",
    )
    assert SSH.kept_metrics == frozenset({"uptime_s", "levels"})


@pytest.mark.parametrize("kind", [PING, SSH], ids=lambda k: k.name)
def test_the_registry_creates_each_kind_from_its_package(kind: ProbeKindSpec) -> None:
    probe = ProbeRegistry.default({}).create(kind.name)
    assert type(probe).__module__ == kind.probe_class.partition(":")[0]
    assert probe.name == kind.name


@pytest.mark.parametrize("module", ["kape_itops.probes.ssh.kind", "kape_itops.probes.icmp.kind"])
def test_a_kind_declaration_imports_nothing_heavy(module: str) -> None:
    loaded = _loaded_after(module)
    assert not {m for m in loaded if m.split(".")[0] in IO_LIBRARIES}
    assert not loaded & {*OUR_IO, "kape_itops.probes.ssh.probe", "kape_itops.probes.icmp.probe"}
    assert "jsonschema" not in loaded


@pytest.mark.parametrize(
    "module",
    [
        "kape_itops.probes.ssh.evaluate",
        "kape_itops.probes.ssh.parse",
        "kape_itops.probes.ssh.scrub",
        "kape_itops.probes.icmp.evaluate",
        "kape_itops.domain.ping",
    ],
)
def test_pure_rules_load_no_network_code(module: str) -> None:
    loaded = _loaded_after(module)
    assert not {m for m in loaded if m.split(".")[0] in ("netmiko", "paramiko")}
    assert not loaded & set(OUR_IO)


def test_ping_texts_are_domain_code() -> None:
    """The result store rebuilds ping reasons from domain code, not from the probe package."""
    loaded = _loaded_after("kape_itops.domain.ping")
    assert not {
        m for m in loaded if m.startswith("kape_itops.") and m != "kape_itops.domain.ping"
    } - {"kape_itops.domain"}
