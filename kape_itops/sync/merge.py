"""Per-field merge of inventory edits made in two places (pure: no I/O).

An incoming edit says "field went from ``old`` to ``new`` at ``at``". Against the server's
current value ``cur``: ``cur == new`` is nothing to do; ``cur == old`` is a plain edit to
apply; anything else means both sides edited the field, and the later edit wins (a tie keeps
the server's value). Either way the loser is kept as a :class:`Conflict` for a person.
Values are compared as the change log writes them (canonical text, empty as None).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from kape_itops.domain.sync import Conflict

SERVER = "server"
"""``kept_by`` of a conflict whose server side has no change-log entry to name."""


@dataclass(frozen=True, slots=True)
class FieldEdit:
    """One field of one entity changed at a site."""

    entity: str
    key: str
    field: str
    old: str | None
    new: str | None
    at: dt.datetime
    actor: str


@dataclass(frozen=True, slots=True)
class Current:
    """The server's value of the field and its newest change-log entry (if any)."""

    value: str | None
    at: dt.datetime | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to apply the incoming edit, and the conflict to record (if any)."""

    apply: bool
    conflict: Conflict | None = None


def norm(value: str | None) -> str | None:
    """Empty text as None (the change log writes cleared fields as NULL)."""
    return value if value not in (None, "") else None


def decide(
    edit: FieldEdit, cur: Current, site_uid: str | None = None, now: dt.datetime | None = None
) -> Decision:
    """What to do with ``edit`` given the server's current state of the field."""
    have, old, new = norm(cur.value), norm(edit.old), norm(edit.new)
    if have == new:
        return Decision(apply=False)
    if have == old:
        return Decision(apply=True)
    theirs_at = cur.at or dt.datetime.min.replace(tzinfo=dt.UTC)
    incoming_wins = edit.at > theirs_at
    server_at = cur.at or edit.at
    server_by = cur.actor or SERVER
    if incoming_wins:
        conflict = Conflict(
            entity=edit.entity,
            key=edit.key,
            field=edit.field,
            kept=new,
            kept_at=edit.at,
            kept_by=edit.actor,
            other=have,
            other_at=server_at,
            other_by=server_by,
            site_uid=site_uid,
            found_at=now,
        )
    else:
        conflict = Conflict(
            entity=edit.entity,
            key=edit.key,
            field=edit.field,
            kept=have,
            kept_at=server_at,
            kept_by=server_by,
            other=new,
            other_at=edit.at,
            other_by=edit.actor,
            site_uid=site_uid,
            found_at=now,
        )
    return Decision(apply=incoming_wins, conflict=conflict)


def snapshot(text: str | None) -> dict[str, str]:
    """The field texts of a ``create`` entry's JSON snapshot (``{}`` when not an object)."""
    if not text:
        return {}
    try:
        data: Any = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def create_edits(
    entity: str, key: str, new: str | None, at: dt.datetime, actor: str
) -> list[FieldEdit]:
    """A ``create`` entry as one edit per field (each from nothing to its value)."""
    return [FieldEdit(entity, key, f, None, v, at, actor) for f, v in sorted(snapshot(new).items())]
