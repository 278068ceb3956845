"""Inventory pages: search, edit, move/retire/repair with a reason, and discovery's "add to
inventory"; import with a dry-run preview, downloads and label sheets come from
:mod:`.pages_inventory_files` (included in this router).

Every write goes through :class:`~kape_itops.inventory.service.Inventory` (or the discovery
service) with the logged-in user as the change log's actor and a source starting ``web``.
Reads are open to every role; writes need ``inventory_write`` (it_staff, admin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kape_itops import i18n
from kape_itops.discovery.service import DiscoveryService
from kape_itops.domain.enums import DeviceStatus
from kape_itops.domain.fields import DEVICE_COLUMNS, to_text
from kape_itops.errors import DataError, Issue, UsageError, ValidationFailed
from kape_itops.server.web import pages_inventory_files
from kape_itops.server.web.auth import InventoryUser, ReadUser, WebUser, database, web_router
from kape_itops.server.web.pages_device import FIELD_LABELS
from kape_itops.server.web.pages_inventory_files import Code, device_filter, inventory
from kape_itops.server.web.pages_overview import DEVICE_KINDS
from kape_itops.server.web.render import flash, render, tr

router = web_router()
router.include_router(pages_inventory_files.router)  # import, downloads, labels

_ = i18n.marker
STATUS_LABELS = {
    DeviceStatus.IN_STOCK: _("in stock"),
    DeviceStatus.DEPLOYED: _("deployed"),
    DeviceStatus.IN_REPAIR: _("in repair"),
    DeviceStatus.RETIRED: _("retired"),
    DeviceStatus.LOST: _("lost"),
}
EDIT_FIELDS = tuple(f for f in DEVICE_COLUMNS if f not in ("school", "room"))
"""Fields of the edit form (school and room change through Move, which asks for a reason)."""
LONG_FIELDS = frozenset({"notes"})


def _device_url(tag: str) -> str:
    return "/devices/" + quote(tag, safe="")


def _item_url(tag: str) -> str:
    return "/inventory/" + quote(tag, safe="")


def _edit_url(tag: str) -> str:
    return _item_url(tag) + "/edit"


LABELS = {
    "fields": FIELD_LABELS,
    "kinds": DEVICE_KINDS,
    "statuses": STATUS_LABELS,
    "device_url": _device_url,
    "edit_url": _edit_url,
}
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=200)]


def _by_field(issues: list[Issue]) -> dict[str, list[Issue]]:
    out: dict[str, list[Issue]] = {}
    for i in issues:
        out.setdefault(i.column or "", []).append(i)
    return out


# -- search ------------------------------------------------------------------------------------
Q = Annotated[str, Query(max_length=200)]


def _search(
    request: Request, user: WebUser, q: str, school: str, kind: str, status: str, page: int
) -> dict[str, Any]:
    inv = inventory(request, user)
    found = inv.search(q, page, device_filter(school, kind, status))
    query = urlencode(
        [(k, v) for k, v in (("q", q), ("school", school), ("kind", kind), ("status", status)) if v]
    )
    return {
        "found": found,
        "q": q,
        "school": school,
        "kind": kind,
        "status": status,
        "query": query,
        "schools": inv.schools(),
        **LABELS,
    }


@router.get("/inventory")
def search(
    request: Request,
    user: ReadUser,
    q: Q = "",
    school: Code = "",
    kind: Code = "",
    status: Code = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Find devices by tag, serial, MAC, IP or host name (any case, any part), 50 a page."""
    context = _search(request, user, q, school, kind, status, page)
    return render(request, "inventory/index.html.j2", context)


@router.get("/inventory/results")
def results(
    request: Request,
    user: ReadUser,
    q: Q = "",
    school: Code = "",
    kind: Code = "",
    status: Code = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The results table alone (htmx live search)."""
    context = _search(request, user, q, school, kind, status, page)
    return render(request, "inventory/_results.html.j2", context)


# -- edit, move, retire, repair ----------------------------------------------------------------
def _edit_page(
    request: Request,
    user: WebUser,
    tag: str,
    *,
    values: Mapping[str, str] | None = None,
    issues: list[Issue] | None = None,
    action: str = "",
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    inv = inventory(request, user)
    device = inv.device(tag)
    shown = {f: to_text(getattr(device, f)) for f in EDIT_FIELDS}
    context = {
        "device": device,
        "shown": shown,
        "values": {**shown, **(values or {})},
        "edit_fields": EDIT_FIELDS,
        "long_fields": LONG_FIELDS,
        "errors": _by_field(issues or []),
        "action": action,
        "message": message,
        "schools": inv.schools(),
        "warning": inv.subnet_warning(device.asset_tag),
        "base": _edit_url(device.asset_tag),
        "item": _item_url(device.asset_tag),
        **LABELS,
    }
    return render(request, "inventory/edit.html.j2", context, status)


@router.get("/inventory/{tag:path}/edit")
def edit_form(request: Request, user: InventoryUser, tag: str) -> Response:
    """Every editable field of one device, and the move, retire and repair forms."""
    return _edit_page(request, user, tag)


@router.post("/inventory/{tag:path}/edit")
async def edit(request: Request, user: InventoryUser, tag: str) -> Response:
    """Save the changed fields (checked as an import row); the form again with every error."""
    form = await request.form()  # parsed already (the CSRF check read it)
    values = {f: v for f in EDIT_FIELDS if isinstance(v := form.get(f), str)}
    shown = {f: v for f in EDIT_FIELDS if isinstance(v := form.get("shown_" + f), str)}
    inv = inventory(request, user)
    try:
        done = await run_in_threadpool(inv.edit, tag, values, shown, "web: inventory edit")
    except ValidationFailed as exc:
        issues = exc.issues
        return await run_in_threadpool(
            lambda: _edit_page(
                request, user, tag, values=values, issues=issues, action="edit", status=400
            )
        )
    if done.changes:
        flash(request, tr(request, "Saved.") + f" ({len(done.changes)})")
    else:
        flash(request, tr(request, "Nothing changed."))
    for w in done.warnings:
        flash(request, f"{FIELD_LABELS.get(w.column or '', w.column)}: {w.reason}", "warn")
    return RedirectResponse(_device_url(done.tag), status_code=303)


def _reasoned(
    request: Request, user: WebUser, tag: str, action: str, work: Any, done: str
) -> Response:
    inv = inventory(request, user)
    stored = inv.device(tag).asset_tag  # 404 for an unknown tag
    try:
        changes = work(inv)
    except (UsageError, DataError) as exc:  # NotFoundError too: an unknown school
        return _edit_page(request, user, stored, action=action, message=str(exc), status=400)
    flash(request, tr(request, done) + f" ({len(changes)})")
    return RedirectResponse(_device_url(stored), 303)


@router.post("/inventory/{tag:path}/move")
def move(
    request: Request,
    user: InventoryUser,
    tag: str,
    school: Annotated[str, Form(max_length=40)],
    reason: Text = "",
    room: Short = "",
) -> Response:
    """Move to another school and/or room, with a reason (kept in the notes)."""
    return _reasoned(
        request,
        user,
        tag,
        "move",
        lambda inv: inv.move(tag, school, room, reason, "web: inventory move"),
        _("Moved."),
    )


@router.post("/inventory/{tag:path}/retire")
def retire(request: Request, user: InventoryUser, tag: str, reason: Text = "") -> Response:
    """Retire the device, with a reason."""
    return _reasoned(
        request,
        user,
        tag,
        "retire",
        lambda inv: inv.retire(tag, reason, "web: inventory retire"),
        _("Retired."),
    )


@router.post("/inventory/{tag:path}/repair")
def repair(
    request: Request,
    user: InventoryUser,
    tag: str,
    reason: Text = "",
    done: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Send the device to repair, or take it back (``done``), with a reason."""
    back = done == "1"
    return _reasoned(
        request,
        user,
        tag,
        "repair",
        lambda inv: inv.repair(tag, reason, back, "web: inventory repair"),
        _("Back from repair.") if back else _("Sent to repair."),
    )


# -- discovery: add an unknown device ----------------------------------------------------------
@router.post("/schools/{code}/unknown/{ident}/add")
def add_unknown(
    request: Request,
    user: InventoryUser,
    code: str,
    ident: str,
    kind: Annotated[str, Form(max_length=20)] = "other",
    tag: Annotated[str | None, Form(max_length=200)] = None,
    name: Short = "",
    room: Short = "",
) -> Response:
    """Add an unknown host of the school's latest sweep: first the form (tag, name, room),
    then the device, through the change log."""
    disc = DiscoveryService(database(request).store, user.name)
    host = disc.unknown_host(code, ident)
    values = {"asset_tag": tag or "", "kind": kind, "hostname": name, "room": room}
    issues: list[Issue] = []
    if tag is not None:
        try:
            made = disc.add_unknown(code, ident, values, "web: discovery add")
        except ValidationFailed as exc:
            issues = exc.issues
        else:
            flash(request, tr(request, "Added to the inventory."))
            return RedirectResponse(_device_url(made.tag), status_code=303)
    action_url = f"/schools/{quote(code, safe='')}/unknown/{quote(ident, safe='')}/add"
    context = {
        "action_url": action_url,
        "host": host,
        "code": code.strip().upper(),
        "ident": ident,
        "values": values,
        "errors": _by_field(issues),
        **LABELS,
    }
    return render(request, "inventory/add_unknown.html.j2", context, 400 if issues else 200)
