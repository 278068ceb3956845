"""Options and option callbacks every command group shares: durations, dates, targets, filters.

A callback turns the typed text into the value the command wants and reports a bad value as
click's ``BadParameter`` (exit 2, or 3 under ``itops probe``), naming the option.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

import click

from kape_itops.cli.app import App
from kape_itops.config import Settings, load_zone
from kape_itops.domain.enums import DeviceKind, DeviceStatus
from kape_itops.domain.inventory import DeviceFilter
from kape_itops.domain.timespan import DurationTooLong, parse_duration, parse_month
from kape_itops.errors import ConfigError, UsageError

__all__ = [
    "date_value",
    "duration",
    "filter_options",
    "make_filter",
    "month",
    "parse_target",
    "since",
    "split_list",
]

DurationCallback = Callable[[click.Context, click.Parameter, str | None], dt.timedelta | None]


def duration(*, bare_unit: str | None = None, positive: bool = False) -> DurationCallback:
    """A callback reading ``30s``, ``5m``, ``12h``, ``7d`` or ``2w`` as a timedelta.

    ``bare_unit`` is the unit of a bare number (``90`` with ``"d"``: 90 days); ``positive``
    refuses a zero duration. No value stays None.
    """

    def convert(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        text = value if bare_unit is None or value[-1:].isalpha() else value + bare_unit
        try:
            span = parse_duration(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        if positive and span.total_seconds() <= 0:
            raise click.BadParameter("must be longer than 0 s")
        return span

    return convert


def since(ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    """A duration back from now (``7d``) or a local day (``YYYY-MM-DD`` in ITOPS_TZ)."""
    if value is None:
        return None
    try:
        return dt.datetime.now(dt.UTC) - parse_duration(value)
    except DurationTooLong as exc:
        raise click.BadParameter(str(exc)) from exc
    except ValueError:
        pass
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"'{value}' is neither a duration (7d) nor a date (YYYY-MM-DD)"
        ) from exc
    # a day before 1900 means "from the start"; as it is it would not fit a UTC datetime
    return dt.datetime.combine(max(day, dt.date(1900, 1, 1)), dt.time(), _zone(ctx))


def _zone(ctx: click.Context) -> dt.tzinfo:
    """The display zone (ITOPS_TZ) from a click context, for option callbacks."""
    app = ctx.find_object(App)
    try:
        return app.settings.zone() if app else dt.UTC
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc


def date_value(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    """A day written ``YYYY-MM-DD``."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from exc


def month(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[dt.date, dt.date] | None:
    """A calendar month ``YYYY-MM`` or ``last``, as its first and last day (today in ITOPS_TZ)."""
    if value is None:
        return None
    try:
        zone = load_zone(Settings().tz)
        return parse_month(value, dt.datetime.now(zone).date())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def split_list(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated and comma-separated values (``--only ping,snmp --only ssh``), once each."""
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return tuple(dict.fromkeys(out))


def parse_target(value: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address → (host, port)."""
    text = value.strip()
    if not text:
        raise UsageError("TARGET is empty")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise UsageError(f"bad TARGET {value!r}: expected [IPv6]:PORT")
        port_text = rest[1:] if rest else ""
    elif text.count(":") > 1:
        try:
            ipaddress.IPv6Address(text)
        except ValueError as exc:
            raise UsageError(
                f"bad TARGET {value!r}: not an IPv6 address (use [ADDR]:PORT)"
            ) from exc
        return text, None
    else:
        host, _, port_text = text.partition(":")
    if not host:
        raise UsageError(f"bad TARGET {value!r}: no host")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"bad TARGET {value!r}: port must be 1-65535")
    return host, int(port_text)


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The shared device-selection options, handed to the command as one ``flt: DeviceFilter``."""

    @functools.wraps(fn)
    def inner(
        *args: Any,
        schools: tuple[str, ...],
        kinds: tuple[str, ...],
        statuses: tuple[str, ...],
        fundings: tuple[str, ...],
        search: str | None,
        **kwargs: Any,
    ) -> Any:
        return fn(*args, flt=make_filter(schools, kinds, statuses, fundings, search), **kwargs)

    options = [
        click.option("--school", "schools", multiple=True, help="School code (repeatable)."),
        click.option(
            "--kind", "kinds", multiple=True, type=click.Choice([k.value for k in DeviceKind])
        ),
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=click.Choice([s.value for s in DeviceStatus]),
        ),
        click.option("--funding", "fundings", multiple=True, help="Funding project (repeatable)."),
        click.option(
            "--search",
            help="Text in tag, model, manufacturer, serial, MAC, IP, host name or notes.",
        ),
    ]
    decorated: Callable[..., Any] = inner
    for opt in reversed(options):
        decorated = opt(decorated)
    return decorated


def make_filter(
    schools: tuple[str, ...],
    kinds: tuple[str, ...],
    statuses: tuple[str, ...],
    fundings: tuple[str, ...],
    search: str | None,
) -> DeviceFilter:
    """A DeviceFilter from CLI option values."""
    return DeviceFilter(
        schools=tuple(s.upper() for s in schools),
        kinds=tuple(DeviceKind(k) for k in kinds),
        statuses=tuple(DeviceStatus(s) for s in statuses),
        fundings=fundings,
        search=search,
    )
