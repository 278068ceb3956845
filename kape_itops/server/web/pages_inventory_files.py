"""Inventory files on the web: import with a dry-run preview then confirm, CSV/XLSX
downloads and the label sheet (the rest of the inventory pages: :mod:`.pages_inventory`).

An upload is kept on the server (:class:`~kape_itops.inventory.uploads.UploadStore`: private,
size-capped, tied to its user, removed after an hour); the confirm imports the very bytes the
preview checked, all or nothing, and checks them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.errors import DataError, Issue, NotFoundError, UsageError, ValidationFailed
from kape_itops.inventory.exporter import ExportFormat
from kape_itops.inventory.importer import Mode
from kape_itops.inventory.labels import base_url, server_url
from kape_itops.inventory.service import Inventory
from kape_itops.inventory.uploads import UploadStore, UploadTooLarge
from kape_itops.server.web.auth import InventoryUser, ReadUser, WebUser, database, web_router
from kape_itops.server.web.render import flash, render, tr

router = web_router()
Code = Annotated[str, Query(max_length=40)]


def inventory(request: Request, user: WebUser) -> Inventory:
    return Inventory(database(request).store, user.name)


def device_filter(school: str, kind: str, status: str) -> DeviceFilter:
    try:
        kinds = (DeviceKind(kind),) if kind else ()
        statuses = (DeviceStatus(status),) if status else ()
    except ValueError:
        raise UsageError("unknown kind or status") from None
    return DeviceFilter(schools=(school,) if school else (), kinds=kinds, statuses=statuses)


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
    inv = inventory(request, user)
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
        report = inventory(request, user).import_file(
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
    name, data = inventory(request, user).export_download(
        ExportFormat(fmt), device_filter(school, kind, status)
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
    page = inventory(request, user).labels_html(device_filter(school, kind, status), base)
    name = "labels-" + "".join(c for c in school if c.isalnum() or c in "-_") + ".html"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'} if download else None
    return HTMLResponse(page, headers=headers)
