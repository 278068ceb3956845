"""Bulk inserts of many rows: COPY on PostgreSQL, one executemany elsewhere.

A site catching up after days offline pushes results by the hundred thousand; an INSERT per
row (what executemany amounts to on PostgreSQL) is the slowest part of ingesting them. COPY
bypasses SQLAlchemy's type handling, so values must already be what the columns hold: aware
datetimes, JSON-able values for JSON columns (serialised here), plain numbers and text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

_CHUNK = 5000


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def insert_many(s: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    if s.get_bind().dialect.name != "postgresql":
        for i in range(0, len(rows), _CHUNK):
            s.execute(insert(table), list(rows[i : i + _CHUNK]))
        return
    cols = list(rows[0])
    convert: list[Callable[[Any], Any] | None] = [
        _json if isinstance(table.c[c].type, JSON) else None for c in cols
    ]
    plain = all(f is None for f in convert)
    s.flush()  # pending ORM rows first: COPY runs on the same connection and transaction
    dbapi: Any = s.connection().connection.dbapi_connection  # psycopg's Connection
    names = ", ".join(f'"{c}"' for c in cols)
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            if plain:
                copy.write_row([row[c] for c in cols])
            else:
                copy.write_row(
                    [f(row[c]) if f else row[c] for c, f in zip(cols, convert, strict=True)]
                )


def copy_text(s: Session, table: Table, columns: Sequence[str], text: str) -> None:
    """COPY rows already written as PostgreSQL COPY text lines into ``table`` (one round trip
    per ~8 MB) in the session's transaction."""
    if not text:
        return
    s.flush()
    dbapi: Any = s.connection().connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for i in range(0, len(text), _TEXT_CHUNK):
            copy.write(text[i : i + _TEXT_CHUNK])


_TEXT_CHUNK = 1 << 23
