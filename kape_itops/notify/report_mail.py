"""The monthly health report by e-mail, sent by the server once per month.

``[reports.mail]`` in the secrets file asks for it; the message goes through the server's mail
settings, ``[alerts.smtp]`` (relay, security, login, sender; ``to`` there unless given here)::

    [reports.mail]
    to = ["director@kape.example"]   # default: [alerts.smtp] to
    day = 1                          # day of the month it is sent (1-28), in ITOPS_TZ
    hour = 7                         # from this local hour on (0-23)
    lang = "km"                      # en or km
    format = "pdf"                   # html or pdf (attached; the summary is in the body)
    school = "KPT-PSP"               # optional: one school only

From that day and hour on, a round (:meth:`ReportMailer.run_once`) sends the report of the
previous calendar month, compared with the month before it, unless the state file says that
month went out: the file (``<notify outbox>.reports.json``, mode 0600) is replaced atomically
right after the relay took the message, so a restart never sends a month twice. A failed send is
retried after :data:`RETRY_S`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kape_itops import i18n
from kape_itops.atomic import write_text
from kape_itops.config import Settings
from kape_itops.errors import ConfigError, ItopsError, NotifyError
from kape_itops.notify.outbox import default_path, locked
from kape_itops.notify.service import ENTRY as ALERTS
from kape_itops.notify.smtp import Smtp, SmtpConfig, _address
from kape_itops.probes import catalog
from kape_itops.reports import fmt
from kape_itops.reports.build import ReportOptions
from kape_itops.reports.cache import ReportCache, html_of
from kape_itops.reports.model import HealthReport
from kape_itops.reports.render_html import render_html
from kape_itops.secrets import SecretStore
from kape_itops.store.db import Store

__all__ = ["ENTRY", "FORMAT", "PART", "RETRY_S", "MailSchedule", "ReportMailer", "due_month"]

log = logging.getLogger(__name__)

ENTRY, PART = "reports", "mail"
FORMAT = "kape-itops-report-mail/1"
RETRY_S = 900.0
"""A send that failed is tried again after this many seconds (building the report is costly)."""
_ = i18n.marker


@dataclass(frozen=True, slots=True)
class MailSchedule:
    """``[reports.mail]``: when, in which language and format, to whom, for which school."""

    day: int = 1
    hour: int = 7
    lang: str = "en"
    format: str = "html"
    to: tuple[str, ...] = ()
    school: str | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> MailSchedule:
        """Checked settings; ConfigError naming the key."""
        where = f"[{ENTRY}.{PART}]"

        def number(key: str, default: int, lo: int, hi: int) -> int:
            raw = settings.get(key, str(default)).strip()
            if not raw.isdigit() or not lo <= int(raw) <= hi:
                raise ConfigError(f"{where} {key} must be a number from {lo} to {hi}")
            return int(raw)

        lang = settings.get("lang", "en").strip().lower()
        if lang not in i18n.LANGS:
            raise ConfigError(f"{where} lang must be one of {', '.join(i18n.LANGS)}")
        form = settings.get("format", "html").strip().lower()
        if form not in ("html", "pdf"):
            raise ConfigError(f"{where} format must be html or pdf")
        to = tuple(_address(a, "to") for a in (settings.get("to") or "").split(",") if a.strip())
        school = (settings.get("school") or "").strip().upper() or None
        return cls(number("day", 1, 1, 28), number("hour", 7, 0, 23), lang, form, to, school)


def due_month(now: dt.datetime, day: int, hour: int) -> dt.date:
    """The first day of the month whose report is due at local time ``now``: the previous
    month from ``day`` at ``hour`` on, else the one before it."""
    first = now.date().replace(day=1)
    if (now.day, now.hour) < (day, hour):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """What a round did: the month sent (or tried) and the error, if any."""

    month: dt.date
    sent: bool
    error: str | None = None


class ReportMailer:
    """Sends the monthly report when ``[reports.mail]`` asks for it."""

    def __init__(
        self,
        store: Store,
        secrets_path: Path | None,
        *,
        state_path: Path | None = None,
        tz: dt.tzinfo | None = None,
        interval: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.secrets_path = secrets_path
        self.tz = tz or Settings().zone()
        self.interval = interval
        outbox = default_path(secrets_path) if secrets_path else None
        self.state_path = state_path or (
            outbox.with_name(outbox.name + ".reports.json") if outbox else None
        )

    def settings(self) -> tuple[MailSchedule, SmtpConfig] | None:
        """The schedule and the mail settings (None without ``[reports.mail]``)."""
        if self.secrets_path is None:
            return None
        secrets = SecretStore.load(self.secrets_path, protocols=catalog.secret_protocols())
        if not secrets.has(ENTRY):
            return None
        try:
            part = secrets.credential(ENTRY, PART)
        except ConfigError:
            return None
        schedule = MailSchedule.from_settings(dict(part.settings))
        try:
            smtp = SmtpConfig.from_credential(secrets.credential(ALERTS, "smtp"))
        except ConfigError as exc:
            raise ConfigError(
                f"[{ENTRY}.{PART}] sends through [alerts.smtp], which is missing or wrong: {exc}"
            ) from None
        if schedule.to:
            smtp = dataclasses.replace(smtp, to=schedule.to)
        return schedule, smtp

    def configured(self) -> bool:
        """Whether a monthly report is to be mailed (ConfigError when the settings are wrong)."""
        return self.settings() is not None

    def run_once(self, now: dt.datetime | None = None) -> MailOutcome | None:
        """Send the due month's report unless it went out already (None: nothing to do)."""
        got = self.settings()
        if got is None:
            return None
        if self.state_path is None:
            raise ConfigError("reports mail: no state file (give a secrets file)")
        schedule, smtp = got
        now = (now or dt.datetime.now(dt.UTC)).astimezone(self.tz)
        month = due_month(now, schedule.day, schedule.hour)
        with locked(self.state_path):
            state = self._load()
            if state.get("sent", "") >= month.strftime("%Y-%m"):
                return None
            tried = state.get("tried_at")
            if tried and state.get("tried") == month.strftime("%Y-%m"):
                age = now - dt.datetime.fromisoformat(tried)
                if age.total_seconds() < RETRY_S:
                    return None
            try:
                self._send(schedule, smtp, month, now)
            except ItopsError as exc:  # NotifyError, PdfError, a ConfigError (cafile)
                state |= {"tried": month.strftime("%Y-%m"), "tried_at": now.isoformat()}
                self._save(state)
                log.warning("reports mail: %s (tried again in %d s)", exc, RETRY_S)
                return MailOutcome(month, False, str(exc))
            state = {"sent": month.strftime("%Y-%m"), "sent_at": now.isoformat()}
            self._save(state)
        log.info("reports mail: the report of %s went to %s", month, ", ".join(smtp.to))
        return MailOutcome(month, True)

    def send_now(self, month: dt.date) -> MailOutcome:
        """Send the report of ``month`` now, whatever the state file says (which stays as it
        is); ConfigError without ``[reports.mail]``."""
        got = self.settings()
        if got is None:
            raise ConfigError(f"no [{ENTRY}.{PART}] in the secrets file")
        month = month.replace(day=1)
        try:
            self._send(*got, month, dt.datetime.now(dt.UTC).astimezone(self.tz))
        except ItopsError as exc:
            return MailOutcome(month, False, str(exc))
        return MailOutcome(month, True)

    def _send(
        self, schedule: MailSchedule, smtp: SmtpConfig, month: dt.date, now: dt.datetime
    ) -> None:
        opts = ReportOptions(
            school=schedule.school, interval=self.interval, tz=fmt.zone_name(self.tz)
        )
        lang, kind = schedule.lang, "pdf" if schedule.format == "pdf" else "html"
        renders = {(lang, "mail"): _mail_text(lang), (lang, kind): html_of(lang)}
        if kind == "pdf":
            from kape_itops.reports.pdf import html_to_pdf

            renders[(lang, kind)] = lambda r: html_to_pdf(render_html(r, lang))
        got = ReportCache(self.store).monthly(month, opts, renders, now.astimezone(dt.UTC))
        text = json.loads(got[(lang, "mail")].body)  # kept with the report: the same data
        data = got[(lang, kind)].body
        name = f"health-{month:%Y-%m}" + (f"-{schedule.school}" if schedule.school else "")
        mailer = Smtp(smtp)
        msg = mailer.message(text["subject"], text["summary"])
        if kind == "pdf":
            msg.add_attachment(data, maintype="application", subtype="pdf", filename=f"{name}.pdf")
        else:
            msg.add_attachment(data, maintype="text", subtype="html", filename=f"{name}.html")
        mailer.deliver(msg)

    def _load(self) -> dict[str, str]:
        assert self.state_path is not None
        try:
            raw = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise NotifyError(f"reports mail: cannot read {self.state_path}: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise NotifyError(f"reports mail: {self.state_path} is not a state file of ours")
        return {k: str(v) for k, v in raw.items() if k != "format"}

    def _save(self, state: dict[str, str]) -> None:
        assert self.state_path is not None
        body = json.dumps({"format": FORMAT, **state}, indent=1) + "\n"
        write_text(self.state_path, body, perms=0o600)


def _mail_text(lang: str) -> Callable[[HealthReport], bytes]:
    """The mail's subject and summary of a report, as JSON (kept beside the report)."""

    def text(report: HealthReport) -> bytes:
        doc = {"subject": subject(report, lang), "summary": summary(report, lang)}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    return text


def subject(report: HealthReport, lang: str) -> str:
    """``[kape-itops] Health report November 2026``."""
    month = i18n.format_month(report.period.start.date(), lang)
    title = i18n.gettext(lang, _("Health report"))
    where = f" {report.school_filter}" if report.school_filter else ""
    return f"[kape-itops] {title}{where} {month}"


def summary(report: HealthReport, lang: str) -> str:
    """The message body: availability and problems of the month against the one before."""
    c = report.comparison
    month = i18n.format_month(report.period.start.date(), lang)
    lines = [f"kape-itops: {i18n.gettext(lang, _('Health report'))} {month}", ""]
    if c is not None:
        from kape_itops.reports.compare import delta

        for row in [*c.schools, c.overall]:
            name = row.code or i18n.gettext(lang, _("All schools"))
            lines.append(
                f"{name}: {fmt.pct(row.current.availability_pct)} "
                f"({delta(row.availability_delta, ' pp')}), "
                + i18n.gettext(lang, _("problems %(n)s (%(d)s)"))
                % {"n": row.current.problems, "d": delta(row.problems_delta)}
            )
    lines += ["", i18n.gettext(lang, _("The whole report is attached."))]
    return "\n".join(lines) + "\n"
