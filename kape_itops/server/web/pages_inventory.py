"""Inventory pages: search, edit, move/retire/repair with a reason, import with a dry-run
preview, export, label sheets, and discovery's "add to inventory".

Every write goes through :class:`~kape_itops.inventory.service.Inventory` (or the discovery
service) with the logged-in user as the change log's actor and a source starting ``web``.
Reads are open to every role; writes need ``inventory_write`` (it_staff, admin).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kape_itops import i18n
from kape_itops.discovery.service import DiscoveryService
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.fields import DEVICE_COLUMNS, to_text
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.errors import DataError, Issue, NotFoundError, UsageError, ValidationFailed
from kape_itops.inventory.exporter import ExportFormat
from kape_itops.inventory.importer import Mode
from kape_itops.inventory.labels import base_url, server_url
from kape_itops.inventory.service import Inventory
from kape_itops.inventory.uploads import UploadStore, UploadTooLarge
from kape_itops.server.web.auth import InventoryUser, ReadUser, WebUser, database, web_router
from kape_itops.server.web.pages_device import FIELD_LABELS
from kape_itops.server.web.pages_overview import DEVICE_KINDS
from kape_itops.server.web.render import flash, render, tr

router = web_router()

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


def _inventory(request: Request, user: WebUser) -> Inventory:
    return Inventory(database(request).store, user.name)


def _filter(school: str, kind: str, status: str) -> DeviceFilter:
    try:
        kinds = (DeviceKind(kind),) if kind else ()
        statuses = (DeviceStatus(status),) if status else ()
    except ValueError:
        raise UsageError("unknown kind or status") from None
    return DeviceFilter(schools=(school,) if school else (), kinds=kinds, statuses=statuses)


def _by_field(issues: list[Issue]) -> dict[str, list[Issue]]:
    out: dict[str, list[Issue]] = {}
    for i in issues:
        out.setdefault(i.column or "", []).append(i)
    return out


# -- search ------------------------------------------------------------------------------------
Q = Annotated[str, Query(max_length=200)]
Code = Annotated[str, Query(max_length=40)]


def _search(
    request: Request, user: WebUser, q: str, school: str, kind: str, status: str, page: int
) -> dict[str, Any]:
    inv = _inventory(request, user)
    found = inv.search(q, page, _filter(school, kind, status))
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
    inv = _inventory(request, user)
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
    inv = _inventory(request, user)
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
    inv = _inventory(request, user)
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


# -- import ------------------------------------------------------------------------------------
@router.get("/inventory/import")
def import_form(request: Request, user: InventoryUser) -> Response:
    """Upload a CSV, XLSX or JSON file: a preview comes first, nothing is written yet."""
    return _import_page(request)


def _import_page(request: Request, status: int = 200, **context: Any) -> Response:
    values: dict[str, Any] = {
        "report": None,
        "upload": None,
        "issues": [],
        "errors": 0,
        "message": "",
    }
    return render(request, "inventory/import.html.j2", {**values, **context}, status)


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(1 << 20):
        yield chunk


@router.post("/inventory/import")
def upload(request: Request, user: InventoryUser, file: Annotated[UploadFile, File()]) -> Response:
    """Keep the file (size-capped, private, for an hour) and show its dry-run preview."""
    try:
        kept = UploadStore().save(user.name, file.filename or "", _chunks(file))
    except (UsageError, UploadTooLarge) as exc:
        status = 413 if isinstance(exc, UploadTooLarge) else 400
        return _import_page(request, status, message=str(exc))
    return RedirectResponse(f"/inventory/import/{kept.id}", status_code=303)


@router.get("/inventory/import/{upload_id}")
def preview(request: Request, user: InventoryUser, upload_id: str) -> Response:
    """The dry run of a kept upload: what it would change, every error at once."""
    kept = UploadStore().get(upload_id, user.name)
    inv = _inventory(request, user)
    issues: list[Issue] = []
    report = None
    try:
        report = inv.import_file(kept.path, Mode.ALL_OR_NOTHING, True, "web import")
        issues = report.issues
    except ValidationFailed as exc:
        issues = exc.issues
    except DataError as exc:
        issues = [Issue(kept.name, None, None, None, str(exc))]
    errors = sum(1 for i in issues if i.severity == "error")
    status = 200 if report else 400
    return _import_page(request, status, report=report, upload=kept, issues=issues, errors=errors)


@router.post("/inventory/import/{upload_id}/confirm")
def confirm(
    request: Request,
    user: InventoryUser,
    upload_id: str,
    sha256: Annotated[str, Form(max_length=64)],
) -> Response:
    """Import the kept bytes for real, all or nothing (checked again, as the preview was)."""
    store = UploadStore()
    kept = store.get(upload_id, user.name)
    if sha256 != kept.sha256:
        raise UsageError("this is not the file that was previewed: upload it again")
    try:
        report = _inventory(request, user).import_file(
            kept.path, Mode.ALL_OR_NOTHING, False, "web import"
        )
    except (ValidationFailed, DataError):
        flash(request, tr(request, "The file no longer imports cleanly: see the errors."), "crit")
        return RedirectResponse(f"/inventory/import/{kept.id}", status_code=303)
    store.discard(kept.id)
    flash(request, tr(request, "Imported.") + f" ({report.changes})")
    return RedirectResponse("/inventory", status_code=303)


# -- export and labels -------------------------------------------------------------------------
@router.get("/inventory/export.{fmt}")
def export(
    request: Request,
    user: ReadUser,
    fmt: str,
    school: Code = "",
    kind: Code = "",
    status: Code = "",
) -> Response:
    """The devices as CSV, or schools and devices as XLSX (the import format)."""
    if fmt not in ("csv", "xlsx"):
        raise NotFoundError("no such export: export.csv or export.xlsx")
    name, data = _inventory(request, user).export_download(
        ExportFormat(fmt), _filter(school, kind, status)
    )
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    disposition = f'attachment; filename="{name}"'
    return Response(data, media_type=types[fmt], headers={"Content-Disposition": disposition})


@router.get("/inventory/labels")
def labels(
    request: Request,
    user: ReadUser,
    school: Code = "",
    kind: Code = "",
    status: Code = "",
    download: Annotated[bool, Query()] = False,
) -> Response:
    """A printable A4 sheet of QR labels of one school (``download``: as a file); each code
    opens the device's page on this server (``ITOPS_SERVER_URL``, else the URL asked)."""
    if not school:
        raise UsageError(tr(request, "Choose a school for the label sheet."))
    base = server_url(request.app.state.secrets_path) or base_url(str(request.base_url))
    page = _inventory(request, user).labels_html(_filter(school, kind, status), base)
    name = "labels-" + "".join(c for c in school if c.isalnum() or c in "-_") + ".html"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'} if download else None
    return HTMLResponse(page, headers=headers)


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
