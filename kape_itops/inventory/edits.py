"""Single-device edits from a form, checked exactly as an import row is.

A form is turned into one import row (header = field names, cells = the changed values) and
goes through :func:`~kape_itops.inventory.validate.parse_row` and
:class:`~kape_itops.inventory.validate.DeviceChecker` against the database, so a form refuses
what an import refuses, with every error at once, each named by its field. Reasons for a move,
retirement or repair become a dated line in the device's notes (so the change log keeps them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.fields import CLEAR_MARKER, DEVICE_COLUMNS, to_text
from kape_itops.domain.inventory import Change, Device
from kape_itops.domain.text import refusal
from kape_itops.errors import Issue, UsageError
from kape_itops.inventory.validate import (
    NEW_TAG,
    REQUIRED_COLUMNS,
    DeviceChecker,
    Lookups,
    ParsedRow,
    map_header,
    parse_row,
)
from kape_itops.store.inventory_repo import InventoryRepo

FORM = "form"
"""The ``file`` of issues found in a form."""
NOTES_MAX = 2000
REASON_MAX = 500
MOVE_FIELDS = frozenset({"school", "room"})
"""Fields a plain edit leaves to Move (which asks for a reason)."""
REASON_STATUSES = frozenset({DeviceStatus.RETIRED, DeviceStatus.IN_REPAIR})
"""Statuses a plain edit leaves to Retire and Repair (which ask for a reason)."""


@dataclass(frozen=True, slots=True)
class Edited:
    """What an edit did: the device's tag now, the changes logged, and warnings."""

    tag: str
    changes: list[Change]
    warnings: list[Issue]


def form_cells(
    current: Device | None, values: Mapping[str, str], shown: Mapping[str, str] | None = None
) -> tuple[list[str], list[str], list[Issue]]:
    """Header and cells of the import row a form amounts to, and issues of unknown fields.

    Only fields whose value differs from what the form showed (``shown``, else the device as
    stored) are changed; an emptied field is cleared. ``asset_tag`` differing from the stored
    tag renames the device. ``current`` None: a new device, every non-blank value is set.
    """
    header: list[str] = []
    cells: list[str] = []
    issues: list[Issue] = []
    tag = current.asset_tag if current is not None else values.get("asset_tag", "")
    for name, text in values.items():
        if name not in DEVICE_COLUMNS:
            issues.append(Issue(FORM, None, name, None, f"'{name}' is not a device field"))
            continue
        if current is None:
            if name != "asset_tag" and text.strip():
                header.append(name)
                cells.append(text)
            continue
        before = (shown or {}).get(name, to_text(getattr(current, name)))
        if text.strip() == before.strip():
            continue
        header.append(NEW_TAG if name == "asset_tag" else name)
        cells.append(text if text.strip() else CLEAR_MARKER)
    return ["asset_tag", *header], [tag, *cells], issues


def check_row(
    repo: InventoryRepo, header: list[str], cells: list[str]
) -> tuple[ParsedRow, list[Issue]]:
    """The row parsed and checked against the database: (row, its issues, form-named)."""
    missing = [c for c in REQUIRED_COLUMNS["devices"] if c not in header]  # blank: no change
    header, cells = [*header, *missing], [*cells, *("" for _ in missing)]
    hmap, issues = map_header("devices", FORM, None, header, str)
    row = parse_row("devices", FORM, 1, cells, hmap, str)
    schools = {s.code: s.subnets for s in repo.schools()}
    checker = DeviceChecker(FORM, schools)
    need = checker.needed([row])
    look = Lookups(
        repo.devices_by_tag(need.tags),
        repo.owners("serial", need.serials),
        repo.owners("mac", need.macs),
        repo.tag_spellings(need.tags),
    )
    issues += checker.check([row], look)
    return row, [_form_issue(i) for i in issues]


def _form_issue(issue: Issue) -> Issue:
    """An issue as the form shows it: no row, the field as the form names it."""
    column = "asset_tag" if issue.column == NEW_TAG else issue.column
    reason = issue.reason.replace(NEW_TAG, "asset_tag")
    return Issue(FORM, None, column, issue.value, reason, issue.severity)


def reserved(header: list[str], cells: list[str]) -> list[Issue]:
    """Issues for fields a plain edit may not change: school and room (Move), the status
    retired or in repair (Retire, Repair), each of which records a reason."""
    out: list[Issue] = []
    for name, text in zip(header, cells, strict=True):
        if name in MOVE_FIELDS:
            out.append(Issue(FORM, None, name, text, "change it with Move (it asks for a reason)"))
        elif name == "status" and text.strip().lower() in REASON_STATUSES:
            out.append(
                Issue(FORM, None, name, text, "use Retire or Repair (they ask for a reason)")
            )
    return out


def reason_text(reason: str | None, source: str = "", purpose: str = "") -> str:
    """The reason, trimmed; UsageError when it is missing, too long or holds hidden text
    (named ``--reason`` when ``source`` is a command; ``purpose``: " to retire a device")."""
    name = "--reason" if source.startswith("cli") else "the reason"
    text = (reason or "").strip()
    if not text:
        missing = "--reason" if source.startswith("cli") else "a reason"
        raise UsageError(f"{missing} is required{purpose}")
    if len(text) > REASON_MAX:
        raise UsageError(f"{name} is longer than {REASON_MAX} characters")
    if why := refusal(text):
        raise UsageError(f"{name}: {why}" if source.startswith("cli") else f"{name} {why}")
    return text


def noted(current: Device, line: str) -> str:
    """The device's notes with ``line`` added; UsageError when they would grow too long."""
    notes = f"{current.notes}\n{line}" if current.notes else line
    if len(notes) > NOTES_MAX:
        raise UsageError(
            f"the notes of {current.asset_tag} would be longer than {NOTES_MAX} characters; "
            "shorten them first (the change log keeps every earlier version)"
        )
    return notes


def dated(what: str, reason: str, detail: str = "", today: dt.date | None = None) -> str:
    """A notes line: ``Retired 2026-12-04: reason``, ``Moved 2026-12-04 from A to B: reason``."""
    day = (today or dt.date.today()).isoformat()
    return f"{what} {day}{' ' + detail if detail else ''}: {reason}"
