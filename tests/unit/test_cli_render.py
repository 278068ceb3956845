"""Terminal tables: local times with the zone named once, identifiers whole at 80 columns."""

from __future__ import annotations

import datetime as dt

import pytest
from rich.console import Console

from kape_itops.cli.render import table
from kape_itops.config import DEFAULT_TZ, Settings, load_zone
from kape_itops.errors import ConfigError
from kape_itops.reports import fmt

PP = load_zone("Asia/Phnom_Penh")
T = dt.datetime(2026, 11, 28, 22, 32, 5, tzinfo=dt.UTC)
TAGS = ["KPT-PSP-PRN01", "BTB-SKR-CAM012", "SRP-ANGKOR-NVR01"]
IPS = ["10.12.3.101", "10.22.13.112", "fd00:12:3::1:101"]


def render(t: object, width: int = 80) -> str:
    console = Console(width=width, record=True, highlight=False)
    with console.capture() as cap:
        console.print(t)
    return cap.get()


def test_times_are_local_and_the_zone_is_named_once_in_the_header() -> None:
    out = render(table("history", ["when", "tag"], [[T, TAGS[0]], [T, TAGS[1]]], tz=PP))
    assert "when (+07)" in out
    assert out.count("2026-11-29 05:32") == 2 and "22:32" not in out
    assert "+07" not in out.replace("when (+07)", "")


def test_seconds_and_utc_default() -> None:
    out = render(table(None, ["when"], [[T]], seconds=True))
    assert "when (UTC)" in out and "2026-11-28 22:32:05" in out


def test_a_zone_with_two_offsets_in_one_column_names_the_zone() -> None:
    berlin = load_zone("Europe/Berlin")
    winter, summer = dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 7, 5, tzinfo=dt.UTC)
    out = render(table(None, ["when"], [[winter], [summer]], tz=berlin))
    assert "when (Europe/Berlin)" in out
    assert "2026-01-05 01:00" in out and "2026-07-05 02:00" in out


def test_identifiers_stay_whole_and_long_reasons_wrap_at_80_columns() -> None:
    reason = "timeout after 3 retries: no answer from the agent " * 3
    rows = [
        ["crit", tag, tag[:7], "printer", "snmp", ip, reason]
        for tag, ip in zip(TAGS, IPS, strict=True)
    ]
    columns = ["status", "asset tag", "school", "kind", "probe", "target", "reason"]
    out = render(table("Problems", columns, rows))
    assert max(len(line) for line in out.splitlines()) <= 80
    for value in TAGS + IPS:
        assert value in out
    assert "…" not in out


def test_wide_tables_go_compact_then_drop_optional_columns_with_a_caption() -> None:
    columns = ["tag", "school", "room", "kind", "model", "ip", "status", "funding", "warranty"]
    rows = [
        [tag, tag[:7], "Office 2 (library)", "printer", "HP LaserJet Pro M404dn", ip, "active",
         "USAID-2024 primary ICT", dt.date(2027, 3, 31)]
        for tag, ip in zip(TAGS, IPS, strict=True)
    ]  # fmt: skip
    t = table("devices", columns, rows, optional=("funding", "room"), width=80)
    out = render(t)
    assert max(len(line) for line in out.splitlines()) <= 80
    for value in [*TAGS, *IPS, "2027-03-31"]:
        assert value in out
    assert "not shown at 80 columns: funding, room" in out
    assert "USAID" not in out
    wide = render(table("devices", columns, rows, optional=("funding", "room"), width=200), 200)
    assert "USAID-2024 primary ICT" in wide and "not shown" not in wide and "┏" in wide


def test_cells_are_escaped() -> None:
    assert "[red]x[/red]" in render(table(None, ["name"], [["[red]x[/red]"]]))


def test_fmt_when_stamp_and_captions() -> None:
    assert fmt.when(T, PP) == "2026-11-29 05:32 +07"
    assert fmt.when(T) == "2026-11-28 22:32 UTC"
    assert fmt.when(None, PP) == "—"
    assert fmt.stamp(T, PP, seconds=True) == "2026-11-29 05:32:05"
    assert fmt.stamp(T.replace(tzinfo=None), PP) == "2026-11-29 05:32"  # naive means UTC
    assert fmt.zone_caption(PP) == "times in Asia/Phnom_Penh (+07)"
    assert fmt.zone_caption(dt.UTC) == "times in UTC"
    assert fmt.zone_label(dt.timezone(dt.timedelta(hours=5, minutes=30))) == "UTC+05:30"


def test_tz_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITOPS_TZ", raising=False)
    assert Settings().tz == DEFAULT_TZ == "Asia/Phnom_Penh"
    assert Settings().zone() == PP
    monkeypatch.setenv("ITOPS_TZ", "UTC")
    assert Settings().zone() is dt.UTC
    monkeypatch.setenv("ITOPS_TZ", "Asia")
    with pytest.raises(ConfigError, match="ITOPS_TZ 'Asia' is not a known time zone"):
        Settings().zone()


def test_keys_keep_their_width_when_text_columns_are_all_alike() -> None:
    sha = "c2833c642bc9b0b4"
    row = [1, T, "KAPE-RFQ-2026-017", "camera 2026.1", "lowest", "Sokha (procurement)", sha]
    columns = ["ID", "When", "RFQ", "Spec", "Method", "Evaluator", "Result SHA-256"]
    out = render(table("Stored", columns, [row], tz=PP, keys=("RFQ", "Result SHA-256")))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert sha in out and "KAPE-RFQ-2026-017" in out and "2026-11-29 05:32" in out
    assert "Evaluator" in out  # a header word stays whole when there is room
