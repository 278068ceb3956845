"""The Telegram and SMTP channels on their own: retries, refusals, TLS, configuration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kape_itops.errors import ConfigError, NotifyError, SecretsError
from kape_itops.notify.message import Notice
from kape_itops.notify.service import Notifier
from kape_itops.notify.smtp import Smtp, SmtpConfig
from kape_itops.notify.telegram import Telegram, TelegramConfig
from kape_itops.probes import catalog
from kape_itops.secrets import Secret, SecretStore
from kape_itops.store.db import Store
from tests.support.notify_data import KHMER, PASSWORD, secrets_file
from tests.support.notify_peers import TOKEN, FakeBotApi, bot_api, self_signed, smtp_server


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_smtp_tls_with_a_pinned_certificate(sqlite_url: str, tmp_path: Path, mode: str) -> None:
    cert = self_signed(tmp_path / "tls")
    tls = (
        {"starttls": tmp_path / "tls"} if mode == "starttls" else {"implicit_tls": tmp_path / "tls"}
    )
    with smtp_server(**tls) as (box, port):  # type: ignore[arg-type]
        pinned = SmtpConfig.from_credential(
            SecretStore.load(
                secrets_file(tmp_path / "s.toml", smtp_port=port, security=mode, cafile=cert)
            ).credential("alerts", "smtp")
        )
        Smtp(pinned).send_text("ស្ថានភាព ok")
        assert box.logins == [("itops", PASSWORD)]
        assert box.messages[0][1].get_body().get_content().splitlines() == ["ស្ថានភាព ok"]  # type: ignore[union-attr]
        unpinned = SmtpConfig.from_credential(
            SecretStore.load(
                secrets_file(tmp_path / "u.toml", smtp_port=port, security=mode)
            ).credential("alerts", "smtp")
        )
        with pytest.raises(NotifyError, match=r"smtp: TLS with 127\.0\.0\.1:\d+ failed"):
            Smtp(unpinned).send_text("never")
    assert len(box.messages) == 1 and len(box.logins) == 1


def test_smtp_refusals_are_clear(sqlite_url: str, tmp_path: Path) -> None:
    with smtp_server(password="other") as (box, port):
        cfg = SmtpConfig.from_credential(
            SecretStore.load(secrets_file(tmp_path / "s.toml", smtp_port=port)).credential(
                "alerts", "smtp"
            )
        )
        with pytest.raises(NotifyError) as err:
            Smtp(cfg).send_text("x")
    assert str(err.value).startswith(f"smtp: 127.0.0.1:{port} refused the login of itops (535")
    assert PASSWORD not in str(err.value) and box.messages == []
    with pytest.raises(NotifyError, match=f"smtp: cannot reach 127.0.0.1:{port}"):
        Smtp(cfg).send_text("x")  # the server is gone


def telegram(api: FakeBotApi, slept: list[float], folder: Path) -> Telegram:
    """A Telegram channel on the fake (max_wait 5 s) recording its sleeps in ``slept``."""
    store = SecretStore.load(secrets_file(folder / "tg.toml", telegram=api.url))
    return Telegram(
        TelegramConfig.from_credential(store.credential("alerts", "telegram")), sleep=slept.append
    )


NOTICE = Notice("down:A:", "crit", "down", "KPT-PSP", KHMER, "A", "not answering", None)


def test_telegram_429_waits_retry_after_within_the_bound(tmp_path: Path) -> None:
    slept: list[float] = []
    with bot_api() as api:
        rate = {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 2",
            "parameters": {"retry_after": 2},
        }
        api.script = [(429, rate), (429, rate)]
        telegram(api, slept, tmp_path).send([NOTICE], dt.UTC)
        assert slept == [2.0, 2.0] and len(api.texts()) == 1
        api.script = [(429, rate | {"parameters": {"retry_after": 60}})]
        with pytest.raises(NotifyError, match="rate limited; Telegram asks to wait 60 s") as err:
            telegram(api, slept, tmp_path).send([NOTICE], dt.UTC)
        assert err.value.delivered == 0 and slept == [2.0, 2.0]


def test_telegram_refusals_name_the_cause_never_the_token(tmp_path: Path) -> None:
    with bot_api() as api:
        api.script = [(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})]
        with pytest.raises(NotifyError) as err:
            telegram(api, [], tmp_path).send([NOTICE], dt.UTC)
        assert str(err.value) == "telegram: the bot token was refused (401 Unauthorized)"
        api.script = [(400, {"ok": False, "description": "Bad Request: chat not found"})]
        with pytest.raises(NotifyError, match="chat -1001234567890 refused the message"):
            telegram(api, [], tmp_path).send_text("x")
        assert all(TOKEN not in str(r.body) for r in api.requests)


def test_secrets_alert_parts_token_hidden_and_modes_refused(tmp_path: Path) -> None:
    path = secrets_file(tmp_path / "s.toml", telegram="http://127.0.0.1:9", smtp_port=25)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('[school-default.snmp]\nversion = "2c"\ncommunity = "c"\n')
    store = SecretStore.load(path, protocols=catalog.secret_protocols())
    tg = store.credential("alerts", "telegram")
    assert tg.secret("token") == Secret(TOKEN) and "token" not in tg.settings
    assert TOKEN not in repr(tg)
    smtp = store.credential("alerts", "smtp")
    assert smtp.get("to") == "it@kape.example, ដឹកនាំ <head@kape.example>"
    assert SmtpConfig.from_credential(smtp).to == ("it@kape.example", "ដឹកនាំ <head@kape.example>")
    typo = tmp_path / "typo.toml"
    typo.write_text(f'[alerts.telegramm]\ntoken = "{TOKEN}"\n', encoding="utf-8")
    typo.chmod(0o600)
    with pytest.raises(SecretsError, match="entry 'alerts' has unknown part 'telegramm'"):
        Notifier(Store("sqlite://"), typo).configured()
    for mode in (0o640, 0o604):
        path.chmod(mode)
        with pytest.raises(SecretsError, match="chmod 600"):
            Notifier(Store("sqlite://"), path).configured()


def test_configuration_mistakes_are_refused_before_sending(tmp_path: Path) -> None:
    def cfg(text: str) -> SecretStore:
        p = tmp_path / "c.toml"
        p.write_text(text, encoding="utf-8")
        p.chmod(0o600)
        return SecretStore.load(p)

    tg = f'[alerts.telegram]\ntoken = "{TOKEN}"\nchat_id = "42"\n'
    with pytest.raises(ConfigError, match="plain http is allowed on loopback only"):
        TelegramConfig.from_credential(
            cfg(tg + 'api_url = "http://api.telegram.org"\n').credential("alerts", "telegram")
        )
    with pytest.raises(ConfigError, match="not a bot token") as err:
        TelegramConfig.from_credential(
            cfg('[alerts.telegram]\ntoken = "abc/../x"\nchat_id = "1"\n').credential(
                "alerts", "telegram"
            )
        )
    assert "abc" not in str(err.value)
    remote = '[alerts.smtp]\nhost = "mail.example.org"\nsecurity = "none"\npassword = "p"\n'
    with pytest.raises(ConfigError, match="would send the password unencrypted"):
        SmtpConfig.from_credential(
            cfg(remote + 'sender = "a@b.c"\nto = "d@e.f"\n').credential("alerts", "smtp")
        )
    with pytest.raises(ConfigError, match="is not an e-mail address"):
        SmtpConfig.from_credential(
            cfg('[alerts.smtp]\nhost = "h"\nsender = "a@b.c"\nto = "x\\nBcc: e@f.g"\n').credential(
                "alerts", "smtp"
            )
        )
