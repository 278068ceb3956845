"""Terminal rendering helpers: one console, markup escaping, JSON output."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def safe(value: object) -> str:
    """Text for rich: device-supplied strings are escaped so '[' cannot become markup."""
    if value is None:
        return ""
    return escape(str(value))


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, dates and decimals as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to stdout (no rich markup processing)."""
    print(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, sort_keys=False))


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A rich table whose every cell is escaped."""
    t = Table(title=safe(title) if title else None, header_style="bold")
    for c in columns:
        t.add_column(safe(c))
    for row in rows:
        t.add_row(*(safe(v) for v in row))
    return t
