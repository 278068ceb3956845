"""Evaluation reports: canonical JSON, the render-neutral model every renderer shares, and
:func:`kape_itops.quotes.report_files.write_report` picks the renderer by the file's suffix.

The canonical JSON (sorted keys, no clock time) is what is hashed and stored: the same inputs give
byte-identical JSON. The renderers: :mod:`.report_html` (Jinja2 with autoescape and inline CSS),
:mod:`.report_md` (Markdown) and :mod:`.report_xlsx` (cells neutralised against formula injection).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from kape_itops.domain.text import reveal_json
from kape_itops.errors import UsageError
from kape_itops.quotes.audit import sha256_bytes
from kape_itops.quotes.khmer import LANGS
from kape_itops.quotes.result import FAIL, PASS, Evaluation, LotResult, RequirementCheck
from kape_itops.quotes.rules import quotation_counts, rate_note

__all__ = [
    "SYMBOLS",
    "Cell",
    "Matrix",
    "MatrixRow",
    "audit_inputs",
    "canonical_dumps",
    "canonical_json",
    "check_lang",
    "decisive",
    "deviations",
    "header_notes",
    "jsonable",
    "lot_counts",
    "matrices",
    "result_sha256",
    "symbol",
]

SYMBOLS = {PASS: "✓", FAIL: "✗"}
UNVERIFIED_SYMBOL = "?"


def symbol(status: str) -> str:
    """✓ pass, ✗ fail, ? cannot verify."""
    return SYMBOLS.get(status, UNVERIFIED_SYMBOL)


_FIELDS: dict[type, tuple[tuple[str, int], ...]] = {}


def _names(value: Any) -> tuple[tuple[str, int], ...] | None:
    """(field, position) pairs of a dataclass or named tuple, sorted by field name; cached."""
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None:
        if hasattr(kind, "_fields") and isinstance(value, tuple):
            fields = list(kind._fields)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [f.name for f in dataclasses.fields(value)]
        else:
            return None
        names = _FIELDS[kind] = tuple(sorted((n, i) for i, n in enumerate(fields)))
    return names


def jsonable(value: Any) -> Any:
    """Plain JSON values with every object's keys in sorted order.

    Dataclasses and named tuples become objects, decimals strings, dates ISO text. Keys come out
    sorted, so the canonical encoder needs no ``sort_keys`` pass.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is Decimal:
        return str(value)
    names = _FIELDS.get(kind) or _names(value)
    if names is not None:
        if isinstance(value, tuple):
            return {
                n: v if type(v) is str else str(v) if type(v) is Decimal else jsonable(v)
                for n, i in names
                for v in (value[i],)
            }
        return {n: jsonable(getattr(value, n)) for n, _ in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return (
            {k: jsonable(value[k]) for k in sorted(value, key=str)}
            if all(type(k) is str for k in value)
            else {str(k): jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        )
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def canonical_json(evaluation: Evaluation) -> str:
    """Sorted keys, compact separators, UTF-8 text, one trailing newline; no clock time."""
    dumped = json.dumps(jsonable(evaluation), ensure_ascii=False, separators=(",", ":"))
    return reveal_json(dumped) + "\n"


def canonical_dumps(data: Any) -> str:
    """The canonical text of plain JSON data (also used to compare with a pretty golden file)."""
    dumped = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return reveal_json(dumped) + "\n"


def result_sha256(evaluation: Evaluation) -> str:
    """SHA-256 of the canonical JSON."""
    return sha256_bytes(canonical_json(evaluation).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Cell:
    """One requirement × vendor cell."""

    value: str
    status: str
    reason: str

    @property
    def symbol(self) -> str:
        """✓, ✗ or ?."""
        return symbol(self.status)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One requirement across vendors."""

    id: str
    label: str
    rule: str
    level: str
    cells: tuple[Cell | None, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    """The comparison matrix of one technical item."""

    item: str
    vendors: tuple[str, ...]
    rows: tuple[MatrixRow, ...]


def matrices(ev: Evaluation) -> list[Matrix]:
    """A requirement × vendor matrix per technical item quoted by anyone."""
    items: list[str] = []
    for v in ev.vendors:
        for c in v.checks:
            if c.item not in items:
                items.append(c.item)
    out: list[Matrix] = []
    for item in items:
        by_vendor: list[dict[str, RequirementCheck]] = [
            {c.requirement: c for c in v.checks if c.item == item} for v in ev.vendors
        ]
        rows = []
        for r in ev.requirements:
            cells = tuple(
                Cell(hit.value, hit.status, hit.reason) if (hit := checks.get(r["id"])) else None
                for checks in by_vendor
            )
            rows.append(MatrixRow(r["id"], r["label"], r["rule"], r["level"], cells))
        out.append(Matrix(item, tuple(v.vendor for v in ev.vendors), tuple(rows)))
    return out


def deviations(ev: Evaluation) -> dict[str, list[str]]:
    """Every deviation per quotation: flags, corrections, failed and unverified requirements."""
    labels = {r["id"]: r["label"] for r in ev.requirements}
    levels = {r["id"]: r["level"] for r in ev.requirements}
    out: dict[str, list[str]] = {}
    for v in ev.vendors:
        found = [f"[{f.severity}] {f.message}" for f in v.flags]
        found += [
            f"[arithmetic] {c.item} row {c.row}: {c.note}" for c in v.corrections if c.changed
        ]
        for c in v.checks:
            if c.status == PASS:
                continue
            state = "fails" if c.status == FAIL else "cannot verify"
            price = f"; priced deviation {ev.currency} {c.deviation:,}" if c.deviation else ""
            found.append(
                f"[{levels[c.requirement]}] {c.item} {state} {c.requirement} "
                f"({labels[c.requirement]}): {c.reason}{price}"
            )
        for lot in ev.lots:
            for o in lot.offers:
                if o.quote == v.quote:
                    found += [f"[{f.severity}] lot {lot.lot}: {f.message}" for f in o.flags]
        out[v.quote] = found
    return out


def decisive(ev: Evaluation) -> dict[tuple[str, str], list[str]]:
    """Per (lot, quote) not ranked: the mandatory checks that kept it out, with their findings
    ("LT-1 cpu: Core i3-1215U index 185 < Ryzen 5 5500U index 215 …"), for the ranking table."""
    mandatory = {r["id"] for r in ev.requirements if r["level"] == "mandatory"}
    checks = {v.quote: v.checks for v in ev.vendors}
    out: dict[tuple[str, str], list[str]] = {}
    for lot in ev.lots:
        for o in lot.offers:
            if o.rank is not None:
                continue
            out[(lot.lot, o.quote)] = [
                f"{c.item} {c.requirement}: {c.reason}"
                for c in checks.get(o.quote, ())
                if c.item in lot.items and c.requirement in mandatory and c.status != PASS
            ]
    return out


def header_notes(ev: Evaluation) -> list[str]:
    """Notes on the whole evaluation: a rate without a source, then the evaluation's notes."""
    warning = rate_note(ev.rate, ev.rate_source)
    return ([warning] if warning else []) + list(ev.notes)


def lot_counts(ev: Evaluation, lot: LotResult) -> str:
    """The lot's quotation counts: "4 received, 2 responsive, 1 compliant (3 required)"."""
    return quotation_counts(
        lot.received_count, lot.responsive_count, lot.compliant_count, ev.required_quotes
    )


def audit_inputs(ev: Evaluation) -> list[dict[str, str]]:
    """The hashed input files of the audit block."""
    inputs = ev.audit.get("inputs", [])
    return [dict(i) for i in inputs] if isinstance(inputs, list) else []


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language ("en", "km", "en+km"), else UsageError."""
    if lang not in LANGS:
        raise UsageError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
    return lang

