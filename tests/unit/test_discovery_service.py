"""``itops discover`` goes through the discovery service: its front end never touches the store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kape_itops"
FRONT_ENDS = ("cli/discover.py", "cli/discover_onvif.py", "cli/doctor.py")
IO_MODULES = ("kape_itops.discovery.sweep", "kape_itops.discovery.wsdiscovery")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("name", FRONT_ENDS)
def test_discovery_front_ends_call_services_not_the_store(name: str) -> None:
    imported = _imports(PACKAGE / name)
    assert not {m for m in imported if m.startswith(("kape_itops.store", "sqlalchemy"))}
    assert not {m for m in imported if m.startswith(IO_MODULES)}
