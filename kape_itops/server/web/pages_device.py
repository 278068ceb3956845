"""One device's page (the label's QR code opens it) and its configuration diffs (read only).

The diffs are :class:`~kape_itops.backups.service.BackupService`'s (read only: no command sets,
no SSH settings, no secrets needed).

Every field, the newest result per probe layer, its problems, the results (50 a page, newest
first), SSH backup versions with a diff between any two, the change history and the warranty.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import Response

from kape_itops import i18n
from kape_itops.backups.service import BackupService, BackupSettings
from kape_itops.config import load_zone
from kape_itops.probes.ssh.settings import CommandSets
from kape_itops.reports.views import BackupDiff, diff_lines
from kape_itops.server.web.auth import ReadUser, database, web_router
from kape_itops.server.web.pages_overview import (
    DEVICE_KINDS,
    KIND_LABELS,
    SEVERITY_LABELS,
    current,
    zone_name,
)
from kape_itops.server.web.render import render

router = web_router()

_ = i18n.marker
FIELD_LABELS = {
    "asset_tag": _("Asset tag"),
    "kind": _("Kind"),
    "status": _("Status"),
    "school": _("School"),
    "room": _("Room"),
    "manufacturer": _("Manufacturer"),
    "model": _("Model"),
    "serial": _("Serial number"),
    "mac": _("MAC"),
    "ip": _("IP"),
    "hostname": _("Host name"),
    "platform": _("Platform"),
    "probes": _("Probes"),
    "funding": _("Funding"),
    "vendor": _("Vendor"),
    "purchase_date": _("Purchase date"),
    "unit_price": _("Unit price"),
    "currency": _("Currency"),
    "warranty_until": _("Warranty until"),
    "credential": _("Credential"),
    "notes": _("Notes"),
}
WARRANTY_LABELS = {"expired": _("expired"), "expiring": _("expiring soon"), "ok": _("valid")}
LABELS = {
    "fields": FIELD_LABELS,
    "warranty_states": WARRANTY_LABELS,
    "kinds": KIND_LABELS,
    "severities": SEVERITY_LABELS,
    "device_kinds": DEVICE_KINDS,
}


@router.get("/devices/{tag:path}/backups")  # before the page: a tag may hold "/"
def backup_diff(
    request: Request,
    user: ReadUser,
    tag: str,
    a: Annotated[str | None, Query(max_length=40)] = None,
    b: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The diff between configuration versions ``a`` and ``b`` (default: the last two)."""
    svc = BackupService(
        database(request).store, user.name, CommandSets({}), BackupSettings(known_hosts=None)
    )
    old, new, text = svc.diff(tag, a or None, b or None, tz=load_zone(zone_name()))
    view = BackupDiff(old.asset_tag, old, new, diff_lines(text))
    base = f"/devices/{quote(view.asset_tag, safe='')}"
    return render(request, "device/diff.html.j2", {"view": view, "base": base})


@router.get("/devices/{tag:path}")
def device(
    request: Request,
    user: ReadUser,
    tag: str,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Everything about one device."""
    view = current(request).device(tag, page)
    base = f"/devices/{quote(view.device.asset_tag, safe='')}"
    return render(request, "device/device.html.j2", {"view": view, "base": base, **LABELS})
