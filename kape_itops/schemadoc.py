"""One way to load a YAML data file checked by a JSON Schema, with every problem located.

Every loader of a data folder (spec templates, RFQs, probe kinds and overrides, SNMP profiles,
SSH command sets, ONVIF settings) reads its files here: safely and within the limits
(:mod:`kape_itops.yamlsafe`), with the line of every value remembered, and checked against its
schema. Each problem is an :class:`~kape_itops.errors.Issue` that prints as
``file:line at path.in[0].doc: message``, and all of them are reported at once, of every file:

* :func:`load_checked`: one file, :class:`~kape_itops.errors.ValidationFailed` with every issue;
* :func:`check_doc`: one file, its issues returned, for loaders that go over many files and
  raise one :func:`config_error` for all of them;
* :meth:`Doc.issue`: a problem of meaning (a duplicate id, a name that does not match the file)
  located like a schema error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from kape_itops.errors import ConfigError, Issue, ValidationFailed
from kape_itops.limits import Limits
from kape_itops.yamlsafe import load_yaml_text, read_yaml_text

__all__ = [
    "Doc",
    "Lines",
    "check_doc",
    "config_error",
    "doc_path",
    "load_checked",
    "read_doc",
    "schema_issues",
    "validator",
]

Lines = dict[tuple[str | int, ...], int]
"""The line (1-based) of every value, by its path in the document."""
Explain = Callable[[ValidationError], str]
"""Turns a schema error into the reason shown (default: the validator's message)."""


def doc_path(at: Sequence[str | int]) -> str:
    """``("requirements", 3, "unit")`` -> ``requirements[3].unit``."""
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


@dataclass(frozen=True, slots=True)
class Doc:
    """A parsed YAML document with the line of every value."""

    data: Any
    source: str
    lines: Lines

    def issue(self, at: Sequence[str | int], reason: str, value: object = None) -> Issue:
        """A problem at ``at``, located at the nearest line known (``file:line at path``)."""
        key = tuple(at)
        while key and key not in self.lines:
            key = key[:-1]
        line = self.lines.get(key)
        where = f"{self.source}:{line}" if line else self.source
        shown = None if value is None or isinstance(value, dict | list) else str(value)
        return Issue(f"{where} at {doc_path(at)}", None, None, shown, reason)


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose nodes keep their marks (the bounded subclass is made per read)."""


def read_doc(path: Path, limits: Limits | None = None) -> Doc:
    """Parse ``path`` within the limits; raises :class:`yaml.YAMLError` or :class:`OSError`."""
    data, node = load_yaml_text(read_yaml_text(path, limits), limits, base=_LineLoader)
    lines: Lines = {}

    def walk(n: yaml.Node | None, at: tuple[str | int, ...]) -> None:
        if n is None:
            return
        lines[at] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                walk(v, (*at, str(k.value)))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*at, i))

    walk(node, ())
    return Doc(data, str(path), lines)


def _unreadable(source: str, exc: OSError | yaml.YAMLError) -> Issue:
    if isinstance(exc, OSError):
        return Issue(source, None, None, None, f"cannot read: {exc.strerror or exc}")
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark else source
    return Issue(where, None, None, None, f"not valid YAML: {getattr(exc, 'problem', exc)}")


def validator(
    schema: Mapping[str, Any] | Path, *, formats: bool = False, registry: Any = None
) -> Validator:
    """A Draft 2020-12 validator of ``schema`` (a mapping, or a JSON file: ConfigError if that
    cannot be read); ``formats`` checks ``format`` keywords, ``registry`` resolves ``$ref``."""
    if isinstance(schema, Path):
        try:
            schema = json.loads(schema.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the schema {schema}: {exc}") from exc
    assert isinstance(schema, Mapping)
    kw: dict[str, Any] = {}
    if formats:
        kw["format_checker"] = Draft202012Validator.FORMAT_CHECKER
    if registry is not None:
        kw["registry"] = registry
    return Draft202012Validator(schema, **kw)


def schema_issues(doc: Doc, check: Validator, explain: Explain | None = None) -> list[Issue]:
    """Every schema error of ``doc``, in document order of their paths."""
    errors = sorted(check.iter_errors(doc.data), key=lambda e: [str(p) for p in e.path])
    return [
        doc.issue(list(e.path), explain(e) if explain else e.message, e.instance) for e in errors
    ]


def check_doc(
    path: Path,
    check: Validator,
    *,
    explain: Explain | None = None,
    empty: Any = None,
    prepare: Callable[[Any], Any] | None = None,
    limits: Limits | None = None,
) -> tuple[Doc | None, list[Issue]]:
    """Read and check one file: ``(doc, issues)``; ``doc`` is None when the file cannot be read
    or is not YAML. An empty document counts as ``empty`` when that is given; ``prepare``
    normalises the parsed data before the check (e.g. YAML dates back to text)."""
    try:
        doc = read_doc(path, limits)
    except (OSError, yaml.YAMLError) as exc:
        return None, [_unreadable(str(path), exc)]
    data = empty if doc.data is None and empty is not None else doc.data
    if prepare is not None:
        data = prepare(data)
    if data is not doc.data:
        doc = Doc(data, doc.source, doc.lines)
    return doc, schema_issues(doc, check, explain)


def load_checked(
    path: Path,
    check: Validator,
    what: str = "data file",
    *,
    explain: Explain | None = None,
    limits: Limits | None = None,
) -> Doc:
    """One file read and checked; :class:`ValidationFailed` ("not a usable ``what``") with
    every issue when it cannot be read, is not YAML or breaks the schema."""
    doc, issues = check_doc(path, check, explain=explain, limits=limits)
    if issues or doc is None:
        raise ValidationFailed(issues, f"{path}: not a usable {what}")
    return doc


def config_error(title: str, issues: Iterable[Issue | str]) -> ConfigError:
    """One :class:`ConfigError` listing every issue, one per line under ``title``."""
    return ConfigError(f"{title}:\n  " + "\n  ".join(str(i) for i in issues))
