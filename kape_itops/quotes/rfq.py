"""The request for quotation (``rfq.yaml``): lines, lots, rate, VAT policy, method and rules."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kape_itops.errors import UsageError, ValidationFailed
from kape_itops.schemadoc import Doc, check_doc, schema_issues, validator

__all__ = [
    "Lot",
    "Rate",
    "Rfq",
    "RfqLine",
    "load_rfq",
    "parse_rate",
    "parse_weights",
    "rfq_from_data",
]

METHODS = ("lowest", "qcbs")
AWARDS = ("whole", "lot", "line")
ARITHMETIC = ("unit_price", "line_total")
BLANK_MANDATORY = ("fail", "clarify")
NO_SOURCE = "source not stated"

_DATE = {"type": ["string"], "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rfq", "title", "spec", "lots"],
    "properties": {
        "rfq": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "spec": {"type": "string", "minLength": 1},
        "buyer": {"type": "string"},
        "currency": {"enum": ["USD", "KHR"]},
        "evaluation_date": _DATE,
        "submission_deadline": _DATE,
        "required_quotes": {"type": "integer", "minimum": 1},
        "rate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["currency", "per_usd", "date"],
            "properties": {
                "currency": {"enum": ["KHR"]},
                "per_usd": {"type": "number", "exclusiveMinimum": 0},
                "date": _DATE,
                "source": {"type": "string"},
            },
        },
        "vat": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "rate": {"type": "number", "minimum": 0, "maximum": 100},
                "basis": {"enum": ["exclusive", "inclusive"]},
            },
        },
        "arithmetic": {"enum": list(ARITHMETIC)},
        "blank_mandatory": {"enum": list(BLANK_MANDATORY)},
        "method": {"enum": list(METHODS)},
        "weights": {"type": "string", "pattern": r"^\d+:\d+$"},
        "award": {"enum": list(AWARDS)},
        "abnormally_low": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "min_technical_score": {"type": "number", "minimum": 0, "maximum": 100},
        "lots": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "lines"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "lines": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["item", "quantity"],
                            "properties": {
                                "item": {"type": "string", "minLength": 1},
                                "description": {"type": "string"},
                                "quantity": {"type": "number", "exclusiveMinimum": 0},
                                "unit": {"type": "string"},
                                "technical": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
        },
    },
}

_VALIDATOR = validator(_SCHEMA)


def _dates_as_text(data: Any) -> Any:
    """The dates YAML read as dates, back to ISO text for the schema's date pattern."""
    if isinstance(data, dict):
        for key in ("evaluation_date", "submission_deadline"):
            if isinstance(data.get(key), dt.date):
                data[key] = data[key].isoformat()
        if isinstance(data.get("rate"), dict) and isinstance(data["rate"].get("date"), dt.date):
            data["rate"]["date"] = data["rate"]["date"].isoformat()
    return data


@dataclass(frozen=True, slots=True)
class RfqLine:
    """One requested item; ``technical`` lines are checked against the spec."""

    item: str
    description: str
    quantity: Decimal
    unit: str
    lot: str
    technical: bool


@dataclass(frozen=True, slots=True)
class Lot:
    """A group of lines awarded together."""

    id: str
    name: str
    lines: tuple[RfqLine, ...]


@dataclass(frozen=True, slots=True)
class Rate:
    """A stated, dated exchange rate: ``per_usd`` units of ``currency`` buy one US dollar.

    ``source`` names where the rate comes from (e.g. the National Bank of Cambodia); empty when
    nobody said, which every report shows as "source not stated".
    """

    currency: str
    per_usd: Decimal
    date: dt.date
    source: str = ""

    @property
    def shown_source(self) -> str:
        """The source, or "source not stated"."""
        return self.source.strip() or NO_SOURCE

    def __str__(self) -> str:
        where = f"source: {self.source.strip()}" if self.source.strip() else NO_SOURCE
        return f"1 USD = {self.per_usd:,} {self.currency} on {self.date.isoformat()} ({where})"


@dataclass(frozen=True, slots=True)
class Rfq:
    """A validated request for quotation."""

    id: str
    title: str
    spec: str
    currency: str
    evaluation_date: dt.date | None
    submission_deadline: dt.date | None
    required_quotes: int
    rate: Rate | None
    vat_rate: Decimal
    vat_basis: str
    arithmetic: str
    method: str
    weights: tuple[int, int]
    award: str
    abnormally_low: Decimal
    lots: tuple[Lot, ...]
    source: str
    min_technical_score: Decimal = Decimal(0)
    blank_mandatory: str = "fail"

    @property
    def lines(self) -> tuple[RfqLine, ...]:
        """Every line of every lot."""
        return tuple(line for lot in self.lots for line in lot.lines)


def parse_rate(text: str) -> Rate:
    """``KHR=4100@2026-11-01 National Bank of Cambodia``: 1 USD = 4100 KHR on that date, and
    where the rate comes from (optional text after the date; without it the reports say
    "source not stated")."""
    m = re.fullmatch(
        r"\s*([A-Za-z]{3})\s*=\s*([\d.,_]+)\s*@\s*(\d{4}-\d{2}-\d{2})(?:\s+(.*?))?\s*",
        text,
        re.DOTALL,
    )
    if not m:
        raise UsageError(
            f"rate '{text}' is not CUR=RATE@YYYY-MM-DD [SOURCE] (e.g. KHR=4100@2026-11-01 "
            "National Bank of Cambodia); a rate must be stated and dated"
        )
    currency = m.group(1).upper()
    if currency != "KHR":
        raise UsageError(f"rate '{text}': only KHR per USD is supported")
    try:
        value = Decimal(m.group(2).replace(",", "").replace("_", ""))
        day = dt.date.fromisoformat(m.group(3))
    except (InvalidOperation, ValueError) as exc:
        raise UsageError(f"rate '{text}': {exc}") from exc
    if value <= 0:
        raise UsageError(f"rate '{text}': must be positive")
    return Rate(currency, value, day, " ".join((m.group(4) or "").split()))


def parse_weights(text: str) -> tuple[int, int]:
    """``80:20`` -> (80, 20): technical and financial weights summing to 100."""
    m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if not m or int(m.group(1)) + int(m.group(2)) != 100:
        raise UsageError(f"weights '{text}' must be TECH:FIN summing to 100, e.g. 80:20")
    return int(m.group(1)), int(m.group(2))


def load_rfq(path: Path) -> Rfq:
    """Load and validate ``rfq.yaml``; raises :class:`ValidationFailed` with every problem."""
    source = str(path)
    doc, issues = check_doc(path, _VALIDATOR, prepare=_dates_as_text)
    if issues or doc is None:
        raise ValidationFailed(issues, f"{source}: not a usable RFQ")
    return _build(doc)


def rfq_from_data(data: dict[str, Any], source: str) -> Rfq:
    """An RFQ from plain values (e.g. a web form), checked by the same schema and rules as
    ``rfq.yaml``; :class:`ValidationFailed` with every problem, each at its path
    (``source at lots[0].lines[1].quantity``)."""
    doc = Doc(_dates_as_text(dict(data)), source, {})
    issues = schema_issues(doc, _VALIDATOR)
    if issues:
        raise ValidationFailed(issues, f"{source}: not a usable RFQ")
    return _build(doc)


def _build(doc: Doc) -> Rfq:
    """The RFQ of a schema-checked document; ValidationFailed for a duplicate item."""
    source = doc.source
    issues = []
    data = doc.data
    award = data.get("award", "lot")
    lots: list[Lot] = []
    seen: set[str] = set()
    for i, raw_lot in enumerate(data["lots"]):
        rows = []
        for j, raw in enumerate(raw_lot["lines"]):
            if raw["item"] in seen:
                issues.append(
                    doc.issue(("lots", i, "lines", j, "item"), "duplicate item", raw["item"])
                )
            seen.add(raw["item"])
            rows.append(
                RfqLine(
                    item=raw["item"],
                    description=raw.get("description", ""),
                    quantity=Decimal(str(raw["quantity"])),
                    unit=raw.get("unit", "pcs"),
                    lot=str(raw_lot["id"]),
                    technical=bool(raw.get("technical", True)),
                )
            )
        lots.append(Lot(str(raw_lot["id"]), raw_lot.get("name", ""), tuple(rows)))
    if issues:
        raise ValidationFailed(issues, f"{source}: not a usable RFQ")
    if award == "whole":
        lots = [Lot("all", "All lots", tuple(ln for lot in lots for ln in lot.lines))]
    elif award == "line":
        lots = [Lot(ln.item, ln.description or ln.item, (ln,)) for lot in lots for ln in lot.lines]
    raw_rate = data.get("rate")
    rate = (
        Rate(
            raw_rate["currency"],
            Decimal(str(raw_rate["per_usd"])),
            dt.date.fromisoformat(raw_rate["date"]),
            " ".join(str(raw_rate.get("source", "")).split()),
        )
        if raw_rate
        else None
    )
    vat = data.get("vat", {})
    return Rfq(
        id=data["rfq"],
        title=data["title"],
        spec=data["spec"],
        currency=data.get("currency", "USD"),
        evaluation_date=_date(data.get("evaluation_date")),
        submission_deadline=_date(data.get("submission_deadline")),
        required_quotes=int(data.get("required_quotes", 3)),
        rate=rate,
        vat_rate=Decimal(str(vat.get("rate", 10))),
        vat_basis=vat.get("basis", "exclusive"),
        arithmetic=data.get("arithmetic", "unit_price"),
        method=data.get("method", "lowest"),
        weights=parse_weights(data.get("weights", "80:20")),
        award=award,
        abnormally_low=Decimal(str(data.get("abnormally_low", 0.7))),
        min_technical_score=Decimal(str(data.get("min_technical_score", 0))),
        blank_mandatory=data.get("blank_mandatory", "fail"),
        lots=tuple(lots),
        source=source,
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
