"""Pure parts of the SSH probe and backups: judging results, cleaning configs, versions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest

from kape_itops.backups.service import pick_version
from kape_itops.domain.backups import ConfigEntry, number_versions, unified_diff
from kape_itops.domain.enums import ProbeStatus
from kape_itops.domain.results import ProbeResult
from kape_itops.errors import UsageError
from kape_itops.probes.ssh.client import SshFailure, SshLogin
from kape_itops.probes.ssh.evaluate import Collected, clean_config, evaluate
from kape_itops.probes.ssh.settings import load_command_sets
from kape_itops.secrets import Secret

REPO = Path(__file__).resolve().parents[2]
SETS = load_command_sets(REPO / "probes")
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
LIMITS = {"cpu_pct": {"warn": 80, "crit": 95}, "mem_pct": {"warn": 85, "crit": 95}}


def _prev(**metrics: object) -> ProbeResult:
    return ProbeResult("ssh", "x", ProbeStatus.OK, "ok", T0, 1.0, metrics)


def test_healthy_device_is_ok_with_a_summary() -> None:
    c = Collected(metrics={"version": "6.49", "uptime_s": 90000, "cpu_pct": 3.0, "mem_pct": 20.0})
    status, reason, metrics = evaluate(c, LIMITS, None)
    assert status == ProbeStatus.OK
    assert reason == "ok: 6.49, up 1d 1h, cpu 3%, mem 20%"
    assert "rebooted" not in metrics


def test_interfaces_down_are_listed_not_judged() -> None:
    """The probe stays ok with ports down; the report takes that verdict, not a warning."""
    c = Collected(metrics={"uptime_s": 90000, "if_up": 3, "if_down": ["ether3", "ether5"]})
    status, _reason, metrics = evaluate(c, LIMITS, None)
    assert status == ProbeStatus.OK
    assert metrics["levels"] == {"if_down:ether3": "ok", "if_down:ether5": "ok"}


def test_thresholds_reboot_and_config_change() -> None:
    c = Collected(metrics={"cpu_pct": 97.0, "mem_pct": 86.0, "uptime_s": 100}, config="bbb")
    status, reason, metrics = evaluate(c, LIMITS, _prev(uptime_s=5000, config_sha256="aaa"))
    assert status == ProbeStatus.CRIT
    assert "cpu_pct 97 >= 95 (crit)" in reason and "mem_pct 86 >= 85 (warn)" in reason
    assert "rebooted" in reason and metrics["rebooted"] is True
    assert metrics["config_changed"] is True and "configuration changed" in reason


def test_failures_and_unreadable_output() -> None:
    c = Collected(failure=SshFailure("auth", "h:22: authentication failed"))
    status, reason, metrics = evaluate(c, LIMITS, None)
    assert (status, reason, metrics["error"]) == (
        ProbeStatus.UNKNOWN,
        "h:22: authentication failed",
        "auth",
    )
    changed = Collected(failure=SshFailure("hostkey-changed", "HOST KEY HAS CHANGED"))
    assert evaluate(changed, LIMITS, None)[0] == ProbeStatus.CRIT
    bad = Collected(
        metrics={"cpu_pct": 5.0}, unreadable=["'show version' (x)"], raw={"show version": "@@"}
    )
    status, reason, metrics = evaluate(bad, LIMITS, None)
    assert status == ProbeStatus.UNKNOWN
    assert reason == "cannot read output of 'show version' (x)"
    assert metrics["raw_output"] == {"show version": "@@"} and metrics["cpu_pct"] == 5.0


def test_clean_config_drops_volatile_lines_masks_and_hashes_stably() -> None:
    cs = SETS.get("mikrotik_routeros")
    a = "# nov/29/2026 01:00:00 by RouterOS 6.49\n/snmp community\nset name=abc\n\n"
    b = "# nov/30/2026 07:00:00 by RouterOS 6.49\r\n/snmp community\r\nset name=abc\r\n"
    ca, cb = clean_config(a, cs), clean_config(b, cs)
    assert ca.text == "/snmp community\nset name=<masked>\n"
    assert ca.sha256 == cb.sha256 and len(ca.sha256) == 64 and ca.masked == 1
    assert clean_config(a.replace("abc", "xyz"), cs).sha256 == ca.sha256  # secrets do not leak
    assert clean_config(a + "/ip pool\nadd name=p\n", cs).sha256 != ca.sha256


def _entry(version: int, day: int, content: str) -> ConfigEntry:
    return ConfigEntry(version, "R1", T0 + dt.timedelta(days=day), "x", True, version, content)


def test_versions_and_diffs() -> None:
    rows = [
        (1, T0, "a", True, "one\n", None),
        (2, T0 + dt.timedelta(days=1), "a", False, None, None),
        (3, T0 + dt.timedelta(days=2), "b", True, "two\n", None),
    ]
    assert [e.version for e in number_versions(rows, "R1")] == [1, 1, 2]
    v = [_entry(1, 0, "a\nb\n"), _entry(2, 3, "a\nc\n")]
    text = unified_diff(v[0], v[1])
    assert "--- R1 v1\t2026-11-01 00:00:00 UTC" in text and "-b\n+c\n" in text
    assert pick_version(v, "v2", "--to") is v[1]
    assert pick_version(v, "1", "--from") is v[0]
    assert pick_version(v, "2026-11-02", "--from") is v[0]
    assert pick_version(v, "2026-11-04T00:00", "--to") is v[1]
    with pytest.raises(UsageError, match="--to 7: no version 7"):
        pick_version(v, "7", "--to")
    with pytest.raises(UsageError, match="no version stored at or before"):
        pick_version(v, "2020-01-01", "--from")
    with pytest.raises(UsageError, match="expected a version number"):
        pick_version(v, "last tuesday", "--from")


def test_a_version_time_without_offset_is_read_in_the_local_zone() -> None:
    pp = zoneinfo.ZoneInfo("Asia/Phnom_Penh")
    v = [_entry(1, 0, "a\n"), _entry(2, 3, "b\n")]  # 2026-11-01 and 2026-11-04, 00:00 UTC
    assert pick_version(v, "2026-11-04T06:59", "--to", pp) is v[0]  # 23:59 UTC the day before
    assert pick_version(v, "2026-11-04T07:00", "--to", pp) is v[1]
    assert pick_version(v, "2026-11-04T06:59+00:00", "--to", pp) is v[1]  # an offset wins
    assert pick_version(v, "2026-11-04", "--to", pp) is v[1]
    with pytest.raises(UsageError, match="no version stored at or before"):
        pick_version(v, "2026-10-31", "--to", pp)  # the local day ends 17:00 UTC


def test_login_never_shows_its_secret() -> None:
    login = SshLogin("admin", Secret("hunter2"), enable_secret=Secret("en"))
    assert "hunter2" not in repr(login) and "en'" not in repr(login)
    assert repr(login) == "SshLogin(username='admin', auth=password)"
