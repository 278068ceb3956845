"""Terminal rendering helpers: one console, markup escaping, JSON output.

Nothing read from a file, a device or the database reaches the terminal with a control or bidi
character in it: :func:`safe`, every string the consoles render and :func:`print_json` show them
as escapes (:mod:`kape_itops.domain.text`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, HighlighterType, JustifyMethod, OverflowMethod, RenderableType
from rich.markup import escape
from rich.protocol import is_renderable
from rich.style import Style
from rich.table import Table
from rich.text import Text

from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.inventory import Device
from kape_itops.domain.results import ProbeResult
from kape_itops.domain.text import reveal, reveal_json
from kape_itops.reports import fmt


class RevealingConsole(Console):
    """A rich console that shows control and bidi characters of every string it renders as
    escapes (``\\x1b``), even in text that skipped :func:`safe`; rich's own styling is kept."""

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: HighlighterType | None = None,
    ) -> Text:
        """:meth:`rich.console.Console.render_str` of the revealed text."""
        return super().render_str(
            reveal(text),
            style=style,
            justify=justify,
            overflow=overflow,
            emoji=emoji,
            markup=markup,
            highlight=highlight,
            highlighter=highlighter,
        )

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """:meth:`rich.console.Console.print`; objects that are not renderables are shown as
        revealed plain text (rich would write their ``str`` as it is, without markup)."""
        super().print(*(o if is_renderable(o) else Text(reveal(str(o))) for o in objects), **kwargs)


console = RevealingConsole(highlight=False)
err_console = RevealingConsole(stderr=True, highlight=False)


def safe(value: object) -> str:
    """Text for rich: '[' cannot become markup, control and bidi characters show as escapes."""
    if value is None:
        return ""
    return escape(reveal(str(value)))


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, dates and decimals as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | PurePath):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to stdout (no rich markup processing).

    Control, bidi and separator characters inside strings are ``\\uXXXX`` escapes: the data
    is the same for a JSON parser, the terminal never sees them raw.
    """
    print(reveal_json(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)))


STATUS_STYLE: dict[ProbeStatus, str] = {
    ProbeStatus.OK: "green",
    ProbeStatus.WARN: "yellow",
    ProbeStatus.CRIT: "red",
    ProbeStatus.UNKNOWN: "magenta",
}
"""The one colour of each probe status, in every table, status line and progress bar."""
DURATION_DIGITS = 3
"""Decimals of ``duration_ms`` in JSON (microseconds), the same for every probe command."""


def status_text(status: ProbeStatus, *, upper: bool = False) -> Text:
    """A probe status in its colour (``OK`` in status lines with ``upper``)."""
    word = status.value.upper() if upper else status.value
    return Text(word, style=STATUS_STYLE[status])


def status_markup(status: ProbeStatus) -> str:
    """``[green]OK[/]``: the upper-case status in rich markup, for a status line."""
    return f"[{STATUS_STYLE[status]}]{status.value.upper()}[/]"


def status_line(result: ProbeResult, *, method: bool = True) -> str:
    """``OK target (method): reason`` in rich markup, the status in its colour, text escaped."""
    how = f" ({safe(result.method or result.probe)})" if method else ""
    return f"{status_markup(result.status)} {safe(result.target)}{how}: {safe(result.reason)}"


def brief(value: object, limit: int = 200) -> str:
    """A metric value on one table line: lists joined by commas, long text cut with '…'."""
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def result_json(
    result: ProbeResult, device: Device | None = None, *, hide: Collection[str] = ()
) -> dict[str, Any]:
    """One probe result as every ``--json`` shows it; ``hide`` leaves internal metrics out.

    ``school`` and ``kind`` are the inventory device's (None for an address alone).
    """
    return {
        "asset_tag": result.asset_tag,
        "school": device.school if device else None,
        "kind": device.kind.value if device else None,
        "probe": result.probe,
        "target": result.target,
        "status": result.status.value,
        "reason": result.reason,
        "method": result.method,
        "metrics": {k: v for k, v in result.metrics.items() if k not in hide},
        "started_at": result.started_at,
        "duration_ms": round(result.duration_ms, DURATION_DIGITS),
        "attempts": result.attempts,
    }


KEY_HEADERS = frozenset(
    {"tag", "asset tag", "device", "school", "ip", "address", "target", "mac", "key", "id", "run"}
)
"""Headers of identifier columns: never wrapped or cut, so a tag or IP can be copied whole."""
_TEXT_FLOOR = 10
"""Width a text column needs to stay readable when wrapped (longer words fold)."""
_MIN_TEXT = 4
"""Narrowest a text column is squeezed to so that identifiers stay whole."""


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    cells: list[RenderableType]
    key: bool

    def _texts(self) -> list[str]:
        return [c.plain if isinstance(c, Text) else str(c) for c in self.cells]

    def natural(self) -> int:
        """Width without any wrapping: the longest line of the header or a cell."""
        lines = [ln for t in (self.header, *self._texts()) for ln in t.splitlines()]
        return max((cell_len(ln) for ln in lines), default=0)

    def comfort(self) -> int:
        """Width this column needs: the whole value for keys, else a readable wrap."""
        if self.key:
            return self.natural()
        texts = self._texts()
        longest = max((cell_len(t) for t in texts), default=0)
        word = max((cell_len(w) for t in texts for w in t.split()), default=0)
        return max(min(cell_len(self.header), _TEXT_FLOOR), min(longest, max(word, _TEXT_FLOOR)))


def _text_widths(columns: list[_Column], room: int) -> list[int] | None:
    """Widths for the text columns so that every key column keeps its whole width in ``room``.

    Short columns keep their natural width, long ones share the rest equally (max-min fair),
    none narrower than its header's longest word when there is room for that. None when
    everything fits as it is, or when even the narrowest text columns cannot save the keys.
    """
    text = [c for c in columns if not c.key]
    natural = [c.natural() for c in text]
    avail = room - sum(c.natural() for c in columns if c.key)
    if not text or sum(natural) <= avail or avail < _MIN_TEXT * len(text):
        return None
    words = [max((cell_len(w) for w in c.header.split()), default=0) for c in text]
    floors = [min(n, max(_MIN_TEXT, w)) for n, w in zip(natural, words, strict=True)]
    if sum(floors) > avail:
        floors = [min(n, _MIN_TEXT) for n in natural]
    widths = list(floors)
    left = set(range(len(text)))
    while left:
        share = avail // len(left)
        settled = {i for i in left if natural[i] <= share} or {i for i in left if floors[i] > share}
        if not settled:
            for i in left:
                widths[i] = share
            break
        for i in settled:
            widths[i] = natural[i] if natural[i] <= share else floors[i]
            avail -= widths[i]
        left -= settled
    return widths


def _cell(value: object, tz: dt.tzinfo, seconds: bool) -> RenderableType:
    if isinstance(value, Text):
        return value
    if isinstance(value, dt.datetime):
        return fmt.stamp(value, tz, seconds=seconds)
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe(value)


def _needs(built: list[tuple[str, _Column]], per_column: int, extra: int) -> int:
    return sum(c.comfort() + per_column for _, c in built) + extra


def _zone_suffix(values: list[dt.datetime], tz: dt.tzinfo) -> str:
    labels = {fmt.zone_label(tz, v) for v in values}
    return f" ({labels.pop()})" if len(labels) == 1 else f" ({fmt.zone_name(tz)})"


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    tz: dt.tzinfo | None = None,
    seconds: bool = False,
    keys: Collection[str] = (),
    optional: Sequence[str] = (),
    width: int | None = None,
) -> Table:
    """A rich table whose every cell is escaped, readable down to 80 columns.

    Datetime cells are shown in ``tz`` (default UTC) and their header names the zone once;
    dates are ISO. Identifier columns (``KEY_HEADERS`` and ``keys``), times and dates are never
    wrapped or cut; text wraps and folds, never ellipsised. ``optional`` columns are left
    out, first named first, while the table would not fit ``width`` (default: the console's);
    a caption says which. ``rich.text.Text`` cells are kept as they are (styled values).
    """
    zone = tz or dt.UTC
    raw = [list(r) for r in rows]
    built: list[tuple[str, _Column]] = []
    for i, header in enumerate(columns):
        values = [r[i] for r in raw]
        times = [v for v in values if isinstance(v, dt.datetime)]
        dated = bool(times) or any(isinstance(v, dt.date) for v in values)
        name = header + (_zone_suffix(times, zone) if times else "")
        key = dated or header.lower() in KEY_HEADERS or header in keys
        built.append((header, _Column(name, [_cell(v, zone, seconds) for v in values], key)))
    limit = width or console.width
    compact = _needs(built, 3, 1) > limit
    hidden: list[str] = []
    for header in optional:
        if _needs(built, 1, -1) <= limit:
            break
        if header in (h for h, _ in built):
            built = [(h, c) for h, c in built if h != header]
            hidden.append(header)
    caption = f"not shown at {limit} columns: {', '.join(hidden)}" if hidden else None
    t = Table(title=safe(title) if title else None, header_style="bold", caption=caption)
    if compact:  # one divider between columns, no edges or padding: 2 columns more per column
        t.box, t.show_edge, t.pad_edge, t.padding = box.MINIMAL_HEAVY_HEAD, False, False, (0, 0)
    cols = [c for _, c in built]
    overhead = len(cols) - 1 if compact else 3 * len(cols) + 1
    fixed = iter(_text_widths(cols, limit - overhead) or [])
    for c in cols:
        if c.key:
            t.add_column(safe(c.header), no_wrap=True, overflow="fold", min_width=c.natural())
        else:
            t.add_column(safe(c.header), overflow="fold", width=next(fixed, None))
    for j in range(len(raw)):
        t.add_row(*(c.cells[j] for _, c in built))
    return t
