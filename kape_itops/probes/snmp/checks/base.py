"""What every SNMP check shares: the question it asks, the answer it gets, the outcome it adds to.

A check module (``checks/<name>.py``) is pure: :func:`ask` says which scalars to GET and which
table columns to walk, :func:`judge` turns the agent's answer into findings, metrics and
``levels``. The probe does the I/O in between (one walk and one GET for all checks together).

Everything an agent sends is untrusted: wrong types (a string where an integer belongs),
impossible numbers (toner at 150 %, used space above the disk size) and counters that wrapped
or reset are reported as ``unknown`` with the raw numbers, never turned into a plausible lie.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kape_itops.domain.enums import ProbeStatus
from kape_itops.probes.base import worst
from kape_itops.probes.snmp.values import NUMERIC, Value, rows_from_columns

__all__ = [
    "Answer",
    "Ask",
    "CheckModule",
    "Context",
    "Finding",
    "Outcome",
    "Problems",
    "as_int",
    "walk_columns",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation: ``ok`` findings make the summary, others the reason."""

    status: ProbeStatus
    text: str


@dataclass(slots=True)
class Outcome:
    """What the evaluation of one device produced."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def add(self, status: ProbeStatus, text: str) -> None:
        self.findings.append(Finding(status, text))

    def level(self, key: str, status: ProbeStatus) -> None:
        """Record the verdict on one judged reading in ``metrics["levels"]`` (reports read it)."""
        self.metrics.setdefault("levels", {})[key] = status.value

    @property
    def status(self) -> ProbeStatus:
        return worst([f.status for f in self.findings])

    @property
    def reason(self) -> str:
        """The findings of the worst status, else the ok summary."""
        top = self.status
        texts = [f.text for f in self.findings if f.status == top]
        return "; ".join(texts) if texts else "ok"


class Problems:
    """Bad values met while reading a table: reported once, with a count, as ``unknown``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def note(self, text: str) -> None:
        self.items.append(text)

    def flush(self, out: Outcome, limit: int = 3) -> None:
        if not self.items:
            return
        shown = "; ".join(self.items[:limit])
        more = len(self.items) - limit
        out.add(ProbeStatus.UNKNOWN, shown + (f" (+{more} more)" if more > 0 else ""))


def as_int(value: Value | None, label: str, problems: Problems | None = None) -> int | None:
    """An integer value; a wrong type is noted as a problem, an absent one is None."""
    if value is None or value.absent:
        return None
    if value.kind in NUMERIC and isinstance(value.raw, int):
        return value.raw
    if problems is not None:
        problems.note(f"{label}: expected a number, got {value.describe()}")
    return None


@dataclass(frozen=True, slots=True)
class Context:
    """What checks are judged with: the profile's OID sections and thresholds, and the
    previous result's metrics (counters, uptime) with the time they were sampled."""

    sections: Mapping[str, Any]
    thresholds: Mapping[str, Mapping[str, float]]
    now: dt.datetime
    previous: Mapping[str, Any] | None = None
    prev_at: dt.datetime | None = None

    def section(self, name: str) -> Mapping[str, Any]:
        """One OID section of the profile, empty when absent."""
        value = self.sections.get(name)
        return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class Ask:
    """What one check reads: ``get`` scalars (``key -> OID``) and ``walk`` table columns
    (``"table.column" -> OID``)."""

    get: Mapping[str, str] = field(default_factory=dict)
    walk: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    """The agent's answer to one :class:`Ask`, keyed as asked (OIDs without a leading dot)."""

    scalars: Mapping[str, Value] = field(default_factory=dict)
    oids: Mapping[str, str] = field(default_factory=dict)
    """The OID asked for each scalar (for 'not exposed' messages)."""
    walked: Mapping[str, Sequence[tuple[str, Value]]] = field(default_factory=dict)
    bases: Mapping[str, str] = field(default_factory=dict)
    """The OID walked for each ``"table.column"``."""

    def table(self, name: str) -> dict[str, dict[str, Value]]:
        """The rows of one walked table, keyed by instance index."""
        prefix = name + "."
        picked = {k[len(prefix) :]: v for k, v in self.walked.items() if k.startswith(prefix)}
        bases = {k[len(prefix) :]: v for k, v in self.bases.items() if k.startswith(prefix)}
        return rows_from_columns(picked, bases)

    def cells(self, name: str) -> list[Value]:
        """Every value of one walked table, column by column in walk order."""
        prefix = name + "."
        return [v for k, rows in self.walked.items() if k.startswith(prefix) for _oid, v in rows]


def walk_columns(table: str, columns: Mapping[str, Any] | None) -> dict[str, str]:
    """``"table.column" -> OID`` for a profile's ``columns`` mapping (empty when absent)."""
    return {f"{table}.{name}": str(oid) for name, oid in (columns or {}).items()}


class CheckModule(Protocol):
    """A module of ``checks/``: the OID sections it needs, what it asks, how it judges."""

    @property
    def NEEDS(self) -> tuple[str, ...]:
        """The profile sections the check reads (a profile running it must have them)."""
        ...

    @property
    def KEPT(self) -> frozenset[str]:
        """The metrics it writes that reports read (the kind's ``kept_metrics`` holds them)."""
        ...

    def ask(self, ctx: Context, found: Mapping[str, Any]) -> Ask:
        """The scalars and columns to read; ``found`` is what the system check measured."""
        ...

    def judge(self, ctx: Context, answer: Answer, out: Outcome) -> None:
        """Findings, metrics and levels from the answer."""
        ...
