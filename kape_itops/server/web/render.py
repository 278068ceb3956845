"""Pages from Jinja2 templates: autoescaped, in the reader's language and time zone.

:func:`render` gives every template the user, the language, the CSRF field, the navigation
and the filters (``when``, ``day``, ``ago``, ``num``, ``pct``, ``status_class``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from kape_itops import __version__, i18n
from kape_itops.config import DEFAULT_TZ, load_zone
from kape_itops.domain.users import Action
from kape_itops.server.web.auth import csrf_token, current_user

LANG_COOKIE = "itops_lang"
LANG_MAX_AGE = 365 * 24 * 3600
_lang: contextvars.ContextVar[str] = contextvars.ContextVar("itops_lang", default="en")

NAV: tuple[tuple[str, str, Action], ...] = (
    ("/", i18n.marker("Overview"), Action.READ),
    ("/problems", i18n.marker("Problems"), Action.READ),
    ("/inventory", i18n.marker("Inventory"), Action.READ),
    ("/quotes", i18n.marker("Quotations"), Action.READ),
    ("/reports", i18n.marker("Reports"), Action.READ),
    ("/admin/users", i18n.marker("Users"), Action.ADMIN_USERS),
)
WORDS = (
    i18n.marker("admin"),
    i18n.marker("it_staff"),
    i18n.marker("reviewer"),
    i18n.marker("viewer"),
    i18n.marker("ok"),
    i18n.marker("warn"),
    i18n.marker("crit"),
    i18n.marker("unknown"),
    i18n.marker("up"),
    i18n.marker("down"),
)
"""Role and status names shown translated (``_(role.value)`` in templates)."""
STATUS_CLASS = {
    "ok": "ok",
    "up": "ok",
    "warn": "warn",
    "warning": "warn",
    "degraded": "warn",
    "crit": "crit",
    "critical": "crit",
    "down": "crit",
    "fail": "crit",
    "failed": "crit",
    "error": "crit",
}


def lang_of(request: Request) -> str:
    """The page language: ``?lang=``, then the cookie, then Accept-Language, else English."""
    cached = getattr(request.state, "lang", None)
    if isinstance(cached, str):
        return cached
    lang = i18n.pick_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    request.state.lang = lang
    return lang


def tr(request: Request, message: str) -> str:
    """``message`` in the request's language (for text made in Python: flashes, errors)."""
    return i18n.gettext(lang_of(request), message)


def _gettext(message: str) -> str:
    return i18n.gettext(_lang.get(), message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(_lang.get(), singular, plural, n)


def _zone() -> dt.tzinfo:
    return _zone_named(os.environ.get("ITOPS_TZ") or DEFAULT_TZ)


@functools.lru_cache(maxsize=8)
def _zone_named(name: str) -> dt.tzinfo:
    return load_zone(name)


def _when(value: dt.datetime | None, empty: str = "–") -> str:
    return empty if value is None else i18n.format_datetime(value, _lang.get(), _zone())


def _day(value: dt.date | dt.datetime | None, empty: str = "–") -> str:
    return empty if value is None else i18n.format_date(value, _lang.get(), _zone())


def _ago(value: dt.datetime | None) -> str:
    """``3 h ago`` style, translated; "never" for None."""
    if value is None:
        return _gettext("never")
    seconds = max(0, int((dt.datetime.now(dt.UTC) - value).total_seconds()))
    if seconds < 90:
        return _gettext("just now")
    if seconds < 5400:
        return _gettext("%(n)s min ago") % {"n": seconds // 60}
    if seconds < 48 * 3600:
        return _gettext("%(n)s h ago") % {"n": seconds // 3600}
    return _gettext("%(n)s days ago") % {"n": seconds // 86400}


def _num(value: float | int | None, digits: int = 0) -> str:
    return "–" if value is None else i18n.format_number(value, _lang.get(), digits)


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else i18n.format_number(value, _lang.get(), digits) + " %"


def _status_class(value: object) -> str:
    text = str(getattr(value, "value", value) or "").lower()
    return STATUS_CLASS.get(text, "unknown")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("kape_itops.server.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        when=_when, day=_day, ago=_ago, num=_num, pct=_pct, status_class=_status_class
    )
    env.globals["version"] = __version__
    return env


ENV = _environment()


def context_for(request: Request, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every template sees, plus ``extra``."""
    user = current_user(request)
    token = csrf_token(request)
    lang = lang_of(request)
    nav = [
        {"href": href, "label": label, "active": _active(request.url.path, href)}
        for href, label, action in NAV
        if user is not None and user.may(action)
    ]
    flashes = request.session.pop("flash", []) if user is not None else []
    return {
        "request": request,
        "user": user,
        "lang": lang,
        "langs": i18n.LANGS,
        "csrf": token,
        "csrf_field": lambda: Markup('<input type="hidden" name="csrf" value="{}">').format(token),
        "nav": nav,
        "flashes": flashes if isinstance(flashes, list) else [],
        "path": request.url.path,
        "lang_url": lambda code: _lang_url(request, code),
        "now": dt.datetime.now(dt.UTC),
        "tz_name": os.environ.get("ITOPS_TZ") or DEFAULT_TZ,
        **(extra or {}),
    }


def _lang_url(request: Request, code: str) -> str:
    """This page in language ``code`` (other query parameters kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "page")]
    return request.url.path + "?" + urlencode([*query, ("lang", code)])


def _active(path: str, href: str) -> bool:
    return path == "/" if href == "/" else path.startswith(href)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered for this request as an HTML response."""
    values = context_for(request, context)
    token = _lang.set(values["lang"])
    try:
        html = ENV.get_template(template).render(values)
    finally:
        _lang.reset(token)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    asked = request.query_params.get("lang")
    if asked and asked in i18n.LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=LANG_MAX_AGE, httponly=True, samesite="lax")
    return response


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-time message (already translated) shown on the next page."""
    found = request.session.get("flash")
    messages = found if isinstance(found, list) else []
    messages.append({"kind": kind, "text": message[:500]})
    request.session["flash"] = messages[-5:]


def page_error(request: Request, status: int, message: str) -> HTMLResponse:
    """The error page: a heading for the status and ``message`` (escaped)."""
    titles = {
        400: i18n.marker("This request cannot be done"),
        403: i18n.marker("Not allowed"),
        404: i18n.marker("Not found"),
        413: i18n.marker("Too large"),
        429: i18n.marker("Too many tries"),
        503: i18n.marker("Not available now"),
    }
    title = titles.get(status, i18n.marker("Something went wrong"))
    return render(
        request, "error.html.j2", {"status": status, "title": title, "message": message}, status
    )
