"""``/api/v1`` problems, the monthly health report as JSON, and every site's sync status."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from kape_itops.config import DEFAULT_TZ, load_zone
from kape_itops.domain.problems import ProblemKind, Severity
from kape_itops.domain.timespan import parse_duration, parse_month
from kape_itops.errors import NotFoundError, UsageError
from kape_itops.inventory.service import Inventory
from kape_itops.reports.cache import ReportCache, json_of, page_options
from kape_itops.reports.current import CurrentStatus
from kape_itops.reports.views import ProblemFilter
from kape_itops.server.rest_auth import Reader
from kape_itops.server.rest_models import Error, ProblemPageOut, StatusOut, problem_out, site_out
from kape_itops.server.web.auth import database
from kape_itops.server.web.pages_overview import REUSE_S
from kape_itops.sync.server import SyncServer

router = APIRouter()
MAX_PAGE = 10_000
BAD: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "a parameter's value is refused (named)"}
}


def _zone_name() -> str:
    return os.environ.get("ITOPS_TZ") or DEFAULT_TZ


def _school(request: Request, code: str | None) -> str | None:
    if code is None or not code.strip():
        return None
    wanted = code.strip().upper()
    if wanted not in {s.code for s in Inventory(database(request).store, "api").schools()}:
        raise NotFoundError(f"school: no school with code '{wanted}'")
    return wanted


@router.get("/problems", tags=["health"], responses=BAD)
def problems(
    request: Request,
    _user: Reader,
    school: Annotated[str | None, Query(max_length=32)] = None,
    kind: ProblemKind | None = None,
    severity: Severity | None = None,
    since: Annotated[
        str, Query(max_length=20, description="window of results looked at: 30m, 12h, 7d")
    ] = "1d",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> ProblemPageOut:
    """Current problems (as the overview and ``itops report problems`` find them), most severe
    first, 50 per page."""
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise UsageError(f"since: {exc}") from None
    if window <= dt.timedelta(0):
        raise UsageError("since: must be a positive duration")
    flt = ProblemFilter(
        school=_school(request, school), kind=kind, severity=severity, since=window, page=page
    )
    store = database(request).store
    # the same reuse as the problems page: at most one fleet read per window every REUSE_S
    found = CurrentStatus(store, tz=load_zone(_zone_name()), reuse_s=REUSE_S).problems(flt)
    return ProblemPageOut(
        problems=[problem_out(p) for p in found.problems],
        total=found.total,
        page=found.page,
        pages=found.pages,
    )


@router.get("/reports/health", tags=["health"], responses=BAD, response_model=dict[str, Any])
def health(
    request: Request,
    _user: Reader,
    month: Annotated[
        str, Query(max_length=20, description="YYYY-MM, or last (the month before this one)")
    ] = "last",
    school: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The monthly health report of every school or one, compared with the month before: the
    JSON ``itops report health --month --json`` prints (kept while its data is unchanged)."""
    now = dt.datetime.now(dt.UTC)
    try:
        first, _last = parse_month(month, now.date())
    except ValueError as exc:
        raise UsageError(f"month: {exc}") from None
    if first > now.date():
        raise UsageError(f"month: {first:%Y-%m} has not begun")
    options = page_options(_school(request, school))
    kept = ReportCache(database(request).store).one(first, options, "", "json", json_of, now)
    return Response(kept.body, media_type="application/json")


@router.get("/status", tags=["status"])
def status(request: Request, _user: Reader) -> StatusOut:
    """Every site's last sync, silence, backlog, clock offset, version and records held (what
    ``itops server status`` shows)."""
    sync: SyncServer = request.app.state.sync
    return StatusOut(
        server_time=dt.datetime.now(dt.UTC), sites=[site_out(s) for s in sync.status()]
    )
