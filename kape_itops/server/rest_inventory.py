"""``/api/v1`` schools and devices: search, one device, edit, move, retire, repair.

Writes go through :class:`~kape_itops.inventory.service.Inventory` with the caller's user name
as the change log's actor and a source starting ``api:``; an edit is validated exactly as an
import row (every error at once, 422). Routes are plain ``def``: FastAPI runs them in its
thread pool.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from kape_itops.config import DEFAULT_TZ, load_zone
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import Change, DeviceFilter
from kape_itops.errors import NotFoundError, UsageError, ValidationFailed
from kape_itops.inventory.service import Inventory
from kape_itops.reports.current import CurrentStatus
from kape_itops.server.rest_auth import InventoryWriter, Reader
from kape_itops.server.rest_models import (
    DeviceDetail,
    DevicePageOut,
    Edited,
    Error,
    Invalid,
    MoveIn,
    ReasonIn,
    RepairIn,
    SchoolOut,
    WarrantyOut,
    change_out,
    device_out,
    issue_out,
    problem_out,
    result_out,
    school_out,
)
from kape_itops.server.web.auth import database

router = APIRouter(tags=["inventory"])
MAX_PAGE = 10_000
RECENT_CHANGES = 50
WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Error, "description": "refused (the message says why)"},
    403: {"model": Error, "description": "the role may not change the inventory"},
    404: {"model": Error, "description": "no such device or school"},
    422: {"model": Invalid, "description": "values refused, every issue named by its field"},
}
EditValue = str | int | float | list[str] | None


def _inventory(request: Request, actor: str = "api") -> Inventory:
    return Inventory(database(request).store, actor)


def _school_code(inventory: Inventory, code: str | None) -> str | None:
    """``code`` upper-cased; 404 naming the parameter when no such school exists."""
    if code is None or not code.strip():
        return None
    wanted = code.strip().upper()
    if wanted not in {s.code for s in inventory.schools()}:
        raise NotFoundError(f"school: no school with code '{wanted}'")
    return wanted


@router.get("/schools")
def schools(request: Request, _user: Reader) -> list[SchoolOut]:
    """Every school, by code."""
    return [school_out(s) for s in sorted(_inventory(request).schools(), key=lambda s: s.code)]


@router.get("/devices")
def devices(
    request: Request,
    _user: Reader,
    q: Annotated[str, Query(max_length=200, description="tag, serial, MAC, IP or name")] = "",
    school: Annotated[str | None, Query(max_length=32)] = None,
    kind: DeviceKind | None = None,
    status: DeviceStatus | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DevicePageOut:
    """Devices whose tag, serial, MAC, IP or host name holds ``q`` (ignoring case; an exact
    tag first), filtered by school, kind and status; ``page`` of ``per_page``."""
    inventory = _inventory(request)
    code = _school_code(inventory, school)
    flt = DeviceFilter(
        schools=(code,) if code else (),
        kinds=(kind,) if kind else (),
        statuses=(status,) if status else (),
    )
    found = inventory.search(q, page, flt, per_page)
    return DevicePageOut(
        devices=[device_out(d) for d in found.devices],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        pages=found.pages,
    )


def _zone() -> dt.tzinfo:
    return load_zone(os.environ.get("ITOPS_TZ") or DEFAULT_TZ)


@router.get("/devices/{tag:path}", responses={404: {"model": Error}})
def device(request: Request, _user: Reader, tag: str) -> DeviceDetail:
    """Every field, the newest result of each probe, its current problems, warranty and the
    newest change-log entries (newest first)."""
    view = CurrentStatus(database(request).store, tz=_zone()).device(tag)
    warranty = view.warranty
    return DeviceDetail(
        device=device_out(view.device),
        latest=[result_out(r) for r in view.layers],
        problems=[problem_out(p) for p in view.problems],
        changes=[change_out(c) for c in view.changes[:RECENT_CHANGES]],
        warranty=None
        if warranty is None
        else WarrantyOut(until=warranty.until, state=warranty.state, days=warranty.days),
    )


def _text(value: EditValue) -> str:
    """A JSON value as the form text the import rules read (null clears)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _edited(tag: str, changes: Sequence[Change]) -> Edited:
    return Edited(asset_tag=tag, changes=[change_out(c) for c in changes])


def invalid(exc: ValidationFailed) -> JSONResponse:
    """422 with every issue of ``exc``."""
    body = Invalid(
        error=str(exc.args[0]) if exc.args else "invalid values",
        issues=[issue_out(i) for i in exc.issues],
    )
    return JSONResponse(body.model_dump(), status_code=422)


@router.patch("/devices/{tag:path}", response_model=Edited, responses=WRITE_ERRORS)
def edit(
    request: Request,
    user: InventoryWriter,
    tag: str,
    values: Annotated[
        dict[str, EditValue],
        Body(
            description="Device fields to change (`null` or an empty string clears one; "
            "`asset_tag` renames). School and room change with move, the statuses retired "
            "and in_repair with retire and repair (they ask for a reason).",
            examples=[{"ip": "10.20.1.31", "notes": "new switch port 14"}],
        ),
    ],
) -> Edited | JSONResponse:
    """Change a device, validated exactly as an import row; the change log records the
    caller as the actor."""
    try:
        done = _inventory(request, user.name).edit(
            tag, {k: _text(v) for k, v in values.items()}, source="api: inventory edit"
        )
    except ValidationFailed as exc:
        return invalid(exc)
    out = _edited(done.tag, done.changes)
    out.warnings = [issue_out(i) for i in done.warnings]
    return out


@router.post("/devices/{tag:path}/move", responses=WRITE_ERRORS)
def move(request: Request, user: InventoryWriter, tag: str, body: MoveIn) -> Edited:
    """Move a device to another school and/or room; the reason goes into its notes."""
    if body.school is None and body.room is None:
        raise UsageError("give school and/or room")
    changes = _inventory(request, user.name).move(
        tag, body.school, body.room, body.reason, source="api: inventory move"
    )
    return _edited(changes[-1].key if changes else tag, changes)


@router.post("/devices/{tag:path}/retire", responses=WRITE_ERRORS)
def retire(request: Request, user: InventoryWriter, tag: str, body: ReasonIn) -> Edited:
    """Mark a device retired; the reason goes into its notes."""
    changes = _inventory(request, user.name).retire(
        tag, body.reason, source="api: inventory retire"
    )
    return _edited(changes[-1].key if changes else tag, changes)


@router.post("/devices/{tag:path}/repair", responses=WRITE_ERRORS)
def repair(request: Request, user: InventoryWriter, tag: str, body: RepairIn) -> Edited:
    """Send a device to repair, or (``done``) take it back deployed; the reason goes into its
    notes."""
    changes = _inventory(request, user.name).repair(
        tag, body.reason, body.done, source="api: inventory repair"
    )
    return _edited(changes[-1].key if changes else tag, changes)
