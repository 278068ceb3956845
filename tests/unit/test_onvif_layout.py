"""The ONVIF package's layout: a light kind declaration, I/O libraries in the I/O modules only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from kape_itops.probes import catalog
from kape_itops.probes.onvif import kind

PACKAGE = Path(kind.__file__).resolve().parent
IO_LIBRARIES = {"aiohttp", "zeep", "onvif", "asyncio", "socket"}
IO_MODULES = {"client", "errors", "lib", "rtsp", "layers"}
"""Where the libraries above may be imported (layers only runs layers concurrently)."""


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_catalog_lists_the_package_kind() -> None:
    assert catalog.kind("onvif") is kind.KIND
    module, _, cls = kind.KIND.probe_class.partition(":")
    assert (module, cls) == ("kape_itops.probes.onvif.probe", "OnvifProbe")


def test_the_kind_loads_no_protocol_library() -> None:
    code = (
        "import sys, kape_itops.probes.catalog\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'onvif', 'zeep', 'aiohttp'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.glob("*.py") if p.stem not in IO_MODULES),
    ids=lambda p: p.name,
)
def test_pure_modules_import_no_io_library(path: Path) -> None:
    assert not _imported_roots(path) & IO_LIBRARIES, path.name
