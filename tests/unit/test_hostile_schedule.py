"""Hostile folder names in the schedule: read back exactly by systemd's and cron's rules, or refused."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kape_itops.errors import UsageError
from kape_itops.reports.schedule import (
    ScheduleSpec,
    cron_escape,
    cron_lines,
    env_file_line,
    sh_quote,
    systemd_units,
    systemd_word,
)
from tests.hostile.names import QUOTABLE, REFUSED
from tests.support import schedule_syntax as sx

# Any text a path or value may hold: everything but C0/C1 controls and DEL (and surrogates).
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("%$\\\"'`;# ~*"),
    max_size=40,
)


def spec_in(folder: Path, name: str) -> ScheduleSpec:
    return ScheduleSpec(
        every=dt.timedelta(minutes=5),
        report="daily",
        command=("/opt/it ops %h $HOME/bin/python", "--flag", name, str(folder / "itops.py")),
        workdir=folder,
        reports_dir=folder / name / "reports",
        environment=(
            ("ITOPS_DB", f"sqlite:///{folder / name / 'itops.db'}"),
            ("ITOPS_SECRETS", str(folder / f"{name}.toml")),
        ),
    )


@pytest.mark.parametrize("name", QUOTABLE.values(), ids=QUOTABLE.keys())
def test_systemd_reads_back_every_path_and_value_exactly(name: str) -> None:
    folder = Path("/srv") / name
    spec = spec_in(folder, name)
    units = systemd_units(spec)
    probe = units["itops-probe.service"]
    settings = sx.unit_settings(probe)
    env = sx.environment(probe)
    assert env == dict(spec.environment)
    assert sx.literal_path(settings["WorkingDirectory"][0]) == str(folder)
    assert sx.exec_argv(settings["ExecStart"][0], env) == [*spec.command, "probe", "run"]
    assert sx.exec_argv(settings["ExecStopPost"][0], env) == [*spec.command, "db", "prune"]
    report = sx.unit_settings(units["itops-report.service"])
    shell, dash_c, script = sx.exec_argv(report["ExecStart"][0], env)
    assert (shell, dash_c) == ("/bin/sh", "-c")
    reports = str(spec.reports_dir)
    assert shlex.split(script) == [
        "mkdir", "-p", reports, "&&", *spec.command, "report", "health", "--since", "1d",
        "--html", f"{reports}/health-daily-$(date", "+%F).html",
    ]  # fmt: skip


@pytest.mark.parametrize("name", QUOTABLE.values(), ids=QUOTABLE.keys())
def test_cron_reads_back_every_path_and_value_exactly(name: str) -> None:
    folder = Path("/srv") / name
    spec = spec_in(folder, name)
    lines = cron_lines(spec)
    assert all("\n" not in line for line in lines)
    exports = [f"{k}={v}" for k, v in spec.environment]
    for line, tail in [
        (
            lines[1],
            ["{", *spec.command, "probe", "run", ";", *spec.command, "db", "prune", ";", "}"],
        ),
        (lines[3], ["mkdir", "-p", str(spec.reports_dir), "&&", *spec.command, "report"]),
    ]:
        command, stdin = sx.cron_command(line.split(" ", 5)[5])
        assert stdin is None, f"a bare % in {line!r}"
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&")
        lexer.whitespace_split = True
        tokens = list(lexer)
        assert tokens[: 4 + len(exports)] == ["cd", str(folder), "&&", "export", *exports]
        rest = tokens[5 + len(exports) :]
        assert rest[: len(tail)] == tail


@given(TEXT)
def test_each_quoting_round_trips(text: str) -> None:
    word = sh_quote(text)
    assert shlex.split(word) == [text]
    assert sx.cron_command(cron_escape(word)) == (word, None)
    assert [sx.dollars(w, {}) for w in sx.words(sx.specifiers(systemd_word(text)))] == [text]
    assert sx.env_file(env_file_line("ITOPS_DB", text) + "\n") == {"ITOPS_DB": text}


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("where", ["workdir", "reports_dir", "command", "environment"])
def test_names_no_unit_or_crontab_can_carry_are_refused(name: str, where: str) -> None:
    good = spec_in(Path("/srv/itops"), "x")
    bad = {
        "workdir": {"workdir": Path("/srv") / name},
        "reports_dir": {"reports_dir": Path("/srv") / name / "reports"},
        "command": {"command": ("/opt/python", "-m", "kape_itops", f"/opt/{name}/x")},
        "environment": {"environment": (("ITOPS_DB", f"sqlite:////srv/{name}/x.db"),)},
    }[where]
    spec = ScheduleSpec(**{**{f: getattr(good, f) for f in good.__slots__}, **bad})  # type: ignore[arg-type]
    if name.endswith((" ", "\\")) and where != "workdir":  # only a path's end is stripped
        probe = systemd_units(spec)["itops-probe.service"]  # quoted there: carried intact
        env = sx.environment(probe)
        assert env == dict(spec.environment)
        argv = sx.exec_argv(sx.unit_settings(probe)["ExecStart"][0], env)
        assert argv == [*spec.command, "probe", "run"]
        return
    for make in (systemd_units, cron_lines):
        with pytest.raises(UsageError) as err:
            make(spec)  # type: ignore[operator]
        message = str(err.value)
        assert "\n" not in message and "\r" not in message and "\x1b" not in message
        assert len(message) < 300


@pytest.mark.parametrize("name", ["it's", 'say "hi"', "back\\slash"])
def test_a_program_path_systemd_cannot_run_is_refused_for_systemd_only(name: str) -> None:
    spec = spec_in(Path("/srv/itops"), "x")
    spec = ScheduleSpec(
        **{**{f: getattr(spec, f) for f in spec.__slots__}, "command": (f"/opt/{name}/python",)}
    )  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="systemd cannot run a program whose path holds a quote"):
        systemd_units(spec)
    command, _ = sx.cron_command(cron_lines(spec)[1].split(" ", 5)[5])
    assert f"/opt/{name}/python" in shlex.split(command)


def test_unicode_that_is_not_utf8_is_refused() -> None:
    spec = spec_in(Path("/srv/caf\udce9"), "x")
    with pytest.raises(UsageError, match="not UTF-8"):
        systemd_units(spec)


def test_cron_refuses_a_command_cron_would_cut() -> None:
    spec = spec_in(Path("/srv") / ("x" * 120), "y" * 100)
    with pytest.raises(UsageError, match="more than cron reads"):
        cron_lines(spec)
