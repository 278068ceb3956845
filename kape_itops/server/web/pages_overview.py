"""The overview (one tile per school), the problems list, and one school's page (read only).

Every page reads :class:`~kape_itops.reports.current.CurrentStatus` through
:meth:`Reports.current <kape_itops.reports.service.Reports.current>`; nothing here touches the
store. Lists are paged (50 a page); the newest results are index seeks, period figures come
from the rollups.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from kape_itops import i18n
from kape_itops.config import DEFAULT_TZ, load_zone
from kape_itops.domain.enums import DeviceKind
from kape_itops.domain.problems import ProblemKind, Severity
from kape_itops.domain.status import LinkState
from kape_itops.domain.timespan import parse_duration
from kape_itops.errors import UsageError
from kape_itops.reports.current import PERIODS, CurrentStatus
from kape_itops.reports.service import Reports
from kape_itops.reports.views import ProblemFilter
from kape_itops.server.web.auth import ReadUser, database, web_router
from kape_itops.server.web.render import lang_of, render, tr

router = web_router()

_ = i18n.marker
KIND_LABELS = {
    ProblemKind.COLLECTOR_SILENT: _("collector silent"),
    ProblemKind.DOWN: _("down"),
    ProblemKind.DISK_FULL: _("disk full"),
    ProblemKind.TONER_LOW: _("toner low"),
    ProblemKind.NOT_RECORDING: _("not recording"),
    ProblemKind.UPS_BATTERY: _("UPS battery"),
    ProblemKind.CLOCK_DRIFT: _("clock drift"),
    ProblemKind.REBOOTED: _("rebooted"),
    ProblemKind.INTERFACE_DOWN: _("interface down"),
    ProblemKind.PROBE_FINDING: _("probe finding"),
    ProblemKind.CONFIG_CHANGED: _("configuration changed"),
    ProblemKind.UNKNOWN_DEVICE: _("unknown device"),
    ProblemKind.MISSING_FROM_NETWORK: _("missing from the network"),
    ProblemKind.WARRANTY_EXPIRED: _("warranty expired"),
    ProblemKind.WARRANTY_EXPIRING: _("warranty expiring"),
}
STATE_LABELS = {
    LinkState.UP: _("up"),
    LinkState.DOWN: _("down"),
    LinkState.UNKNOWN: _("unknown"),
    LinkState.NO_DATA: _("no data"),
}
SEVERITY_LABELS = {Severity.CRIT: _("crit"), Severity.WARN: _("warn"), Severity.INFO: _("info")}
DEVICE_KINDS = {
    DeviceKind.LAPTOP: _("laptop"),
    DeviceKind.DESKTOP: _("desktop"),
    DeviceKind.TABLET: _("tablet"),
    DeviceKind.PRINTER: _("printer"),
    DeviceKind.HOTSPOT: _("hotspot"),
    DeviceKind.SWITCH: _("switch"),
    DeviceKind.ROUTER: _("router"),
    DeviceKind.CAMERA: _("camera"),
    DeviceKind.NVR: _("NVR"),
    DeviceKind.UPS: _("UPS"),
    DeviceKind.OTHER: _("other"),
}
PERIOD_LABELS = {"1d": _("last day"), "7d": _("last 7 days"), "30d": _("last 30 days")}
SINCE_CHOICES = ("1h", "6h", "1d", "7d", "30d")
REUSE_S = 10.0
"""Seconds the fleet's state and problems are reused between page views. The newest results
come from ``device_state`` (~40-60 ms for 25,000 devices); the reuse spares the rest of the
problems search (discovery sweeps' unknown hosts, ~150 ms) to views within seconds."""
LABELS = {
    "kinds": KIND_LABELS,
    "states": STATE_LABELS,
    "severities": SEVERITY_LABELS,
    "device_kinds": DEVICE_KINDS,
    "periods": PERIOD_LABELS,
}


def zone_name() -> str:
    """``ITOPS_TZ`` or the default zone."""
    return os.environ.get("ITOPS_TZ") or DEFAULT_TZ


def current(request: Request) -> CurrentStatus:
    """The read service for this request (times in ``ITOPS_TZ``)."""
    return Reports(database(request).store).current(tz=load_zone(zone_name()), reuse_s=REUSE_S)


def parse_since(text: str, now: dt.datetime, tz: dt.tzinfo) -> dt.timedelta:
    """A window as a duration (``1d``, ``12h``) or a local date or time (``2026-11-27``):
    the time since then. UsageError (a 400 page) for anything else."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        try:
            when = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise UsageError(f"since: {exc}; or a date such as 2026-11-27") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    if when >= now:
        raise UsageError(f"since: {text[:40]} is in the future")
    return now - when


def _kind(value: str | None) -> ProblemKind | None:
    try:
        return ProblemKind(value) if value else None
    except ValueError as exc:
        raise UsageError(f"unknown problem kind '{value[:40] if value else ''}'") from exc


def _severity(value: str | None) -> Severity | None:
    try:
        return Severity(value) if value else None
    except ValueError as exc:
        raise UsageError(f"unknown severity '{value[:40] if value else ''}'") from exc


@router.get("/")
def overview(
    request: Request, user: ReadUser, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    """One tile per school (50 a page): devices up/down/unknown/no data, problems, last sync."""
    view = current(request).overview(page=page)
    return render(request, "overview/overview.html.j2", {"view": view, **LABELS})


@router.get("/problems")
def problems(
    request: Request,
    user: ReadUser,
    school: Annotated[str | None, Query(max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    severity: Annotated[str | None, Query(max_length=8)] = None,
    since: Annotated[str, Query(max_length=16)] = "1d",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Current problems, filtered by school, kind, severity and window, 50 a page."""
    flt = ProblemFilter(
        school=school.strip().upper() or None if school else None,
        kind=_kind(kind),
        severity=_severity(severity),
        since=parse_since(since, dt.datetime.now(dt.UTC), load_zone(zone_name())),
        page=page,
    )
    view = current(request).problems(flt)
    pairs = (("school", flt.school), ("kind", kind), ("severity", severity), ("since", since))
    base = "/problems?" + urlencode([(k, v) for k, v in pairs if v])
    return render(
        request,
        "overview/problems.html.j2",
        {"view": view, "since": since, "since_choices": SINCE_CHOICES, "page_url": base, **LABELS},
    )


@router.get("/schools/{code}")
def school(
    request: Request,
    user: ReadUser,
    code: str,
    period: Annotated[str, Query(max_length=8)] = "7d",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    room: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """One school: devices by room and kind, availability, trends, cameras, toner, NVR disks
    and unknown devices (each with an "add to inventory" form)."""
    if period not in PERIODS:
        raise UsageError(tr(request, "Unknown period."))
    try:
        device_kind = DeviceKind(kind) if kind else None
    except ValueError as exc:
        raise UsageError(f"unknown device kind '{kind[:20] if kind else ''}'") from exc
    lang = lang_of(request)
    titles = (i18n.gettext(lang, "Ping answered, per cent"), i18n.gettext(lang, "Round trip, ms"))
    view = current(request).school(
        code.upper(), period, page=page, room=room, kind=device_kind, titles=titles
    )
    params = [("period", period)]
    if room is not None:
        params.append(("room", room))
    if kind:
        params.append(("kind", kind))
    page_url = f"/schools/{quote(view.school.code, safe='')}?" + urlencode(params)
    return render(
        request,
        "overview/school.html.j2",
        {"view": view, "page_url": page_url, "period_keys": list(PERIODS), **LABELS},
    )
