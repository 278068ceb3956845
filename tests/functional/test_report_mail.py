"""The monthly report by e-mail through the server's mail settings, against a real SMTP server
(aiosmtpd on loopback): sent once from its day and hour on, never twice (not after a restart
either), retried later when the relay is down, HTML or PDF attached, and from the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import stat
import time
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kape_itops.errors import ConfigError
from kape_itops.notify import report_mail
from kape_itops.notify.report_mail import ReportMailer, due_month
from kape_itops.store.db import Store
from tests.functional.test_report_khmer import KM_NAME, fill
from tests.support.notify_data import secrets_file
from tests.support.notify_peers import free_port, smtp_server

PP = ZoneInfo("Asia/Phnom_Penh")
DUE = dt.datetime(2026, 12, 1, 7, 30, tzinfo=PP)
"""1 December, 07:30 in Phnom Penh: November's report is due (day 1, hour 7)."""


def with_schedule(path: Path, port: int, extra: str = "") -> Path:
    secrets_file(path, smtp_port=port)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(
            '[reports.mail]\nto = ["director@kape.example"]\nday = 1\nhour = 7\nlang = "km"\n'
            + extra
        )
    return path


def reports(box: object) -> list[tuple[object, EmailMessage]]:
    return [(e, m) for e, m in box.messages if "របាយការណ៍" in str(m["Subject"])]  # type: ignore[attr-defined]


def attachment(msg: EmailMessage) -> tuple[str, bytes]:
    (part,) = list(msg.iter_attachments())
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return str(part.get_filename()), data


def test_due_month() -> None:
    assert due_month(DUE, 1, 7) == dt.date(2026, 11, 1)
    assert due_month(DUE.replace(hour=6), 1, 7) == dt.date(2026, 10, 1)
    assert due_month(dt.datetime(2026, 1, 5, 9, tzinfo=PP), 5, 9) == dt.date(2025, 12, 1)
    assert due_month(dt.datetime(2026, 1, 4, 9, tzinfo=PP), 5, 9) == dt.date(2025, 11, 1)


def test_sent_once_in_khmer_and_never_twice(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    store.upgrade()
    fill(store)
    with smtp_server() as (box, port):
        secrets = with_schedule(tmp_path / "s.toml", port)
        mailer = ReportMailer(store, secrets, tz=PP, interval=dt.timedelta(hours=3))
        assert mailer.run_once(DUE.replace(hour=6)) is not None  # October: nothing held, sent
        box.messages.clear()
        mailer.state_path.unlink()  # type: ignore[union-attr]
        done = mailer.run_once(DUE)
        assert done is not None and done.sent and done.month == dt.date(2026, 11, 1)
        assert mailer.run_once(DUE + dt.timedelta(hours=5)) is None
        again = ReportMailer(store, secrets, tz=PP)  # a restarted server
        assert again.run_once(DUE + dt.timedelta(days=3)) is None
        (envelope, msg), *more = reports(box)
        assert more == []
        assert envelope.rcpt_tos == ["director@kape.example"]  # type: ignore[attr-defined]
        assert msg["Subject"] == "[kape-itops] របាយការណ៍សុខភាពប្រព័ន្ធ វិច្ឆិកា 2026"
        body = msg.get_body(("plain",))
        assert body is not None and "KPT-PSP: " in body.get_content()
        assert "សាលារៀនទាំងអស់" in body.get_content()
        name, data = attachment(msg)
        page = data.decode("utf-8")
        assert name == "health-2026-11.html" and '<html lang="km">' in page
        assert KM_NAME in page and "@font-face" in page and 'id="compare"' in page
        state = mailer.state_path
        assert state is not None and stat.S_IMODE(state.stat().st_mode) == 0o600
        assert json.loads(state.read_text())["sent"] == "2026-11"
        # December's report goes on 1 January
        jan = dt.datetime(2027, 1, 1, 8, tzinfo=PP)
        assert again.run_once(jan) is not None and len(reports(box)) == 2
    store.dispose()


def test_relay_down_is_retried_later_and_pdf(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    fill(store)
    port = free_port()
    secrets = with_schedule(tmp_path / "s.toml", port, 'format = "pdf"\nschool = "kpt-psp"\n')
    mailer = ReportMailer(store, secrets, tz=PP, interval=dt.timedelta(hours=3))
    failed = mailer.run_once(DUE)
    assert failed is not None and not failed.sent and "cannot reach 127.0.0.1" in str(failed.error)
    with smtp_server(port=port) as (box, _):
        assert mailer.run_once(DUE + dt.timedelta(minutes=1)) is None  # not before RETRY_S
        monkeypatch.setattr(report_mail, "RETRY_S", 0.0)
        done = mailer.run_once(DUE + dt.timedelta(minutes=2))
        assert done is not None and done.sent
        ((_, msg),) = reports(box)
        name, data = attachment(msg)
        assert name == "health-2026-11-KPT-PSP.pdf" and data.startswith(b"%PDF-")
        assert "KPT-PSP" in str(msg["Subject"])
    store.dispose()


def test_settings_are_checked(sqlite_url: str, tmp_path: Path) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    bad = with_schedule(tmp_path / "bad.toml", 2525, 'format = "docx"\n')
    with pytest.raises(ConfigError, match=r"\[reports.mail\] format must be html or pdf"):
        ReportMailer(store, bad).configured()
    lone = tmp_path / "lone.toml"
    lone.write_text("[reports.mail]\nday = 3\n", encoding="utf-8")
    lone.chmod(0o600)
    with pytest.raises(ConfigError, match=r"sends through \[alerts.smtp\]"):
        ReportMailer(store, lone).configured()
    none = secrets_file(tmp_path / "none.toml", smtp_port=2525)
    assert not ReportMailer(store, none).configured()
    store.dispose()


def test_the_server_mails_the_report_once(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server app's lifespan checks every 0.1 s; November's report goes out once, and a
    restarted server does not send it again (today, 4 December 2026 or later, it is due)."""
    from kape_itops.server.app import create_app

    store = Store(sqlite_url)
    store.upgrade()
    fill(store)
    monkeypatch.setenv("ITOPS_NOTIFY_INTERVAL", "0.1")
    monkeypatch.setenv("ITOPS_TZ", "Asia/Phnom_Penh")
    now = dt.datetime.now(PP)
    month = due_month(now, 1, 7)

    async def live(secrets: Path, box: object, want: int, wait: float) -> None:
        app = create_app(sqlite_url, secrets_path=secrets)
        async with app.router.lifespan_context(app):
            deadline = time.monotonic() + wait
            while len(reports(box)) < want and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # more rounds: nothing more to send

    with smtp_server() as (box, port):
        secrets = with_schedule(tmp_path / "s.toml", port)
        asyncio.run(live(secrets, box, 1, 60))
        asyncio.run(live(secrets, box, 2, 3))  # restarted: 30 rounds, must not send again
        sent = reports(box)
        assert len(sent) == 1, [m["Subject"] for _, m in sent]
        assert attachment(sent[0][1])[0] == f"health-{month:%Y-%m}.html"
    store.dispose()


def test_cli_report_mail(sqlite_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kape_itops.cli import cli

    store = Store(sqlite_url)
    store.upgrade()
    fill(store)
    runner = CliRunner()
    with smtp_server() as (box, port):
        secrets = with_schedule(tmp_path / "s.toml", port, 'format = "html"\n')
        base = ["--db", sqlite_url, "--secrets", str(secrets), "report", "mail"]
        res = runner.invoke(cli, [*base, "--month", "2026-11"])
        assert res.exit_code == 0 and "sent the report of 2026-11" in res.output, res.output
        first = runner.invoke(cli, base)  # the due month, as the server would
        assert first.exit_code == 0 and "sent the report of" in first.output, first.output
        again = runner.invoke(cli, base)
        assert again.exit_code == 0 and "nothing to send" in again.output
        assert len(reports(box)) == 2
    alone = secrets_file(tmp_path / "alone.toml", smtp_port=port)
    res = runner.invoke(cli, ["--db", sqlite_url, "--secrets", str(alone), "report", "mail"])
    assert res.exit_code != 0 and "add [reports.mail]" in res.output
    store.dispose()
