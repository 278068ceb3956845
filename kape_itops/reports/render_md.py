"""The health report as Markdown (for a wiki, an e-mail or a chat message).

Device-supplied text is escaped for Markdown and HTML, so a name cannot break a table or
inject markup when the Markdown is turned into HTML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from html import escape as html_escape

from kape_itops import i18n
from kape_itops.config import load_zone
from kape_itops.domain.text import reveal
from kape_itops.reports import fmt, render_html, words
from kape_itops.reports.compare import MonthComparison, delta
from kape_itops.reports.fmt import ms as _ms
from kape_itops.reports.fmt import num as _num
from kape_itops.reports.fmt import pct as _pct
from kape_itops.reports.model import HealthReport

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md(value: object) -> str:
    """Escape text for a Markdown table cell (one line; control and bidi characters shown)."""
    if value is None:
        return ""
    text = html_escape(
        reveal(str(value).replace("\r\n", " ").replace("\n", " "), newlines=False), quote=False
    )
    return _MD_SPECIAL.sub(r"\\\1", text)


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out.append("")
    return out


def render_md(report: HealthReport, lang: str = "en") -> str:
    """The report as a Markdown document in ``lang`` (times in the report's zone, named once)."""
    r = report

    def _(message: str) -> str:
        return i18n.gettext(lang, message)

    def _word(code: str) -> str:
        return code if lang == "en" else words.word(code, lang)

    counts = r.problem_counts()
    zone = load_zone(r.tz)
    tzl = f" ({fmt.zone_label(zone, r.period.end)})"

    def _when(v: dt.datetime | None) -> str:
        return "—" if v is None else i18n.format_datetime(fmt.aware(v), lang, zone)

    def _last(status: str | None, no_data: dt.datetime | None) -> str:
        if no_data is None:
            return md(status or "—")
        return _("no data since %(t)s (last %(s)s)") % {"t": _when(no_data), "s": md(status or "—")}

    title = _("Health report") if r.title == "Health report" else r.title
    caption = render_html.caption(zone, r.period.end, lang)
    lines = [
        f"# {md(title)}",
        "",
        f"{_('Period')} {_when(r.period.start)} – {_when(r.period.end)}"
        + (f" · {_('school')} {md(r.school_filter)}" if r.school_filter else "")
        + f" · {_('generated')} {_when(r.generated_at)} · {caption}",
        "",
        "**"
        + _("Availability %(p)s") % {"p": _pct(r.availability.pct_up)}
        + "** "
        + _("of %(n)s monitored devices") % {"n": r.devices_monitored}
        + " ("
        + _("unknown or no data %(p)s") % {"p": _pct(r.availability.pct_unknown)}
        + "; "
        + (
            _("no data from %(n)s silent school(s) %(p)s")
            % {"n": len(r.silent), "p": _pct(r.availability.pct_no_data)}
            + "; "
            if r.silent
            else ""
        )
        + _("%(n)s deployed devices not monitored")
        % {"n": r.devices_deployed - r.devices_monitored}
        + ") · "
        + _("%(n)s devices") % {"n": r.inventory.total}
        + " · "
        + _("%(c)s critical, %(w)s warnings, %(i)s for information")
        % {"c": counts["crit"], "w": counts["warn"], "i": counts["info"]},
        "",
    ]
    for s in r.silent:
        x = s.silence
        assert x is not None
        lines += [
            f"**{md(s.code)}: "
            + _("no data since %(t)s") % {"t": _when(x.no_data_since)}
            + f"{tzl}** · {md(s.code)} "
            + _("collector silent since %(t)s") % {"t": _when(x.silent_since)}
            + (f" ({_('never synced')})" if x.last_sync_at is None else "")
            + " · "
            + _("%(p)s of its time without data, not counted down")
            % {"p": _pct(s.availability.pct_no_data)},
            "",
        ]
    if r.comparison is not None:
        lines += _comparison(r.comparison, _)
    lines += [f"## {_('Problems')}", ""]
    if r.problems:
        lines += _table(
            [
                _("Severity"),
                _("Problem"),
                _("School"),
                _("Device"),
                _("Detail"),
                _("Since / last") + tzl,
            ],
            (
                [
                    _word(p.severity.value),
                    _word(p.kind.value).replace("_", " "),
                    md(p.school),
                    md(p.asset_tag or "—"),
                    md(p.detail),
                    _when(p.since),
                ]
                for p in r.problems
            ),
        )
    else:
        lines += [_("No problems found."), ""]
    lines += [f"### {_('Discovery sweeps')}", ""]
    if r.discovery:
        lines += _table(
            [
                _("School"),
                _("Sweep"),
                _("When") + tzl,
                _("Seen"),
                _("Known"),
                _("Unknown"),
                _("IP/MAC changed"),
                _("Missing"),
            ],
            (
                [
                    md(w.school),
                    md(w.method),
                    _when(w.started_at),
                    str(w.counts.get("seen", 0)),
                    str(w.counts.get("known", 0)),
                    str(w.counts.get("unknown", 0)),
                    str(w.counts.get("ip_changed", 0) + w.counts.get("mac_changed", 0)),
                    str(w.counts.get("missing", 0)),
                ]
                for w in r.discovery
            ),
        )
    else:
        lines += [_("No discovery sweep in this period:") + " `itops discover --school CODE`", ""]
    lines += [f"## {_('Schools')}", ""]
    lines += _table(
        [
            _("School"),
            _("Availability"),
            _("Down"),
            _("Unknown"),
            *([_("No data")] if r.silent else []),
            "RTT p50",
            "RTT p95",
            _("Loss"),
            _("Cameras recording"),
            _("Monitored"),
        ],
        (
            [
                f"{md(s.code)} {md(s.name)}"
                + (f" {md(s.name_km)}" if s.name_km else "")
                + (
                    " (" + _("no data since %(t)s") % {"t": _when(s.silence.no_data_since)} + ")"
                    if s.silence
                    else ""
                ),
                _pct(s.availability.pct_up),
                _pct(s.availability.pct_down),
                _pct(s.availability.pct_unknown),
                *([_pct(s.availability.pct_no_data) if s.silence else "—"] if r.silent else []),
                _ms(s.rtt_p50_ms),
                _ms(s.rtt_p95_ms),
                _pct(s.loss_pct, 2),
                f"{s.cameras_recording} / {s.cameras_reporting}",
                f"{s.monitored} / {len(s.devices)}",
            ]
            for s in r.schools
        ),
    )
    for s in r.schools:
        km = f" · {md(s.name_km)}" if s.name_km else ""
        lines += [f"### {md(s.code)} — {md(s.name)}{km}", ""]
        lines += _table(
            [
                _("Device"),
                _("Kind"),
                _("Availability"),
                _("Unknown"),
                "p50",
                "p95",
                _("Loss"),
                _("Last"),
            ],
            (
                [
                    md(d.asset_tag),
                    _word(d.kind.value),
                    _pct(d.availability.pct_up) if d.availability else _("not monitored"),
                    _pct(d.availability.pct_unknown) if d.availability else "",
                    _ms(d.rtt_p50_ms),
                    _ms(d.rtt_p95_ms),
                    _pct(d.loss_pct),
                    _last(d.last_status, s.silence.no_data_since if s.silence else None),
                ]
                for d in s.devices
            ),
        )
        if s.printers:
            lines += _table(
                [_("Printer"), _("Supplies"), _("Pages printed")],
                (
                    [
                        md(d.asset_tag),
                        "; ".join(f"{md(x.name)} {_pct(x.pct, 0)}" for x in d.supplies) or "—",
                        _num(d.pages_printed),
                    ]
                    for d in s.printers
                ),
            )
        if s.nvrs:
            lines += _table(
                [_("NVR"), _("Disk used")],
                ([md(d.asset_tag), _pct(d.disk_used_pct, 0)] for d in s.nvrs),
            )
    lines += [f"## {_('Not deployed')}", ""]
    if r.not_deployed:
        lines += _table(
            [
                _("School"),
                _("Device"),
                _("Kind"),
                _("Status"),
                _("Last result"),
                _("Last seen") + tzl,
            ],
            (
                [
                    md(code),
                    md(d.asset_tag),
                    _word(d.kind.value),
                    _word(d.status.value).replace("_", " "),
                    md(d.last_status or "—"),
                    _when(d.last_seen),
                ]
                for code, d in r.not_deployed
            ),
        )
        lines += [
            _("In stock or in repair: probed only on request, never a problem or an alert."),
            "",
        ]
    else:
        lines += [_("No device in stock or in repair."), ""]
    inv = r.inventory
    kinds = sorted({k for c in inv.by_school_kind.values() for k in c})
    lines += [f"## {_('Inventory')}", ""]
    lines += _table(
        [_("School"), *(_word(k) for k in kinds), _("Total")],
        (
            [md(code), *(str(c.get(k, 0)) for k in kinds), str(sum(c.values()))]
            for code, c in sorted(inv.by_school_kind.items())
        ),
    )
    lines += _table(
        [_("Funding"), _("Devices")], ([md(f), str(n)] for f, n in inv.by_funding.items())
    )
    lines += [f"{_('Changes in the period')}: {len(inv.changes)}", ""]
    lines += [f"- {md(n)}" for n in r.notes]
    return reveal("\n".join(lines).rstrip()) + "\n"


def _comparison(c: MonthComparison, _: Callable[[str], str]) -> list[str]:
    """The month-against-previous-month table."""
    first, last = (d.isoformat() for d in c.previous_days)
    lines = [
        f"## {_('Compared with the previous month')}",
        "",
        f"{_('Previous month')} {first} – {last}. "
        + _("Availability in percent of the time up; the change in percentage points."),
        "",
    ]
    rows = []
    for row in [*c.schools, c.overall]:
        old = row.previous
        rows.append(
            [
                md(row.code) if row.code else f"**{_('All schools')}**",
                _pct(row.current.availability_pct),
                _pct(old.availability_pct) if old else "—",
                delta(row.availability_delta, " pp"),
                str(row.current.problems),
                str(old.problems) if old else "—",
                delta(row.problems_delta),
                str(row.current.crit),
                str(old.crit) if old else "—",
            ]
        )
    head = [_("School"), _("Availability"), _("Previous"), _("Difference"), _("Problems")]
    return lines + _table(
        [*head, _("Previous"), _("Difference"), _("Critical"), _("Previous")], rows
    )
