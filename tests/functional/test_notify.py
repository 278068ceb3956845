"""Alert rounds against real peers on loopback: a fake Telegram Bot API (HTTP server in a
thread) and an SMTP server (aiosmtpd), fed by the alert hook's flap suppression."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kape_itops.cli import cli
from kape_itops.domain.sync import FORMAT
from kape_itops.errors import ConfigError
from kape_itops.notify import loop as notify_loop
from kape_itops.notify.service import Notifier
from kape_itops.notify.telegram import TelegramConfig
from kape_itops.secrets import SecretStore
from kape_itops.store.db import Store
from kape_itops.sync.server import SyncServer
from tests.support.notify_data import KHMER, PASSWORD, History, khmer_school, secrets_file
from tests.support.notify_peers import TOKEN, FakeBotApi, bot_api, free_port, smtp_server
from tests.support.report_data import T0, ping, write_run

M5 = dt.timedelta(minutes=5)


def test_telegram_gets_new_problems_with_the_token_only_in_the_path(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = History(store, khmer_school(store, ["KPT-PSP-SW01", "KPT-PSP-SW02"]))
    with bot_api() as api:
        n = Notifier(store, secrets_file(tmp_path / "s.toml", telegram=api.url), tz=dt.UTC)
        h.run(**{"KPT-PSP-SW01": True, "KPT-PSP-SW02": False})
        assert n.run_once().new == 0  # held one run only
        h.run(**{"KPT-PSP-SW01": True, "KPT-PSP-SW02": False})
        rep = n.run_once()
        assert rep.new == 1 and rep.ok
        assert [(c.name, c.sent, c.pending) for c in rep.channels] == [("telegram", 1, 0)]
        (req,) = api.requests
        assert req.path == f"/bot{TOKEN}/sendMessage"
        assert TOKEN not in json.dumps(req.body) and TOKEN not in str(req.headers)
        assert req.body["chat_id"] == "-1001234567890" and "parse_mode" not in req.body
        assert req.body["text"] == (
            "kape-itops: 1 new problem (1 crit)\n\n"
            f"CRIT down KPT-PSP {KHMER} KPT-PSP-SW01: not answering: ping crit "
            f"(since {T0:%Y-%m-%d %H:%M})"
        )
        h.run(**{"KPT-PSP-SW01": True})
        assert n.run_once().new == 0 and len(api.requests) == 1  # reported once
    assert "HTTP Request: POST" in caplog.text  # httpx logged the request ...
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text  # ... redacted
    assert TOKEN not in repr(
        TelegramConfig.from_credential(
            SecretStore.load(tmp_path / "s.toml").credential("alerts", "telegram")
        )
    )


def test_a_flapping_device_does_not_notify_every_round(sqlite_url: str, tmp_path: Path) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    with bot_api() as api:
        n = Notifier(store, secrets_file(tmp_path / "s.toml", telegram=api.url), tz=dt.UTC)
        for k in range(8):  # down, up, down, up ...: every flap is one run
            h.run(**{"KPT-PSP-SW01": k % 2 == 0})
            assert n.run_once().new == 0
        assert api.requests == []
        h.run(**{"KPT-PSP-SW01": True})  # k=8 after k=7 (up): one run down
        h.run(**{"KPT-PSP-SW01": True})
        assert n.run_once().new == 1
        for _ in range(3):
            h.run(**{"KPT-PSP-SW01": True})
            assert n.run_once().new == 0
        assert len(api.texts()) == 1
    store.dispose()


def test_a_channel_down_is_retried_next_round_nothing_lost_nothing_twice(
    sqlite_url: str, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01", "KPT-PSP-SW02"]))
    port = free_port()  # the Bot API is not listening there yet
    with smtp_server() as (box, smtp_port):
        path = secrets_file(
            tmp_path / "s.toml", telegram=f"http://127.0.0.1:{port}", smtp_port=smtp_port
        )
        n = Notifier(store, path, tz=dt.UTC)
        h.run(**{"KPT-PSP-SW01": True})
        h.run(**{"KPT-PSP-SW01": True})
        rep = n.run_once()
        tg, mail = rep.channels
        assert rep.new == 1 and not rep.ok
        assert (tg.sent, tg.pending) == (0, 1) and tg.error is not None
        assert tg.error.startswith(f"telegram: cannot reach 127.0.0.1:{port}: ConnectError")
        assert TOKEN not in tg.error and (mail.sent, mail.pending, mail.error) == (1, 0, None)
        state = json.loads((tmp_path / "s.toml.notify.json").read_text(encoding="utf-8"))
        assert [p["key"] for p in state["channels"]["telegram"]["pending"]] == [
            "down:KPT-PSP-SW01:"
        ]
        assert os.stat(tmp_path / "s.toml.notify.json").st_mode & 0o777 == 0o600

        h.run(**{"KPT-PSP-SW01": True, "KPT-PSP-SW02": True})
        h.run(**{"KPT-PSP-SW01": True, "KPT-PSP-SW02": True})
        rep = Notifier(store, path, tz=dt.UTC).run_once()  # a new process: state from disk
        tg, mail = rep.channels
        assert rep.new == 1 and (tg.sent, tg.pending) == (0, 2) and mail.sent == 1

        with bot_api(port) as api:
            rep = n.run_once()
            tg, mail = rep.channels
            assert rep.ok and rep.new == 0 and (tg.sent, tg.pending) == (2, 0)
            assert mail.sent == 0
            (text,) = api.texts()
            assert "2 new problems (2 crit)" in text
            assert text.index("KPT-PSP-SW01") < text.index("KPT-PSP-SW02")
            assert n.run_once().channels[0].sent == 0 and len(api.requests) == 1
        subjects = [m["Subject"] for _, m in box.messages]
        assert subjects == ["[kape-itops] 1 new problem (1 crit)"] * 2
        bodies = [m.get_body().get_content() for _, m in box.messages]  # type: ignore[union-attr]
        assert "KPT-PSP-SW01" in bodies[0] and "KPT-PSP-SW02" not in bodies[0]
        assert "KPT-PSP-SW02" in bodies[1] and "KPT-PSP-SW01" not in bodies[1]
    store.dispose()


def test_smtp_auth_on_loopback_and_khmer_intact(store: Store, tmp_path: Path) -> None:
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    with smtp_server() as (box, port):
        n = Notifier(store, secrets_file(tmp_path / "s.toml", smtp_port=port), tz=dt.UTC)
        h.run(**{"KPT-PSP-SW01": True})
        h.run(**{"KPT-PSP-SW01": True})
        rep = n.run_once()
    assert rep.ok and [(c.name, c.sent) for c in rep.channels] == [("smtp", 1)]
    assert box.logins == [("itops", PASSWORD)]
    ((env, msg),) = box.messages
    assert env.mail_from == "itops@kape.example"
    assert env.rcpt_tos == ["it@kape.example", "head@kape.example"]
    assert msg["To"] == "it@kape.example, ដឹកនាំ <head@kape.example>"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"]
    raw = (env.original_content or b"").decode("ascii")  # every byte on the wire is 7-bit
    assert "=?utf-8?" in raw and KHMER not in raw
    part = msg.get_body()
    assert part is not None and part.get_content_charset() == "utf-8"
    assert f"CRIT down KPT-PSP {KHMER} KPT-PSP-SW01" in part.get_content()


def test_a_long_round_is_split_and_a_failure_half_way_resends_only_the_rest(
    sqlite_url: str, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    tags = [f"KPT-PSP-SW{i:02d}" for i in range(60)]
    ids = khmer_school(store, tags)
    for k in range(2):
        write_run(
            store,
            T0 + k * M5,
            [(ids[t], "ping", "crit", ping(None)) for t in tags],
            reasons=["x" * 150] * len(tags),
        )
    with bot_api() as api:
        api.script = [
            (200, {"ok": True, "result": {}}),
            (502, {"ok": False, "description": "Bad Gateway"}),
        ]
        n = Notifier(store, secrets_file(tmp_path / "s.toml", telegram=api.url), tz=dt.UTC)
        rep = n.run_once()
        (tg,) = rep.channels
        assert rep.new == 60 and tg.error == "telegram: HTTP 502 (Bad Gateway)"
        first = api.requests[0].body["text"]
        assert 0 < tg.sent < 60 and tg.pending == 60 - tg.sent
        assert first.count("\nCRIT down") == tg.sent and len(first) <= 4096
        rep = n.run_once()
        assert rep.ok and rep.channels[0].sent == 60 - tg.sent
        told = [line for t in api.texts() for line in t.splitlines() if line.startswith("CRIT")]
        assert sorted(line.split()[4].rstrip(":") for line in told) == tags  # each exactly once
    store.dispose()


def run_cli(runner: CliRunner, url: str, secrets: Path, *args: str) -> tuple[int, str, str]:
    res = runner.invoke(cli, ["--db", url, "--secrets", str(secrets), "report", "notify", *args])
    return res.exit_code, res.stdout, res.stderr


def test_cli_notify_and_test_message(runner: CliRunner, sqlite_url: str, tmp_path: Path) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    empty.chmod(0o600)
    code, _, err = run_cli(runner, sqlite_url, empty)
    assert code == 2 and "no alert channel: add [alerts.telegram] or [alerts.smtp]" in err
    port = free_port()
    path = secrets_file(tmp_path / "s.toml", telegram=f"http://127.0.0.1:{port}")
    with bot_api(port) as api:
        code, out, _ = run_cli(runner, sqlite_url, path, "--test")
        assert code == 0 and out == "telegram: sent 1; 0 waiting\n"
        assert api.texts()[0].startswith(f"kape-itops test message from {socket.gethostname()}")
        h.run(**{"KPT-PSP-SW01": True})
        h.run(**{"KPT-PSP-SW01": True})
        code, out, _ = run_cli(runner, sqlite_url, path, "--json")
        assert code == 0 and json.loads(out) == {
            "new": 1,
            "channels": [{"name": "telegram", "sent": 1, "pending": 0, "error": None}],
        }
    h.run(**{"KPT-PSP-SW01": False})
    h.run(**{"KPT-PSP-SW01": True})
    h.run(**{"KPT-PSP-SW01": True})
    code, out, err = run_cli(runner, sqlite_url, path)  # the fake is gone
    assert code == 1 and out.startswith("1 new problem(s)\ntelegram: failed: telegram: cannot")
    assert "1 waiting" in out and "error: telegram: cannot reach" in err and TOKEN not in out + err
    store.dispose()


def test_background_rounds_for_the_server(sqlite_url: str, tmp_path: Path) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    h.run(**{"KPT-PSP-SW01": True})
    h.run(**{"KPT-PSP-SW01": True})

    async def serve(api: FakeBotApi, secrets: Path | None) -> bool:
        async with notify_loop.background(store, secrets, interval=0.1) as notifier:
            if notifier is None:
                return False
            deadline = time.monotonic() + 20
            while not api.texts() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            h.run(**{"KPT-PSP-SW01": True})
            await asyncio.sleep(0.4)  # a few more rounds: nothing new
        return True

    with bot_api() as api:
        assert asyncio.run(serve(api, None)) is False  # no secrets: no loop
        assert asyncio.run(serve(api, secrets_file(tmp_path / "s.toml", telegram=api.url)))
        assert len(api.texts()) == 1 and "KPT-PSP-SW01" in api.texts()[0]
    store.dispose()


def test_interval_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITOPS_NOTIFY_INTERVAL", raising=False)
    assert notify_loop.interval_from_env() == 60.0
    monkeypatch.setenv("ITOPS_NOTIFY_INTERVAL", "300")
    assert notify_loop.interval_from_env() == 300.0
    for bad in ("0", "-5", "nan", "5m"):
        monkeypatch.setenv("ITOPS_NOTIFY_INTERVAL", bad)
        with pytest.raises(ConfigError, match="ITOPS_NOTIFY_INTERVAL"):
            notify_loop.interval_from_env()


def test_rounds_at_once_send_what_waits_once_and_a_damaged_outbox_is_set_aside(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    port = free_port()
    path = secrets_file(tmp_path / "s.toml", telegram=f"http://127.0.0.1:{port}")
    h.run(**{"KPT-PSP-SW01": True})
    h.run(**{"KPT-PSP-SW01": True})
    assert Notifier(store, path).run_once().channels[0].pending == 1  # the API is down
    with bot_api(port) as api:
        api.delay = 0.3
        reports = []
        threads = [
            threading.Thread(target=lambda: reports.append(Notifier(store, path).run_once()))
            for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(reports) == 3 and sum(r.channels[0].sent for r in reports) == 1
        assert len(api.texts()) == 1
        state = tmp_path / "s.toml.notify.json"
        state.write_text("{not json", encoding="utf-8")
        h.run(**{"KPT-PSP-SW01": False})
        h.run(**{"KPT-PSP-SW01": True})
        h.run(**{"KPT-PSP-SW01": True})
        assert Notifier(store, path).run_once().channels[0].sent == 1
        assert (tmp_path / "s.toml.notify.json.bad").read_text(encoding="utf-8") == "{not json"
        assert "is damaged" in caplog.text and len(api.texts()) == 2
    store.dispose()


def test_a_silent_collector_is_told_once_per_silence(store: Store, tmp_path: Path) -> None:
    khmer_school(store, ["KPT-PSP-SW01"])
    clock = [T0]
    srv = SyncServer(store, clock=lambda: clock[0])
    grant = srv.join(srv.enroll("KPT-PSP").token, "ab" * 32, "collector-psp", "0.1.0")
    site = srv.authenticate(grant.credential)

    def hello() -> None:
        sent = clock[0].isoformat()
        srv.hello(
            site,
            {
                "format": FORMAT,
                "site": site.uid,
                "school": "KPT-PSP",
                "sent_at": sent,
                "version": "0.1.0",
                "backlog": 0,
            },
        )

    hello()
    with bot_api() as api:
        path = secrets_file(tmp_path / "s.toml", telegram=api.url)
        n = Notifier(store, path, tz=dt.UTC, silent_after=6)  # 6 x 5 min
        assert n.run_once(now=T0 + 25 * dt.timedelta(minutes=1)).new == 0
        assert n.run_once(now=T0 + 31 * dt.timedelta(minutes=1)).new == 1
        assert api.texts()[0].endswith(
            f"CRIT collector silent KPT-PSP {KHMER} -: KPT-PSP collector silent since "
            f"{T0:%Y-%m-%d %H:%M} UTC (31 min) (since {T0:%Y-%m-%d %H:%M})"
        )
        assert n.run_once(now=T0 + 2 * dt.timedelta(hours=1)).new == 0  # told once
        clock[0] = T0 + 3 * dt.timedelta(hours=1)
        hello()  # the link is back
        assert n.run_once(now=clock[0] + dt.timedelta(minutes=1)).new == 0
        assert n.run_once(now=clock[0] + dt.timedelta(hours=1)).new == 1  # a new silence
        assert len(api.texts()) == 2


def test_one_broken_channel_does_not_stop_the_other(sqlite_url: str, tmp_path: Path) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    h = History(store, khmer_school(store, ["KPT-PSP-SW01"]))
    h.run(**{"KPT-PSP-SW01": True})
    h.run(**{"KPT-PSP-SW01": True})
    with bot_api() as api, smtp_server() as (box, port):
        path = secrets_file(
            tmp_path / "s.toml",
            telegram=api.url,
            smtp_port=port,
            security="starttls",
            cafile=tmp_path / "missing.pem",
        )
        rep = Notifier(store, path).run_once()
        tg, mail = rep.channels
        assert (tg.sent, tg.error) == (1, None) and len(api.texts()) == 1
        assert mail.error is not None and "missing.pem" in mail.error and mail.pending == 1
        assert box.messages == []
    store.dispose()
