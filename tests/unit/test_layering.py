"""The layering of ARCHITECTURE.md, checked on the imports of every module (parsed, not run).

front ends (cli/) -> services -> protocols (probes/<kind>/, discovery/) -> storage (store/,
secrets, config) -> domain (domain/, errors). Imports only point down; only ``store/`` speaks
SQL, and raw results and backups have one write path.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kape_itops"
OURS = "kape_itops"
PROTOCOLS = ("probes.icmp", "probes.snmp", "probes.onvif", "probes.ssh", "discovery")
FRONT_ENDS = ("cli", "server")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in ``path``, lazy and TYPE_CHECKING ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            yield node.lineno, base
            for alias in node.names:  # ``from kape_itops.reports import retention``
                yield node.lineno, f"{base}.{alias.name}"


def _ours(name: str) -> str | None:
    """``name`` inside the package (``store.db``), or None for another distribution."""
    if name == OURS:
        return ""
    return name[len(OURS) + 1 :] if name.startswith(OURS + ".") else None


def _under(name: str, area: str) -> bool:
    return name == area or name.startswith(area + ".")


def _violations(source: str, allowed: tuple[str, ...]) -> list[str]:
    """Imports of our modules by modules under ``source`` that fall outside ``allowed``."""
    known = _modules()
    out = []
    for mod, path in known.items():
        if not _under(_ours(mod) or "", source):
            continue
        for line, name in _imports(path):
            target = _ours(name)
            if target is None or target == "":
                continue
            if f"{OURS}.{target}" not in known and _ours(name.rpartition(".")[0]) is not None:
                continue  # ``from pkg import NAME`` where NAME is not a module: counted once
            if not any(_under(target, a) for a in allowed):
                out.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    return sorted(set(out))


def test_the_checker_sees_imports() -> None:
    """The parser finds the package's modules and their imports (the rules cannot pass empty)."""
    known = _modules()
    assert {"kape_itops.store.db", "kape_itops.domain.results", "kape_itops.cli"} <= set(known)
    names = {n for _, n in _imports(known["kape_itops.store.probe_repo"])}
    assert {"kape_itops.domain.results", "sqlalchemy"} <= names
    assert _violations("store", ("store",))  # store imports domain: a violation of this rule


def test_domain_imports_only_domain_and_errors() -> None:
    assert _violations("domain", ("domain", "errors")) == []


def test_store_imports_only_domain_errors_config_secrets() -> None:
    allowed = ("store", "domain", "errors", "config", "secrets")
    assert _violations("store", allowed) == []


@pytest.mark.parametrize("package", PROTOCOLS)
def test_protocol_packages_never_import_front_ends_or_reports(package: str) -> None:
    known = _modules()
    forbidden = ("cli", "server", "reports")
    out = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for mod, path in known.items()
        if _under(_ours(mod) or "", package)
        for line, name in _imports(path)
        if any(_under(_ours(name) or "", f) for f in forbidden)
    ]
    assert sorted(set(out)) == []


PROBE_PACKAGES = ("probes.icmp", "probes.snmp", "probes.onvif", "probes.ssh")


@pytest.mark.parametrize("package", PROBE_PACKAGES)
def test_probe_packages_never_import_each_other(package: str) -> None:
    known = _modules()
    others = [p for p in PROBE_PACKAGES if p != package]
    out = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for mod, path in known.items()
        if _under(_ours(mod) or "", package)
        for line, name in _imports(path)
        if any(_under(_ours(name) or "", o) for o in others)
    ]
    assert sorted(set(out)) == []


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_front_ends_call_services_not_the_store(front_end: str) -> None:
    known = _modules()
    out = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for mod, path in known.items()
        if _under(_ours(mod) or "", front_end)
        for line, name in _imports(path)
        if _under(_ours(name) or "", "store")
    ]
    assert sorted(set(out)) == []


def test_only_the_store_imports_sqlalchemy() -> None:
    out = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for mod, path in _modules().items()
        if not _under(_ours(mod) or "", "store")
        for line, name in _imports(path)
        if name.split(".")[0] in ("sqlalchemy", "alembic")
    ]
    assert out == []


WRITES = {
    "ProbeRunRow": {"store.probe_repo"},
    "ProbeResultRow": {"store.probe_repo"},
    "PingResultRow": {"store.ping_store"},
    "PingRunRow": {"store.ping_store"},
    "ConfigBackupRow": {"store.backup_repo"},
    "DeviceStateRow": {"store.state_repo"},
}
"""The one module that adds rows of each raw result and backup table (and the current state
kept from them)."""


def test_raw_results_and_backups_have_one_write_path() -> None:
    """Probe runs, results and backups are added by one repository each (the sample data and
    the tests go through them too): no ``Row(...)`` or ``insert(Row)`` anywhere else."""
    out = []
    for mod, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            made = node.func.id
            if made == "insert" and node.args and isinstance(node.args[0], ast.Name):
                made = node.args[0].id
            if made in WRITES and _ours(mod) not in WRITES[made]:
                out.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} writes {made}")
    assert out == []
