"""Equipment spec templates (``specs/*.yaml``): model, loader and validation.

A spec is checked in two passes: the JSON Schema (shape), then meaning (units known, values
readable, reference CPUs in the table, unique ids). A ``type: cpu`` requirement may name a list of
reference CPUs, any one of which satisfies it. Every problem is an :class:`Issue` naming the
file, the line and the path in the document.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from kape_itops.datafiles import shipped_schema
from kape_itops.errors import Issue, ValidationFailed
from kape_itops.quotes.cpu import Cpu, CpuTable
from kape_itops.quotes.units import Quantity, UnitError, dimension_of, parse_quantity
from kape_itops.schemadoc import Doc, load_checked, validator

__all__ = [
    "OPERATORS",
    "TIE_BREAKS",
    "Attribute",
    "Requirement",
    "Spec",
    "check_spec_paths",
    "load_spec",
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


@cache
def _validator() -> Validator:
    return validator(spec_schema())


def load_spec(path: Path, cpus: CpuTable | None = None) -> Spec:
    """Load and validate one spec file; raises :class:`ValidationFailed` with every problem."""
    doc = load_checked(path, _validator(), "spec", explain=_schema_reason)
    table = cpus or CpuTable.load()
    spec, issues = _build(doc, table)
    if issues or spec is None:
        raise ValidationFailed(issues, f"{doc.source}: not a usable spec")
    return spec


def _schema_reason(err: ValidationError) -> str:
    """The schema's message, in words for the rules a spec writer meets most."""
    at = list(err.path)
    if err.validator == "enum" and at and at[-1] == "operator":
        return f"unknown operator {err.instance!r}; use one of {', '.join(OPERATORS)}"
    if err.validator == "additionalProperties":
        return f"unknown field: {err.message.split('(')[-1].rstrip(')')}"
    if err.validator in ("if", "then", "not", "anyOf") or err.validator == "allOf":
        return _rule_reason(err.instance)
    return err.message


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


def _build(doc: Doc, cpus: CpuTable) -> tuple[Spec | None, list[Issue]]:
    source, data = doc.source, doc.data
    issues: list[Issue] = []
    reqs: list[Requirement] = []
    seen: set[str] = set()
    dims: dict[str, tuple[str, int]] = {}
    for i, raw in enumerate(data["requirements"]):
        at: tuple[str | int, ...] = ("requirements", i)
        if raw["id"] in seen:
            issues.append(doc.issue((*at, "id"), "duplicate requirement id", raw["id"]))
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
                doc.issue(
                    (*at, "value"),
                    "a list of values needs operator in, or type: cpu (any one reference CPU "
                    "satisfies it)",
                )
            )
            continue
        if kind == "quantity":
            if operator not in (">=", "<=", "=="):
                issues.append(doc.issue((*at, "operator"), "a quantity compares with >=, <= or =="))
                continue
            if unit is not None:
                try:
                    dimension_of(unit)
                except UnitError as exc:
                    issues.append(doc.issue((*at, "unit"), str(exc), unit))
                    continue
            try:
                reference = parse_quantity(str(value), unit)
            except UnitError as exc:
                issues.append(doc.issue((*at, "value"), str(exc), value))
                continue
            prev = dims.get(raw["attribute"])
            if prev and prev[0] != reference.dimension:
                issues.append(
                    doc.issue(
                        (*at, "unit"),
                        f"attribute '{raw['attribute']}' is {prev[0]} in requirements[{prev[1]}]",
                        unit,
                    )
                )
            dims.setdefault(raw["attribute"], (reference.dimension, i))
        elif kind == "cpu":
            if operator != ">=":
                issues.append(doc.issue((*at, "operator"), "a CPU rule uses >="))
                continue
            refs, problems = _cpu_references(doc, at, value, cpus)
            if problems:
                issues.extend(problems)
                continue
            value = " or ".join(c.model for c in refs) if isinstance(value, list) else value
        elif kind == "text":
            if operator not in ("in", "contains", "=="):
                issues.append(doc.issue((*at, "operator"), "text compares with in, contains, =="))
                continue
            options = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            if unit is not None:
                issues.append(doc.issue((*at, "unit"), "text takes no unit", unit))
        elif kind == "boolean" and operator != "true":
            issues.append(doc.issue((*at, "operator"), "a yes/no rule uses 'true'"))
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
    doc: Doc, at: tuple[str | int, ...], value: Any, cpus: CpuTable
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
            issues.append(doc.issue(where, f"reference CPU: {match.reason}", v))
        elif match.cpu in refs:
            issues.append(doc.issue(where, f"reference CPU {match.cpu.model} listed twice", v))
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
