"""Quotations for a procurement reviewer, no YAML: RFQs made from a form, the blank vendor form,
uploads of the filled forms, the evaluation (the HTML report's content) with another method or
weights to see the effect, recorded evaluations and award decisions, and the audit trail.

Reads need a log-in; writes need the quotations right (reviewer, admin). Pages call only
:class:`kape_itops.quotes.procurement.Procurement`, with the user's name as the actor.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kape_itops.errors import DataError, UsageError
from kape_itops.limits import Limits
from kape_itops.quotes.evaluate import Options
from kape_itops.quotes.procurement import Procurement, RfqProblems, UploadRefused
from kape_itops.quotes.report_html import render_html, report_context
from kape_itops.quotes.rfq_form import DEFAULTS, FIELDS, LINE_FIELDS
from kape_itops.server.web.auth import QuotesUser, ReadUser, WebUser, database, web_router
from kape_itops.server.web.render import flash, render, tr

router = web_router(prefix="/quotes")
SOURCE = "web"
ROWS = 8
MAX_ROWS = 100
"""Most line rows of the RFQ form (7 fields each: within the form parser's 1,000 fields)."""


def _service(request: Request, user: WebUser) -> Procurement:
    return Procurement(database(request).store, user.name, source=SOURCE)


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _query(method: str, weights: str) -> str:
    pairs = [(k, v) for k, v in (("method", method), ("weights", weights)) if v]
    return "?" + urlencode(pairs) if pairs else ""


@router.get("")
def rfq_list(request: Request, user: ReadUser, page: int = 1) -> Response:
    """Every RFQ, newest first (50 a page)."""
    rfqs, pages = _service(request, user).rfqs(page)
    context = {"rfqs": rfqs, "page": min(max(page, 1), pages), "pages": pages}
    return render(request, "quotes/list.html.j2", context)


def _new_page(
    request: Request,
    user: WebUser,
    values: dict[str, str],
    lines: list[dict[str, str]],
    problems: dict[str, list[str]] | None = None,
) -> Response:
    context = {
        "specs": _service(request, user).specs(),
        "values": values,
        "lines": lines,
        "problems": problems or {},
    }
    return render(request, "quotes/new.html.j2", context, 400 if problems else 200)


@router.get("/new")
def new_form(request: Request, user: QuotesUser, spec: str = "", rows: int = ROWS) -> Response:
    """The RFQ form: the fields of rfq.yaml as inputs, the lines as rows."""
    values = {k: DEFAULTS.get(k, "") for k in FIELDS} | {"spec": spec}
    lines = [{"lot": "1", "technical": "on"} for _ in range(min(max(rows, 1), MAX_ROWS))]
    return _new_page(request, user, values, lines)


@router.post("/new")
async def create(request: Request, user: QuotesUser) -> Response:
    """Make the RFQ; every problem is shown at its field, nothing is stored."""
    form = await request.form()
    values = {k: str(form.get(k) or "")[:2000] for k in FIELDS}
    rows_text = str(form.get("rows") or "")[:4]
    rows = min(max(int(rows_text), 1), MAX_ROWS) if rows_text.isdigit() else ROWS
    lines = [
        {k: str(form.get(f"line-{i}-{k}") or "")[:2000] for k in LINE_FIELDS} for i in range(rows)
    ]
    if form.get("more"):
        lines += [{"lot": lines[-1]["lot"] or "1", "technical": "on"} for _ in range(ROWS)]
        return _new_page(request, user, values, lines[:MAX_ROWS])
    service = _service(request, user)
    try:
        rfq_id = service.create_rfq(values, lines)
    except RfqProblems as exc:
        return _new_page(request, user, values, lines, exc.fields)
    flash(request, tr(request, "RFQ created. Download the blank form and send it to the vendors."))
    return _see_other(f"/quotes/{rfq_id}")


def _rfq_page(
    request: Request, user: WebUser, rfq_id: int, refused: list[str] | None = None
) -> Response:
    service = _service(request, user)
    view = service.rfq(rfq_id)
    context = {"view": view, "trail": service.trail(rfq_id), "refused": refused or []}
    return render(request, "quotes/rfq.html.j2", context, 400 if refused else 200)


@router.get("/{rfq_id}")
def rfq_page(request: Request, user: ReadUser, rfq_id: int) -> Response:
    """The RFQ, its blank form, the uploaded vendors, decisions and the audit trail."""
    return _rfq_page(request, user, rfq_id)


@router.get("/{rfq_id}/form.xlsx")
def blank_form(request: Request, user: ReadUser, rfq_id: int, labels: str = "en") -> Response:
    """The blank vendor form (XLSX); ``labels=km``: Khmer beside every English label."""
    name, content = _service(request, user).blank_form(rfq_id, "en+km" if labels == "km" else "en")
    return _download(content, name, XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, name: str, media: str) -> Response:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {"Content-Disposition": f'attachment; filename="{ascii_name}"'}
    return Response(content, media_type=media, headers=headers)


@router.post("/{rfq_id}/upload")
async def upload(
    request: Request,
    user: QuotesUser,
    rfq_id: int,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    """Keep the vendors' filled forms: all or none, every problem named."""
    limit = Limits.from_env().max_file_bytes
    got = []
    for f in files[:100]:
        got.append((f.filename or "", await f.read(limit + 1)))
    service = _service(request, user)
    try:
        stored = await run_in_threadpool(service.upload, rfq_id, got)
    except UploadRefused as exc:
        return await run_in_threadpool(
            _rfq_page, request, user, rfq_id, [str(i) for i in exc.issues]
        )
    for s in stored:
        text = tr(request, "Stored %(file)s from %(vendor)s.") % {
            "file": s.filename,
            "vendor": s.vendor,
        }
        if s.replaced:
            text += " " + tr(request, "It replaces %(file)s (kept in the audit trail).") % {
                "file": s.replaced
            }
        flash(request, text)
    return _see_other(f"/quotes/{rfq_id}")


@router.get("/{rfq_id}/files/{file_id}")
def stored_file(request: Request, user: ReadUser, rfq_id: int, file_id: int) -> Response:
    """An uploaded form as it was uploaded."""
    name, content = _service(request, user).quotation_file(rfq_id, file_id)
    return _download(content, name, "application/octet-stream")


def _options(service: Procurement, method: str, weights: str) -> Options:
    return service.options(method[:20], weights[:20])


@router.get("/{rfq_id}/evaluation")
def evaluation(
    request: Request, user: ReadUser, rfq_id: int, method: str = "", weights: str = ""
) -> Response:
    """The evaluation of the current forms; with another method or weights, both side by side."""
    service = _service(request, user)
    view = service.rfq(rfq_id)
    problem = ""
    effect = None
    try:
        effect = service.effect(rfq_id, _options(service, method, weights))
    except (DataError, UsageError) as exc:
        problem = str(exc)
    shown = (effect.changed or effect.base) if effect else None
    context = {
        "view": view,
        "effect": effect,
        "problem": problem,
        "method": method,
        "weights": weights,
        "query": _query(method, weights),
        "report": report_context(shown.evaluation) if shown else None,
    }
    return render(
        request, "quotes/evaluation.html.j2", context, 400 if problem and view.current else 200
    )


@router.get("/{rfq_id}/report.html")
def report(
    request: Request, user: ReadUser, rfq_id: int, method: str = "", weights: str = ""
) -> Response:
    """The HTML quotation report of this evaluation, as ``itops quote score --report`` writes it."""
    service = _service(request, user)
    scored = service.evaluate(rfq_id, _options(service, method, weights))
    html = render_html(
        scored.evaluation, "en+km" if request.query_params.get("labels") == "km" else "en"
    )
    return _download(html.encode("utf-8"), f"{scored.evaluation.rfq}-evaluation.html", "text/html")


@router.post("/{rfq_id}/evaluations")
def record(
    request: Request,
    user: QuotesUser,
    rfq_id: int,
    method: Annotated[str, Form(max_length=20)] = "",
    weights: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record the evaluation with these settings (its audit record is kept)."""
    service = _service(request, user)
    try:
        evaluation_id = service.record(rfq_id, _options(service, method, weights))
    except (DataError, UsageError) as exc:
        flash(request, str(exc), "crit")
    else:
        flash(
            request,
            tr(request, "Evaluation %(id)s recorded with its audit record.")
            % {"id": evaluation_id},
        )
    return _see_other(f"/quotes/{rfq_id}/evaluation{_query(method, weights)}")


@router.get("/{rfq_id}/evaluations/{evaluation_id}.json")
def recorded_json(request: Request, user: ReadUser, rfq_id: int, evaluation_id: int) -> Response:
    """A recorded evaluation's canonical JSON (what its SHA-256 is of)."""
    stored = _service(request, user).recorded(rfq_id, evaluation_id)
    return _download(
        stored.result_json.encode("utf-8"), f"evaluation-{evaluation_id}.json", "application/json"
    )


@router.post("/{rfq_id}/decision")
def decide(
    request: Request,
    user: QuotesUser,
    rfq_id: int,
    evaluation_id: Annotated[int, Form()],
    lot: Annotated[str, Form(max_length=100)],
    quote: Annotated[str, Form(max_length=200)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Record the award of a lot (or no award) with a comment."""
    try:
        _service(request, user).decide(rfq_id, evaluation_id, lot, quote, comment)
    except (DataError, UsageError) as exc:
        flash(request, str(exc), "crit")
        return _see_other(f"/quotes/{rfq_id}/evaluation")
    flash(request, tr(request, "Decision recorded."))
    return _see_other(f"/quotes/{rfq_id}")
