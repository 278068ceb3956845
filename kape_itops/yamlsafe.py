"""The one way kape-itops reads YAML: safe, strict UTF-8, and bounded.

``yaml.safe_load`` refuses to build objects, but a 500-byte document can still expand into
billions of values through aliases (``&a [*b, *b, ...]``), loop forever through a recursive
alias (``&a [*a]``) or nest deeper than Python's stack. The loader here refuses, before
anything is built:

* files over ``Limits.max_yaml_mb``, and text that is not UTF-8 (the byte and line named);
* more than ``Limits.max_yaml_aliases`` alias uses, and any alias to a node that contains it;
* documents whose values, every alias counted as a copy, exceed ``Limits.max_yaml_nodes``;
* nesting deeper than ``Limits.max_depth``.

Refusals are :class:`YamlRefused`, a :class:`yaml.YAMLError`, so callers that already turn
YAML errors into clear messages need no new handler. ``str()`` is always one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent

from kape_itops.limits import Limits

BOM = b"\xef\xbb\xbf"


class YamlRefused(yaml.YAMLError):
    """A YAML file refused before parsing or while composing; one line, with its location."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark

    def __str__(self) -> str:
        if self.problem_mark is None:
            return self.problem
        m = self.problem_mark
        return f"line {m.line + 1}, column {m.column + 1}: {self.problem}"


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 (a leading BOM dropped); YamlRefused names the bad byte and its line."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlRefused(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} cannot be decoded "
            "(saved as Latin-1 or Windows-1252?); save the file as UTF-8"
        ) from None


def read_yaml_text(path: Path, limits: Limits | None = None) -> str:
    """The text of a YAML file, size-checked and strictly decoded; OSError passes through."""
    lim = limits or Limits.from_env()
    with path.open("rb") as fh:
        data = fh.read(lim.max_yaml_bytes + 1)
    if len(data) > lim.max_yaml_bytes:
        raise YamlRefused(
            f"the file is larger than {lim.max_yaml_mb} MiB (raise the limit with "
            "ITOPS_MAX_YAML_MB)"
        )
    return decode_utf8(data)


class _Bounded:
    """Mixin for a PyYAML loader: counts aliases, expanded size and depth while composing."""

    limits: Limits

    def _bounded_init(self, limits: Limits) -> None:
        self.limits = limits
        self._aliases = 0
        self._depth = 0
        self._count = 0
        self._open: set[str] = set()
        self._size: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        lim = self.limits
        loader: Any = self
        event = loader.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if event.anchor in self._open:
                raise YamlRefused(
                    f"recursive alias *{str(event.anchor)[:40]} (refers to a value containing it)",
                    event.start_mark,
                )
            if self._aliases > lim.max_yaml_aliases:
                raise YamlRefused(
                    f"more than {lim.max_yaml_aliases} aliases (raise the limit with "
                    "ITOPS_MAX_YAML_ALIASES)",
                    event.start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        self._depth += 1
        self._count += 1
        if self._count > lim.max_yaml_nodes:
            raise YamlRefused(
                f"the document has over {lim.max_yaml_nodes:,} values (raise the limit with "
                "ITOPS_MAX_YAML_NODES)",
                event.start_mark,
            )
        if self._depth > lim.max_depth:
            raise YamlRefused(
                f"nested deeper than {lim.max_depth} levels (raise the limit with ITOPS_MAX_DEPTH)",
                event.start_mark,
            )
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        node = super().compose_node(parent, index)  # type: ignore[misc]
        if anchor is not None:
            self._open.discard(anchor)
        self._depth -= 1
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size.get(id(c), 1) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size.get(id(k), 1) + self._size.get(id(v), 1) for k, v in node.value)
        self._size[id(node)] = size
        if size > lim.max_yaml_nodes:
            raise YamlRefused(
                f"the document expands to over {lim.max_yaml_nodes:,} values through its "
                "aliases or size (raise the limit with ITOPS_MAX_YAML_NODES)",
                event.start_mark,
            )
        return node


def bounded_loader(base: type[yaml.SafeLoader] = yaml.SafeLoader) -> type[yaml.SafeLoader]:
    """A subclass of the safe loader ``base`` that enforces the limits while composing."""
    return type(f"Bounded{base.__name__}", (_Bounded, base), {})


def load_yaml_text(
    text: str, limits: Limits | None = None, base: type[yaml.SafeLoader] = yaml.SafeLoader
) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document: ``(data, root node)``; the node carries line marks."""
    loader: Any = bounded_loader(base)(text)
    try:
        loader._bounded_init(limits or Limits.from_env())
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        return data, node
    except RecursionError:
        raise YamlRefused("nested too deeply") from None
    finally:
        loader.dispose()


def load_yaml(path: Path, limits: Limits | None = None) -> Any:
    """``yaml.safe_load`` of a file, within the limits (raises YamlRefused or OSError)."""
    lim = limits or Limits.from_env()
    return load_yaml_text(read_yaml_text(path, lim), lim)[0]
