"""``itops report …``: the health report (HTML, Markdown, JSON, CSV) and the problems hook."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click

from kape_itops.atomic import write_text
from kape_itops.cli.app import App, handle_errors, pass_app
from kape_itops.cli.options import date_value, duration, month
from kape_itops.cli.render import console, print_json, safe, table
from kape_itops.config import load_zone
from kape_itops.domain.problems import Problem
from kape_itops.domain.text import reveal, reveal_json
from kape_itops.errors import ConfigError, NotifyError, UsageError
from kape_itops.i18n import LANGS, pick_lang
from kape_itops.reports import fmt
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.model import HealthReport, resolve_period, to_dict
from kape_itops.reports.pdf import write_pdf
from kape_itops.reports.render_csv import write_csv
from kape_itops.reports.render_html import render_html, write_html
from kape_itops.reports.render_md import render_md
from kape_itops.reports.silence import silent_after_setting

_silent_after = click.option(
    "--silent-after",
    type=click.IntRange(min=1),
    metavar="N",
    help="On a server: a school whose collector has not synced for more than N probe "
    "intervals is a problem, its devices 'no data' since (default ITOPS_SILENT_AFTER or 6).",
)


@click.group()
def report() -> None:
    """Health reports over a period, and the problems hook for alerts."""


@report.command("health")
@click.option("--since", callback=duration(), help="Period ending now, e.g. 7d (default 7d).")
@click.option("--from", "date_from", callback=date_value, metavar="DATE", help="First day (UTC).")
@click.option("--to", "date_to", callback=date_value, metavar="DATE", help="Last day, inclusive.")
@click.option(
    "--month",
    "month_days",
    callback=month,
    metavar="YYYY-MM|last",
    help="A calendar month (UTC days); 'last' is the month before this one.",
)
@click.option("--school", help="Only this school (code).")
@click.option(
    "--html",
    "html",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one self-contained HTML file.",
)
@click.option("--md", "md", type=click.Path(path_type=Path, dir_okay=False), help="Write Markdown.")
@click.option(
    "--pdf",
    "pdf",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write an A4 PDF (printed by headless Chromium).",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["html", "md", "json", "csv", "pdf"]),
    help="Output format, written to --out (json: stdout unless --out).",
)
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), help="Where --format writes (a CSV folder)."
)
@click.option(
    "--lang",
    type=click.Choice(list(LANGS)),
    default=None,
    help="Language of the report: en or km (default ITOPS_LANG or en).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write CSV files into DIR.",
)
@click.option("--title", help="Report title.")
@click.option(
    "--interval",
    default="5m",
    show_default=True,
    callback=duration(),
    help="Probe interval the availability expects.",
)
@_silent_after
@pass_app
@handle_errors()
def health(
    app: App,
    since: dt.timedelta | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    month_days: tuple[dt.date, dt.date] | None,
    school: str | None,
    html: Path | None,
    md: Path | None,
    pdf: Path | None,
    out_format: str | None,
    out: Path | None,
    lang: str | None,
    as_json: bool,
    csv_dir: Path | None,
    title: str | None,
    interval: dt.timedelta,
    silent_after: int | None,
) -> None:
    """Availability, latency, supplies, problems, trends and inventory for a period; with
    --month, each school and all against the month before."""
    lang = lang or pick_lang(os.environ.get("ITOPS_LANG"))
    if out_format is not None:
        if any(o is not None for o in (html, md, pdf, csv_dir)) or as_json:
            raise UsageError("--format replaces --html, --md, --pdf, --json and --csv")
        if out is None and out_format != "json":
            raise UsageError(f"--format {out_format} needs --out PATH")
        html, md, pdf, csv_dir = (
            out if out_format == f else None for f in ("html", "md", "pdf", "csv")
        )
        as_json = out_format == "json"
    elif out is not None:
        raise UsageError("--out goes with --format")
    outputs = [o for o in (html, md, pdf, csv_dir) if o is not None] + ([True] if as_json else [])
    if len(outputs) > 1:
        raise UsageError("choose one of --html, --md, --pdf, --json, --csv")
    if month_days is not None:
        if since is not None or date_from or date_to:
            raise UsageError("give one of --since, --from/--to or --month")
        date_from, date_to = month_days
    period = resolve_period(since, date_from, date_to)
    opts = ReportOptions(
        school=school.upper() if school else None,
        title=title,
        interval=interval,
        tz=app.settings.tz,
        silent_after=silent_after or silent_after_setting(),
    )
    if month_days is not None:
        rep = app.reports().monthly(month_days[0], opts)
    else:
        rep = app.reports().health(period, opts)
    if as_json:
        text = reveal_json(json.dumps(to_dict(rep), ensure_ascii=False, indent=2)) + "\n"
        if out is not None:
            write_text(out, text)
            console.print(f"wrote {safe(out)}")
        else:
            click.echo(text, nl=False)
    elif html is not None:
        write_html(rep, html, lang)
        console.print(f"wrote {safe(html)}")
    elif pdf is not None:
        write_pdf(render_html(rep, lang), pdf)
        console.print(f"wrote {safe(pdf)}")
    elif md is not None:
        write_text(md, render_md(rep, lang))
        console.print(f"wrote {safe(md)}")
    elif csv_dir is not None:
        files = write_csv(rep, csv_dir)
        console.print(f"wrote {len(files)} CSV files into {safe(csv_dir)}")
    else:
        _print_summary(rep)


def _print_summary(rep: HealthReport) -> None:
    a = rep.availability
    zone = load_zone(rep.tz)
    start, end = fmt.when(rep.period.start, zone), fmt.when(rep.period.end, zone)
    console.print(
        f"[bold]{safe(rep.title)}[/bold] {start} – {end}: "
        f"availability {fmt.pct(a.pct_up)} of {rep.devices_monitored} monitored devices, "
        f"unknown {fmt.pct(a.pct_unknown)}; "
        f"{rep.devices_deployed - rep.devices_monitored} deployed devices not monitored, "
        f"{len(rep.not_deployed)} not deployed"
    )
    for s in rep.silent:
        x = s.silence
        if x is not None:
            console.print(
                f"[bold red]{safe(s.code)}: no data since {fmt.when(x.no_data_since, zone)}[/] "
                f"(collector silent since {fmt.when(x.silent_since, zone)}; "
                f"{fmt.pct(s.availability.pct_no_data)} of its time not counted down)"
            )
    console.print(
        table(
            "Schools",
            ["school", "availability", "down", "unknown", "p50", "p95", "loss", "cameras rec."],
            (
                [
                    s.code,
                    fmt.pct(s.availability.pct_up),
                    fmt.pct(s.availability.pct_down),
                    fmt.pct(s.availability.pct_unknown),
                    fmt.ms(s.rtt_p50_ms),
                    fmt.ms(s.rtt_p95_ms),
                    fmt.pct(s.loss_pct, 2),
                    f"{s.cameras_recording}/{s.cameras_reporting}",
                ]
                for s in rep.schools
            ),
        )
    )
    if rep.discovery:
        for w in rep.discovery:
            c = w.counts
            console.print(
                f"discovery {safe(w.school)}: {safe(w.method)} sweep {fmt.when(w.started_at, zone)}, "
                f"{c.get('seen', 0)} seen, {c.get('unknown', 0)} unknown, "
                f"{c.get('missing', 0)} missing"
            )
    else:
        console.print("discovery: no sweep in this period (itops discover --school CODE)")
    _print_problems(rep.problems, f"{len(rep.problems)} problem(s)", zone)


def _print_problems(problems: list[Problem], title: str, tz: dt.tzinfo) -> None:
    console.print(
        table(
            title,
            ["severity", "problem", "school", "device", "detail", "since"],
            (
                [
                    p.severity,
                    p.kind.value.replace("_", " "),
                    p.school,
                    p.asset_tag or "-",
                    p.detail,
                    p.since or "—",
                ]
                for p in problems
            ),
            tz=tz,
        )
    )


@report.command("problems")
@click.option(
    "--new-since-last",
    is_flag=True,
    help="Only problems that appeared since the last call (for an alert hook).",
)
@click.option(
    "--consecutive",
    default=2,
    show_default=True,
    type=int,
    help="Runs a problem must hold before it is reported.",
)
@click.option(
    "--since",
    default="1d",
    show_default=True,
    callback=duration(),
    help="Period for the full list.",
)
@click.option("--school", help="Only this school (code), for the full list.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@_silent_after
@pass_app
@handle_errors()
def problems(
    app: App,
    new_since_last: bool,
    consecutive: int,
    since: dt.timedelta,
    school: str | None,
    as_json: bool,
    silent_after: int | None,
) -> None:
    """Current problems by severity; with --new-since-last, only new ones (flap-suppressed)."""
    if consecutive < 1:
        raise UsageError("--consecutive must be at least 1")
    if new_since_last:
        found = app.reports().new_problems(consecutive, silent_after, app.settings.zone())
    else:
        period = resolve_period(since, None, None)
        opts = ReportOptions(
            school=school.upper() if school else None,
            tz=app.settings.tz,
            silent_after=silent_after or silent_after_setting(),
        )
        found = app.reports().health(period, opts).problems
    if as_json:
        print_json([to_dict(p) for p in found])
        return
    zone = app.settings.zone()
    if new_since_last:
        for p in found:
            click.echo(_line(p, zone))
        return
    _print_problems(found, f"{len(found)} problem(s)", zone)


def _line(p: Problem, tz: dt.tzinfo) -> str:
    since = f" (since {fmt.when(p.since, tz)})" if p.since else ""
    text = f"{p.severity.value.upper()} {p.kind.value} {p.school} {p.asset_tag or '-'}: {p.detail}{since}"
    return reveal(text, newlines=False)


@report.command("mail")
@click.option(
    "--month",
    "month_days",
    callback=month,
    metavar="YYYY-MM|last",
    help="Send this month's report now, whether or not it went out already.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_app
@handle_errors()
def mail(app: App, month_days: tuple[dt.date, dt.date] | None, as_json: bool) -> None:
    """Send the monthly health report set up in [reports.mail] of the secrets file (through
    [alerts.smtp]): without --month, the due month unless it was sent, as the server does."""
    from kape_itops.notify.report_mail import ReportMailer

    mailer = ReportMailer(app.database().store, app.settings.secrets_path, tz=app.settings.zone())
    if not mailer.configured():
        raise ConfigError(
            "no monthly report mail: add [reports.mail] (and [alerts.smtp]) to the secrets file "
            "(--secrets or ITOPS_SECRETS)"
        )
    done = mailer.send_now(month_days[0]) if month_days else mailer.run_once()
    if as_json:
        print_json(None if done is None else to_dict(done))
    elif done is None:
        click.echo("nothing to send: the due month's report went out already")
    elif done.sent:
        click.echo(f"sent the report of {done.month:%Y-%m}")
    if done is not None and done.error:
        raise NotifyError(done.error)


@report.command("notify")
@click.option(
    "--test", "test_message", is_flag=True, help="Only send a test message to every channel."
)
@click.option(
    "--consecutive",
    default=2,
    show_default=True,
    type=int,
    help="Runs a problem must hold before it is reported.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@_silent_after
@pass_app
@handle_errors()
def notify(
    app: App, test_message: bool, consecutive: int, as_json: bool, silent_after: int | None
) -> None:
    """Send new problems (flap-suppressed) to the Telegram chat and e-mail set up in the
    secrets file ([alerts.telegram], [alerts.smtp]); what a channel misses is retried next
    round. Shares the cursor of `problems --new-since-last`: use one or the other."""
    from kape_itops.notify.service import Notifier

    if consecutive < 1:
        raise UsageError("--consecutive must be at least 1")
    notifier = Notifier(
        app.database().store,
        app.settings.secrets_path,
        consecutive=consecutive,
        silent_after=silent_after,
        tz=app.settings.zone(),
    )
    if not notifier.configured():
        raise ConfigError(
            "no alert channel: add [alerts.telegram] or [alerts.smtp] to the secrets file "
            "(--secrets or ITOPS_SECRETS)"
        )
    new = None
    if test_message:
        channels = notifier.test()
    else:
        rep = notifier.run_once()
        channels, new = rep.channels, rep.new
    if as_json:
        print_json({"new": new, "channels": [to_dict(c) for c in channels]})
    else:
        if new is not None:
            click.echo(f"{new} new problem(s)")
        for c in channels:
            state = f"failed: {c.error}" if c.error else f"sent {c.sent}"
            click.echo(reveal(f"{c.name}: {state}; {c.pending} waiting", newlines=False))
    failed = [c.error for c in channels if c.error]
    if failed:
        raise NotifyError("; ".join(failed))
