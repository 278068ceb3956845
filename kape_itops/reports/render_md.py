"""The health report as Markdown (for a wiki, an e-mail or a chat message).

Device-supplied text is escaped for Markdown and HTML, so a name cannot break a table or
inject markup when the Markdown is turned into HTML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from html import escape as html_escape

from kape_itops.config import load_zone
from kape_itops.domain.text import reveal
from kape_itops.reports import fmt
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


def render_md(report: HealthReport) -> str:
    """The report as a Markdown document (times in the report's zone, named once)."""
    r = report
    counts = r.problem_counts()
    zone = load_zone(r.tz)
    tzl = f" ({fmt.zone_label(zone, r.period.end)})"

    def _when(v: dt.datetime | None) -> str:
        return fmt.stamp(v, zone)

    def _last(status: str | None, no_data: dt.datetime | None) -> str:
        if no_data is None:
            return md(status or "—")
        return f"no data since {_when(no_data)} (last {md(status or '—')})"

    lines = [
        f"# {md(r.title)}",
        "",
        f"Period {_when(r.period.start)} – {_when(r.period.end)}"
        + (f" · school {md(r.school_filter)}" if r.school_filter else "")
        + f" · generated {_when(r.generated_at)} · {fmt.zone_caption(zone, r.period.end)}",
        "",
        f"**Availability {_pct(r.availability.pct_up)}** of {r.devices_monitored} monitored "
        f"devices (unknown or no data {_pct(r.availability.pct_unknown)}; "
        + (
            f"no data from {len(r.silent)} silent school(s) {_pct(r.availability.pct_no_data)}; "
            if r.silent
            else ""
        )
        + f"{r.devices_deployed - r.devices_monitored} deployed devices not monitored) · "
        f"{r.inventory.total} devices · "
        f"{counts['crit']} critical, {counts['warn']} warnings, {counts['info']} for information",
        "",
    ]
    for s in r.silent:
        x = s.silence
        assert x is not None
        lines += [
            f"**{md(s.code)}: no data since {_when(x.no_data_since)}{tzl}** · collector "
            f"silent since {_when(x.silent_since)}"
            + (" (never synced)" if x.last_sync_at is None else "")
            + f" · {_pct(s.availability.pct_no_data)} of its time without data, not counted down",
            "",
        ]
    lines += ["## Problems", ""]
    if r.problems:
        lines += _table(
            ["Severity", "Problem", "School", "Device", "Detail", "Since / last" + tzl],
            (
                [
                    p.severity.value,
                    p.kind.value.replace("_", " "),
                    md(p.school),
                    md(p.asset_tag or "—"),
                    md(p.detail),
                    _when(p.since),
                ]
                for p in r.problems
            ),
        )
    else:
        lines += ["No problems found.", ""]
    lines += ["### Discovery sweeps", ""]
    if r.discovery:
        lines += _table(
            [
                "School",
                "Sweep",
                "When" + tzl,
                "Seen",
                "Known",
                "Unknown",
                "IP/MAC changed",
                "Missing",
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
        lines += ["No discovery sweep in this period.", ""]
    lines += ["## Schools", ""]
    lines += _table(
        [
            "School",
            "Availability",
            "Down",
            "Unknown",
            *(["No data"] if r.silent else []),
            "RTT p50",
            "RTT p95",
            "Loss",
            "Cameras recording",
            "Monitored",
        ],
        (
            [
                f"{md(s.code)} {md(s.name)}"
                + (f" (no data since {_when(s.silence.no_data_since)})" if s.silence else ""),
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
        lines += [f"### {md(s.code)} — {md(s.name)}", ""]
        lines += _table(
            ["Device", "Kind", "Availability", "Unknown", "p50", "p95", "Loss", "Last"],
            (
                [
                    md(d.asset_tag),
                    d.kind.value,
                    _pct(d.availability.pct_up) if d.availability else "not monitored",
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
                ["Printer", "Supplies", "Pages printed"],
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
                ["NVR", "Disk used"], ([md(d.asset_tag), _pct(d.disk_used_pct, 0)] for d in s.nvrs)
            )
    lines += ["## Not deployed", ""]
    if r.not_deployed:
        lines += _table(
            ["School", "Device", "Kind", "Status", "Last result", "Last seen" + tzl],
            (
                [
                    md(code),
                    md(d.asset_tag),
                    d.kind.value,
                    d.status.value.replace("_", " "),
                    md(d.last_status or "—"),
                    _when(d.last_seen),
                ]
                for code, d in r.not_deployed
            ),
        )
        lines += ["In stock or in repair: probed only on request, never a problem or an alert.", ""]
    else:
        lines += ["No device in stock or in repair.", ""]
    inv = r.inventory
    kinds = sorted({k for c in inv.by_school_kind.values() for k in c})
    lines += ["## Inventory", ""]
    lines += _table(
        ["School", *kinds, "Total"],
        (
            [md(code), *(str(c.get(k, 0)) for k in kinds), str(sum(c.values()))]
            for code, c in sorted(inv.by_school_kind.items())
        ),
    )
    lines += _table(["Funding", "Devices"], ([md(f), str(n)] for f, n in inv.by_funding.items()))
    lines += [f"Changes in the period: {len(inv.changes)}", ""]
    lines += [f"- {md(n)}" for n in r.notes]
    return reveal("\n".join(lines).rstrip()) + "\n"
