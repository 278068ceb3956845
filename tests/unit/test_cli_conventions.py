"""The CLI has one shape: shared pieces live once, and its modules import each other one way.

Checked on the parsed source of ``kape_itops/cli`` (nothing is run): one status colour map and
one result→JSON (``cli/render.py``), one place that parses durations (``cli/options.py``), and
no import cycle between CLI modules (imports inside functions are lazy and do not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "kape_itops" / "cli"
STATUS_KEYS = {"ok", "warn", "crit", "unknown", "OK", "WARN", "CRIT", "UNKNOWN"}


def _trees() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(CLI.glob("*.py"))}


def _key(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _status_maps(tree: ast.Module) -> int:
    """Dict literals mapping probe statuses to text: a colour for each status."""
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        and len({_key(k) for k in node.keys} & STATUS_KEYS) >= 3
        and all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values)
    )


def _result_dicts(tree: ast.Module) -> int:
    """Dict literals with a ``duration_ms`` key: a probe result written out by hand."""
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict) and "duration_ms" in {_key(k) for k in node.keys}
    )


def _imports_of(tree: ast.Module, name: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and any(a.name == name for a in node.names)
        for node in ast.walk(tree)
    )


def _top_level_cli_imports(tree: ast.Module) -> set[str]:
    """CLI modules imported at module level (``from kape_itops.cli.x import …``)."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("kape_itops.cli."):
                out.add(node.module.removeprefix("kape_itops.cli."))
            elif node.module == "kape_itops.cli":
                out |= {a.name for a in node.names}
    return out


def test_the_checks_see_the_shared_pieces() -> None:
    trees = _trees()
    assert _status_maps(trees["render"]) == 1
    assert _result_dicts(trees["render"]) == 1
    assert _imports_of(trees["options"], "parse_duration")
    assert "app" in _top_level_cli_imports(trees["options"])


def test_one_status_style_and_one_result_json() -> None:
    trees = _trees()
    styles = {name: n for name, tree in trees.items() if (n := _status_maps(tree))}
    results = {name: n for name, tree in trees.items() if (n := _result_dicts(tree))}
    assert styles == {"render": 1}
    assert results == {"render": 1}


def test_durations_are_parsed_in_one_place() -> None:
    users = sorted(name for name, tree in _trees().items() if _imports_of(tree, "parse_duration"))
    assert users == ["options"]


def test_no_import_cycle_between_cli_modules() -> None:
    graph = {name: _top_level_cli_imports(tree) for name, tree in _trees().items()}
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(name, ())):
            if nxt in path:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif len(path) < len(graph):
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []
