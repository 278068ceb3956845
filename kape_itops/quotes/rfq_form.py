"""An RFQ from the plain values of a form (no YAML): text in, ``rfq.yaml`` data out, every
problem named by the form field it belongs to, checked by the same schema and rules as
``rfq.yaml`` (:func:`kape_itops.quotes.rfq.rfq_from_data`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from kape_itops.errors import Issue, UsageError, ValidationFailed
from kape_itops.quotes.rfq import Rfq, parse_weights, rfq_from_data

__all__ = ["DEFAULTS", "FIELDS", "LINE_FIELDS", "RfqProblems", "form_rfq", "rfq_yaml"]

FIELDS = (
    "rfq",
    "title",
    "spec",
    "buyer",
    "currency",
    "evaluation_date",
    "submission_deadline",
    "required_quotes",
    "rate_per_usd",
    "rate_date",
    "rate_source",
    "vat_rate",
    "vat_basis",
    "arithmetic",
    "blank_mandatory",
    "method",
    "weights",
    "award",
    "abnormally_low",
    "min_technical_score",
)
"""The form's fields; ``rate_*`` and ``vat_*`` are the parts of ``rate:`` and ``vat:``."""
LINE_FIELDS = ("lot", "lot_name", "item", "description", "quantity", "unit", "technical")
DEFAULTS = {
    "currency": "USD",
    "required_quotes": "3",
    "vat_rate": "10",
    "vat_basis": "exclusive",
    "arithmetic": "unit_price",
    "blank_mandatory": "fail",
    "method": "lowest",
    "weights": "80:20",
    "award": "lot",
    "abnormally_low": "0.7",
    "min_technical_score": "0",
}
"""What a new RFQ form starts with (the rfq.yaml defaults)."""
MAX_DIGITS = 12
"""Numbers of more digits before the point are refused (no sane quantity, rate or price)."""
_DATES = ("evaluation_date", "submission_deadline", "rate_date")
_PATHS = {"rate.per_usd": "rate_per_usd", "rate.date": "rate_date", "rate.source": "rate_source"}
_PATHS |= {"vat.rate": "vat_rate", "vat.basis": "vat_basis", "lots": "lines", "rfq": "rfq"}
_LINE = re.compile(r"lots\[(\d+)\](?:\.lines\[(\d+)\])?(?:\.(\w+))?$")
_REQUIRED = re.compile(r"'(\w+)' is a required property")


class RfqProblems(ValidationFailed):
    """An RFQ form refused; ``fields`` maps each form field to its problems."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(issues, "the RFQ cannot be created")
        self.fields: dict[str, list[str]] = {}
        for i in self.issues:
            self.fields.setdefault(i.file, []).append(i.reason)


def _number(text: str) -> Any:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if not value.is_finite() or value.adjusted() > MAX_DIGITS:
        return text  # the schema then says it is not a number
    return int(value) if value == value.to_integral_value() else float(value)


def _data(
    values: Mapping[str, str], lines: Sequence[Mapping[str, str]]
) -> tuple[dict[str, Any], dict[tuple[int, int], int], list[Issue]]:
    """(rfq.yaml data, (lot, line) -> form row, problems found before the schema)."""
    v = {k: str(values.get(k, "")).strip() for k in FIELDS}
    issues = [Issue(k, None, None, None, "required") for k in ("rfq", "title", "spec") if not v[k]]
    for k in _DATES:
        if v[k]:
            try:
                dt.date.fromisoformat(v[k])
            except ValueError:
                issues.append(Issue(k, None, None, v[k], "not a date (YYYY-MM-DD)"))
    data: dict[str, Any] = {k: v[k] for k in ("rfq", "title", "spec") if v[k]}
    for k in ("buyer", "currency", "evaluation_date", "submission_deadline", "method"):
        if v[k]:
            data[k] = v[k]
    for k in ("arithmetic", "blank_mandatory", "weights", "award"):
        if v[k]:
            data[k] = v[k]
    for k in ("abnormally_low", "min_technical_score"):
        if v[k]:
            data[k] = _number(v[k])
    if v["required_quotes"]:
        n = _number(v["required_quotes"])
        data["required_quotes"] = n if isinstance(n, int) else v["required_quotes"]
    if v["rate_per_usd"] or v["rate_date"] or v["rate_source"]:
        data["rate"] = {"currency": "KHR"}
        if v["rate_per_usd"]:
            data["rate"]["per_usd"] = _number(v["rate_per_usd"])
        if v["rate_date"]:
            data["rate"]["date"] = v["rate_date"]
        if v["rate_source"]:
            data["rate"]["source"] = v["rate_source"]
    vat: dict[str, Any] = {}
    if v["vat_rate"]:
        vat["rate"] = _number(v["vat_rate"])
    if v["vat_basis"]:
        vat["basis"] = v["vat_basis"]
    if vat:
        data["vat"] = vat
    lots: dict[str, dict[str, Any]] = {}
    where: dict[tuple[int, int], int] = {}
    for row, raw in enumerate(lines):
        ln = {k: str(raw.get(k, "")).strip() for k in LINE_FIELDS}
        if not (ln["item"] or ln["description"] or ln["quantity"]):
            continue
        lot = lots.setdefault(ln["lot"] or "1", {"id": ln["lot"] or "1", "lines": []})
        if ln["lot_name"] and "name" not in lot:
            lot["name"] = ln["lot_name"]
        line: dict[str, Any] = {"item": ln["item"]}
        if ln["description"]:
            line["description"] = ln["description"]
        if ln["quantity"]:
            line["quantity"] = _number(ln["quantity"])
        if ln["unit"]:
            line["unit"] = ln["unit"]
        line["technical"] = ln["technical"].lower() in ("on", "yes", "true", "1")
        where[(list(lots).index(lot["id"]), len(lot["lines"]))] = row
        lot["lines"].append(line)
    data["lots"] = list(lots.values())
    return data, where, issues


def _field(issue: Issue, source: str, where: dict[tuple[int, int], int]) -> Issue:
    """The schema's issue with the form field as its ``file``."""
    path = issue.file.removeprefix(f"{source} at ")
    field = _PATHS.get(path, path)
    m = _LINE.match(path)
    if m:
        lot, line = int(m.group(1)), int(m.group(2) or 0)
        key = m.group(3) or ""
        if not m.group(2) and key == "id":
            key = "lot"
        if not key and (r := _REQUIRED.search(issue.reason)):
            key = r.group(1)
        field = f"line-{where.get((lot, line), 0)}-{key or 'item'}"
    elif path in ("(document)", "rate", "vat") and (r := _REQUIRED.search(issue.reason)):
        field = _PATHS.get(f"{path}.{r.group(1)}", r.group(1))
    reason = "required" if _REQUIRED.fullmatch(issue.reason) else issue.reason
    return Issue(field, None, None, issue.value, reason)


def form_rfq(
    values: Mapping[str, str], lines: Sequence[Mapping[str, str]]
) -> tuple[Rfq, dict[str, Any]]:
    """The RFQ of a form and its rfq.yaml data; :class:`RfqProblems` with every problem."""
    source = "form"
    data, where, issues = _data(values, lines)
    if v_weights := str(values.get("weights", "")).strip():
        try:
            parse_weights(v_weights)
        except UsageError as exc:
            issues.append(Issue("weights", None, None, v_weights, str(exc)))
    if not data["lots"]:
        issues.append(
            Issue("lines", None, None, None, "give at least one line (item and quantity)")
        )
    try:
        rfq = rfq_from_data(data, source)
    except ValidationFailed as exc:
        issues += [_field(i, source, where) for i in exc.issues]
        raise RfqProblems(_unique(issues)) from None
    if issues:
        raise RfqProblems(_unique(issues))
    return rfq, data


def _unique(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for i in issues:
        if (i.file, i.reason) not in seen:
            seen.add((i.file, i.reason))
            out.append(i)
    return out


def rfq_yaml(data: Mapping[str, Any]) -> str:
    """The ``rfq.yaml`` text of the data (keys in the form's order, dates as quoted text)."""
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
