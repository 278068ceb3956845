"""Equipment spec templates (``specs/*.yaml``): model, loader and validation.

A spec is checked in two passes: the JSON Schema (shape), then meaning (units known, values
readable, reference CPUs in the table, unique ids). A ``type: cpu`` requirement may name a list of
reference CPUs, any one of which satisfies it. Every problem is an :class:`Issue` naming the
file, the line and the path in the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kape_itops.datafiles import shipped_schema
from kape_itops.errors import Issue, ValidationFailed
from kape_itops.quotes.cpu import Cpu, CpuTable
from kape_itops.quotes.units import Quantity, UnitError, dimension_of, parse_quantity
from kape_itops.yamlsafe import load_yaml_text, read_yaml_text

__all__ = [
    "OPERATORS",
    "TIE_BREAKS",
    "Attribute",
    "Requirement",
    "Spec",
    "check_spec_paths",
    "doc_issue",
    "load_spec",
    "load_yaml_with_lines",
    "spec_schema",
]

OPERATORS = (">=", "<=", "==", "in", "contains", "true")
TIE_BREAKS = ("technical_score", "delivery_days", "warranty", "quote_date", "vendor_name")


@dataclass(frozen=True, slots=True, eq=False)
class Requirement:
    """One technical requirement; ``reference`` holds the parsed value to compare with.

    Compared and hashed by identity: a requirement is one object of one loaded spec, and the
    evaluator caches verdicts per (requirement, value).
    """

    id: str
    label: str
    attribute: str
    operator: str
    kind: str
    level: str
    value: str
    unit: str | None
    options: tuple[str, ...]
    weight: Decimal
    money_value: Decimal
    evidence: bool
    reference: Quantity | None = None
    cpus: tuple[Cpu, ...] = ()
    """The reference CPUs of a ``type: cpu`` rule; meeting any one of them satisfies it."""

    @property
    def mandatory(self) -> bool:
        """True for a pass/fail gate, False for a desirable (scored or priced) feature."""
        return self.level == "mandatory"

    @property
    def shown(self) -> str:
        """The requirement as a short phrase: ">= 8 GB", "contains on-site", "yes"."""
        if self.operator == "true":
            return "yes"
        if self.kind == "cpu":
            return f"{self.operator} {self.value}"
        if self.options:
            return f"{self.operator} {' | '.join(self.options)}"
        if self.reference is not None:
            return f"{self.operator} {self.reference.text}"
        return f"{self.operator} {self.value}"


@dataclass(frozen=True, slots=True)
class Attribute:
    """A column vendors fill in: attribute name, unit hint and label."""

    name: str
    unit: str | None
    label: str


@dataclass(frozen=True, slots=True)
class Spec:
    """A validated spec template."""

    id: str
    version: str
    category: str
    title: str
    currency: str
    tie_breaks: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    source: str

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        """The attribute columns of the quotation form, in requirement order."""
        seen: dict[str, Attribute] = {}
        for r in self.requirements:
            if r.attribute in STANDARD_ATTRIBUTES or r.attribute in seen:
                continue
            seen[r.attribute] = Attribute(r.attribute, r.unit, r.label)
        return tuple(seen.values())

    @property
    def total_weight(self) -> Decimal:
        """Sum of the desirable weights (the technical score's denominator)."""
        return sum((r.weight for r in self.requirements), Decimal(0))


STANDARD_ATTRIBUTES = ("warranty", "delivery_days", "brand_model", "description")


@cache
def spec_schema() -> dict[str, Any]:
    """The JSON Schema of spec templates (``specs/schema.json`` as shipped with the package)."""
    text = shipped_schema("specs", "schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and sequence item."""


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse YAML and return (data, {path-in-document: line}); raises yaml/OS errors."""
    data, node = load_yaml_text(read_yaml_text(path), base=_LineLoader)
    lines: dict[tuple[str | int, ...], int] = {}

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
    return data, lines


def doc_path(at: Sequence[str | int]) -> str:
    """``("requirements", 3, "unit")`` -> ``requirements[3].unit``."""
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def doc_issue(
    source: str,
    lines: dict[tuple[str | int, ...], int],
    at: Sequence[str | int],
    reason: str,
    value: object = None,
) -> Issue:
    key = tuple(at)
    while key and key not in lines:
        key = key[:-1]
    line = lines.get(key)
    where = f"{source}:{line}" if line else source
    shown = None if value is None or isinstance(value, dict | list) else str(value)
    return Issue(f"{where} at {doc_path(at)}", None, None, shown, reason)


def load_spec(path: Path, cpus: CpuTable | None = None) -> Spec:
    """Load and validate one spec file; raises :class:`ValidationFailed` with every problem."""
    source = str(path)
    try:
        data, lines = load_yaml_with_lines(path)
    except OSError as exc:
        raise ValidationFailed(
            [Issue(source, None, None, None, f"cannot read: {exc.strerror or exc}")],
            f"{source}: not a usable spec",
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ValidationFailed(
            [Issue(where, None, None, None, f"not valid YAML: {getattr(exc, 'problem', exc)}")],
            f"{source}: not a usable spec",
        ) from exc
    issues = list(_schema_issues(source, data, lines))
    if issues:
        raise ValidationFailed(issues, f"{source}: not a usable spec")
    table = cpus or CpuTable.load()
    spec, issues = _build(source, data, lines, table)
    if issues or spec is None:
        raise ValidationFailed(issues, f"{source}: not a usable spec")
    return spec


def _schema_issues(
    source: str, data: Any, lines: dict[tuple[str | int, ...], int]
) -> Iterable[Issue]:
    validator = jsonschema.Draft202012Validator(spec_schema())
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        at = list(err.path)
        reason = err.message
        if err.validator == "enum" and at and at[-1] == "operator":
            reason = f"unknown operator {err.instance!r}; use one of {', '.join(OPERATORS)}"
        elif err.validator == "additionalProperties":
            reason = f"unknown field: {err.message.split('(')[-1].rstrip(')')}"
        elif err.validator in ("if", "then", "not", "anyOf") or err.validator == "allOf":
            reason = _rule_reason(err.instance)
        yield doc_issue(source, lines, at, reason, err.instance)


def _rule_reason(instance: Any) -> str:
    if isinstance(instance, dict):
        if instance.get("level") == "mandatory":
            return "a mandatory requirement is pass/fail: it takes no weight or money_value"
        if instance.get("level") == "desirable" and not (
            "weight" in instance or "money_value" in instance
        ):
            return "a desirable requirement needs a weight (points) or a money_value"
        if "value" not in instance:
            return f"operator {instance.get('operator')!r} needs a value"
    return "requirement breaks a schema rule"


def _build(
    source: str, data: dict[str, Any], lines: dict[tuple[str | int, ...], int], cpus: CpuTable
) -> tuple[Spec | None, list[Issue]]:
    issues: list[Issue] = []
    reqs: list[Requirement] = []
    seen: set[str] = set()
    dims: dict[str, tuple[str, int]] = {}
    for i, raw in enumerate(data["requirements"]):
        at: tuple[str | int, ...] = ("requirements", i)
        if raw["id"] in seen:
            issues.append(
                doc_issue(source, lines, (*at, "id"), "duplicate requirement id", raw["id"])
            )
        seen.add(raw["id"])
        operator = raw["operator"]
        kind = raw.get("type") or _default_kind(operator)
        unit = raw.get("unit")
        value = raw.get("value")
        reference: Quantity | None = None
        refs: tuple[Cpu, ...] = ()
        options: tuple[str, ...] = ()
        if isinstance(value, list) and kind not in ("text", "cpu"):
            issues.append(
                doc_issue(
                    source,
                    lines,
                    (*at, "value"),
                    "a list of values needs operator in, or type: cpu (any one reference CPU "
                    "satisfies it)",
                )
            )
            continue
        if kind == "quantity":
            if operator not in (">=", "<=", "=="):
                issues.append(
                    doc_issue(
                        source, lines, (*at, "operator"), "a quantity compares with >=, <= or =="
                    )
                )
                continue
            if unit is not None:
                try:
                    dimension_of(unit)
                except UnitError as exc:
                    issues.append(doc_issue(source, lines, (*at, "unit"), str(exc), unit))
                    continue
            try:
                reference = parse_quantity(str(value), unit)
            except UnitError as exc:
                issues.append(doc_issue(source, lines, (*at, "value"), str(exc), value))
                continue
            prev = dims.get(raw["attribute"])
            if prev and prev[0] != reference.dimension:
                issues.append(
                    doc_issue(
                        source,
                        lines,
                        (*at, "unit"),
                        f"attribute '{raw['attribute']}' is {prev[0]} in requirements[{prev[1]}]",
                        unit,
                    )
                )
            dims.setdefault(raw["attribute"], (reference.dimension, i))
        elif kind == "cpu":
            if operator != ">=":
                issues.append(doc_issue(source, lines, (*at, "operator"), "a CPU rule uses >="))
                continue
            refs, problems = _cpu_references(source, lines, at, value, cpus)
            if problems:
                issues.extend(problems)
                continue
            value = " or ".join(c.model for c in refs) if isinstance(value, list) else value
        elif kind == "text":
            if operator not in ("in", "contains", "=="):
                issues.append(
                    doc_issue(
                        source, lines, (*at, "operator"), "text compares with in, contains, =="
                    )
                )
                continue
            options = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            if unit is not None:
                issues.append(doc_issue(source, lines, (*at, "unit"), "text takes no unit", unit))
        elif kind == "boolean" and operator != "true":
            issues.append(doc_issue(source, lines, (*at, "operator"), "a yes/no rule uses 'true'"))
            continue
        reqs.append(
            Requirement(
                id=raw["id"],
                label=raw["label"],
                attribute=raw["attribute"],
                operator=operator,
                kind=kind,
                level=raw["level"],
                value="" if value is None or isinstance(value, list) else str(value),
                unit=unit,
                options=options,
                weight=Decimal(str(raw.get("weight", 0))),
                money_value=Decimal(str(raw.get("money_value", 0))),
                evidence=bool(raw.get("evidence", False)),
                reference=reference,
                cpus=refs,
            )
        )
    if issues:
        return None, issues
    spec = Spec(
        id=data["id"],
        version=str(data["version"]),
        category=data["category"],
        title=data["title"],
        currency=data.get("currency", "USD"),
        tie_breaks=tuple(data.get("tie_breaks", ("technical_score", "delivery_days"))),
        requirements=tuple(reqs),
        source=source,
    )
    return spec, []


def _cpu_references(
    source: str,
    lines: dict[tuple[str | int, ...], int],
    at: tuple[str | int, ...],
    value: Any,
    cpus: CpuTable,
) -> tuple[tuple[Cpu, ...], list[Issue]]:
    """The reference CPUs a ``type: cpu`` value names (one model or a list), or the issues."""
    items: list[tuple[int | None, Any]] = (
        list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    )
    refs: list[Cpu] = []
    issues: list[Issue] = []
    for j, v in items:
        where = (*at, "value") if j is None else (*at, "value", j)
        match = cpus.lookup(str(v))
        if match.cpu is None:
            issues.append(doc_issue(source, lines, where, f"reference CPU: {match.reason}", v))
        elif match.cpu in refs:
            issues.append(
                doc_issue(source, lines, where, f"reference CPU {match.cpu.model} listed twice", v)
            )
        else:
            refs.append(match.cpu)
    return tuple(refs), issues


def _default_kind(operator: str) -> str:
    if operator == "true":
        return "boolean"
    if operator in ("in", "contains"):
        return "text"
    return "quantity"


def check_spec_paths(paths: Sequence[Path], cpus: CpuTable | None = None) -> dict[str, list[Issue]]:
    """Validate spec files (directories are searched for ``*.yaml``); issues per file."""
    table = cpus or CpuTable.load()
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    out: dict[str, list[Issue]] = {}
    ids: dict[str, str] = {}
    for f in files:
        try:
            spec = load_spec(f, table)
        except ValidationFailed as exc:
            out[str(f)] = exc.issues
            continue
        out[str(f)] = []
        if spec.id in ids:
            out[str(f)].append(
                Issue(f"{f} at id", None, None, spec.id, f"spec id also used by {ids[spec.id]}")
            )
        ids[spec.id] = str(f)
    return out
