"""``itops server user`` in a child process: passwords from the environment, from two lines of
stdin and from a hidden prompt on a real terminal; never echoed, printed or stored as is."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from kape_itops.accounts.service import Accounts
from kape_itops.errors import AuthError
from kape_itops.store.db import Store
from tests.support.itops_server import itops, itops_env

PW = "Mekong river at dusk 2026"
PW2 = "Tonle Sap in the rainy season"
NOW = dt.datetime.now(dt.UTC)


def _stored_text(db_url: str) -> str:
    """Every user and change-log row as text (and the SQLite files' bytes)."""
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            rows = [
                *conn.execute(text("SELECT * FROM users")),
                *conn.execute(text("SELECT * FROM changes")),
            ]
    finally:
        store.dispose()
    out = repr(rows)
    if db_url.startswith("sqlite:///"):
        db = Path(db_url.removeprefix("sqlite:///"))
        for f in db.parent.glob(db.name + "*"):
            out += f.read_bytes().decode("latin-1")
    return out


def _login(db_url: str, name: str, password: str) -> str:
    store = Store(db_url)
    try:
        return Accounts(store, "t").authenticate(name, password, NOW).name
    finally:
        store.dispose()


def test_user_commands_with_the_environment(db_url: str) -> None:
    assert itops("init", db=db_url).returncode == 0  # PostgreSQL is never created implicitly
    add = itops(
        "server", "user", "add", "dara", "--role", "admin", db=db_url, ITOPS_USER_PASSWORD=PW
    )
    assert add.returncode == 0, add.stderr
    assert "added user dara (admin)" in add.stdout
    add = itops(
        "server",
        "user",
        "add",
        "Vanna",
        "--role",
        "viewer",
        "--json",
        db=db_url,
        ITOPS_USER_PASSWORD=PW,
    )
    assert add.returncode == 0, add.stderr
    assert json.loads(add.stdout)["role"] == "viewer"
    again = itops(
        "server", "user", "add", "VANNA", "--role", "admin", db=db_url, ITOPS_USER_PASSWORD=PW
    )
    assert again.returncode == 2 and "exists already" in again.stderr
    listed = itops("server", "user", "list", db=db_url)
    assert listed.returncode == 0
    for word in ("dara", "Vanna", "admin", "viewer", "password changed", "created"):
        assert word in listed.stdout
    off = itops("server", "user", "disable", "vanna", "--json", db=db_url)
    assert json.loads(off.stdout)["disabled"] is True and json.loads(off.stdout)["changed"]
    users = json.loads(itops("server", "user", "list", "--json", db=db_url).stdout)
    assert [(u["name"], u["disabled"]) for u in users] == [("dara", False), ("Vanna", True)]
    with pytest.raises(AuthError):
        _login(db_url, "vanna", PW)
    on = itops("server", "user", "enable", "vanna", db=db_url)
    assert on.returncode == 0 and "user Vanna enabled" in on.stdout
    last = itops("server", "user", "disable", "dara", db=db_url)
    assert last.returncode == 2 and "last admin" in last.stderr
    new = itops("server", "user", "password", "vanna", db=db_url, ITOPS_USER_PASSWORD=PW2)
    assert new.returncode == 0, new.stderr
    assert _login(db_url, "VANNA", PW2) == "Vanna"
    weak = itops("server", "user", "password", "vanna", db=db_url, ITOPS_USER_PASSWORD="vanna")
    assert weak.returncode == 2 and "at least 12" in weak.stderr
    missing = itops("server", "user", "enable", "nobody", db=db_url)
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr
    role = itops("server", "user", "add", "x", "--role", "root", db=db_url, ITOPS_USER_PASSWORD=PW)
    assert role.returncode == 2
    for run in (add, again, listed, off, on, last, new, weak):
        assert PW not in run.stdout + run.stderr and PW2 not in run.stdout + run.stderr
    stored = _stored_text(db_url)
    assert "$argon2id$" in stored and PW not in stored and PW2 not in stored
    log = itops("inventory", "history", "--json", db=db_url)  # the whole change log
    assert log.returncode == 0, log.stderr
    entries = [(c["entity"], c["key"], c["field"]) for c in json.loads(log.stdout)]
    assert ("user", "Vanna", "password") in entries and ("user", "dara", "role") in entries
    assert "argon2" not in log.stdout and PW not in log.stdout


def _piped(db_url: str, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kape_itops", "server", "user", *args],
        input=stdin,
        env=itops_env(db_url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_password_from_two_lines_of_stdin(sqlite_url: str) -> None:
    ok = _piped(sqlite_url, f"{PW}\n{PW}\n", "add", "dara", "--role", "it_staff")
    assert ok.returncode == 0, ok.stderr
    assert "password: repeat the password:" in ok.stderr
    assert _login(sqlite_url, "dara", PW) == "dara"
    differ = _piped(sqlite_url, f"{PW}\n{PW2}\n", "password", "dara")
    assert differ.returncode == 2 and "the two passwords differ" in differ.stderr
    short = _piped(sqlite_url, "short\nshort\n", "add", "vanna", "--role", "viewer")
    assert short.returncode == 2 and "at least 12" in short.stderr
    empty = _piped(sqlite_url, "", "add", "vanna", "--role", "viewer")
    assert empty.returncode == 2 and "no password given" in empty.stderr
    crlf = _piped(sqlite_url, f"{PW2}\r\n{PW2}\r\n", "password", "dara")
    assert crlf.returncode == 0, crlf.stderr
    assert _login(sqlite_url, "dara", PW2) == "dara"
    for run in (ok, differ, short, empty, crlf):
        assert PW not in run.stdout + run.stderr and PW2 not in run.stdout + run.stderr
    stored = _stored_text(sqlite_url)
    assert PW not in stored and PW2 not in stored


def _on_a_terminal(db_url: str, answers: list[str], *args: str) -> tuple[int, str]:
    """Run ``itops server user ARGS`` with a pseudo-terminal as its controlling terminal,
    typing each answer after a prompt; (exit code, everything the terminal showed)."""
    master, slave = os.openpty()

    def controlling_tty() -> None:  # after setsid (start_new_session)
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "kape_itops", "server", "user", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=itops_env(db_url),
        start_new_session=True,
        preexec_fn=controlling_tty,
    )
    os.close(slave)
    shown = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
                # one answer per prompt, once it is shown (getpass has turned echo off then)
                if pending and shown.endswith(b"password: "):
                    os.write(master, (pending.pop(0) + "\n").encode())
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    return code, shown.decode("utf-8", "replace")


def test_hidden_prompt_on_a_terminal_asks_twice_and_echoes_nothing(sqlite_url: str) -> None:
    code, shown = _on_a_terminal(sqlite_url, [PW, PW], "add", "dara", "--role", "reviewer")
    assert code == 0, shown
    assert "password" in shown and "repeat the password" in shown
    assert "added user dara (reviewer)" in shown
    assert PW not in shown  # echo was off while typing
    assert _login(sqlite_url, "dara", PW) == "dara"
    code, shown = _on_a_terminal(sqlite_url, [PW2, "a typo", PW2, PW2], "password", "dara")
    assert code == 0, shown
    assert "do not match" in shown and PW2 not in shown and "a typo" not in shown
    assert _login(sqlite_url, "dara", PW2) == "dara"
