"""Each probe kind declares how its stored results become report problems (its findings)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from kape_itops.probes import catalog
from kape_itops.probes.kind import ProbeKindSpec

IO_LIBRARIES = ("pysnmp", "onvif", "zeep", "aiohttp", "netmiko", "paramiko", "jsonschema")


@pytest.mark.parametrize("kind", catalog.KINDS, ids=lambda k: k.name)
def test_every_kind_names_its_findings_in_its_own_package(kind: ProbeKindSpec) -> None:
    assert kind.findings is not None
    module_name, _, name = kind.findings.partition(":")
    package = kind.probe_class.partition(":")[0].rpartition(".")[0]
    assert module_name == f"{package}.findings"
    assert callable(getattr(importlib.import_module(module_name), name))


def test_findings_load_no_protocol_library_and_no_profile_loader() -> None:
    """Pure rules: the report imports them without the probes' I/O or the schema checker."""
    modules = [k.findings.partition(":")[0] for k in catalog.KINDS if k.findings]
    code = f"import sys, json; import {', '.join(modules)}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(out.stdout))
    assert not {m for m in loaded if m.split(".")[0] in IO_LIBRARIES}
    assert not {m for m in loaded if m.endswith((".client", ".probe", ".settings"))}
