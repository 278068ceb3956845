"""What an alert message says, and how a long round is cut into Telegram-sized messages."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from kape_itops.domain.problems import Problem, ProblemKind, Severity
from kape_itops.notify.message import LINE_MAX, Notice, body, chunks, notice, subject, summary
from kape_itops.notify.outbox import MAX_PENDING, Pending

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
PP = zoneinfo.ZoneInfo("Asia/Phnom_Penh")


def n(tag: str, severity: str = "crit", detail: str = "not answering") -> Notice:
    return Notice(f"down:{tag}:", severity, "down", "KPT-PSP", "", tag, detail, T0.isoformat())


def test_a_problem_becomes_one_line_in_the_local_time_zone() -> None:
    p = Problem(
        ProblemKind.TONER_LOW, Severity.WARN, "KPT-PSP", "PR1", "Black 4%", T0, "snmp", "Black"
    )
    got = notice(p, "សាលាព្រែកស្វាយ")
    assert Notice.from_json(got.to_json()) == got
    assert (
        got.line(PP) == "WARN toner low KPT-PSP សាលាព្រែកស្វាយ PR1: Black 4% (since 2026-11-02 15:00)"
    )
    assert notice(Problem(ProblemKind.UNKNOWN_DEVICE, Severity.INFO, "X", None, "d")).line(
        dt.UTC
    ) == ("INFO unknown device X -: d")


def test_device_text_cannot_forge_lines_or_hide_characters() -> None:
    line = n("A", detail="ok\nCRIT down KPT-PSP B: fake\x1b[2J\u202e" + "x" * 2000).line(dt.UTC)
    assert "\n" not in line and "\\n" in line and "\\x1b" in line and "\\u202e" in line
    assert len(line) <= LINE_MAX + len(" (since 2026-11-02 08:00)")


def test_summary_subject_and_body() -> None:
    ns = [n("A"), n("B", "warn"), n("C", "warn")]
    assert summary(ns) == "3 new problems (1 crit, 2 warn)"
    assert summary(ns[:1]) == "1 new problem (1 crit)"
    assert subject(ns, dropped=4) == "[kape-itops] 3 new problems (1 crit, 2 warn), 4 older dropped"
    text = body(ns, dt.UTC, dropped=4)
    assert text.splitlines()[2:5] == [x.line(dt.UTC) for x in ns]
    assert "(4 older notifications were dropped" in text


def test_chunks_carry_every_notice_once_within_the_limit() -> None:
    ns = [n(f"SW{i:03d}", detail="d" * 300) for i in range(40)]
    parts = chunks(ns, dt.UTC, 4000, dropped=2)
    assert len(parts) > 1 and sum(c for _, c in parts) == 40
    assert all(len(text) <= 4000 for text, _ in parts)
    assert parts[0][0].startswith("kape-itops: 40 new problems (40 crit) (1)\n")
    assert parts[1][0].startswith("kape-itops: 40 new problems (40 crit) (2)\n")
    assert "2 older notifications" in parts[0][0] and "older" not in parts[1][0]
    lines = [ln for text, _ in parts for ln in text.splitlines() if ln.startswith("CRIT")]
    assert lines == [x.line(dt.UTC) for x in ns]
    ((text, count),) = chunks(ns[:2], dt.UTC, 4000)
    assert count == 2 and text.startswith("kape-itops: 2 new problems (2 crit)\n")


def test_a_long_outage_keeps_the_newest_and_counts_the_dropped() -> None:
    q = Pending()
    q.add([n(f"A{i}") for i in range(MAX_PENDING - 1)])
    q.add([n("B1"), n("B2"), n("B3")])
    assert len(q.notices) == MAX_PENDING and q.dropped == 2
    assert q.notices[0].asset_tag == "A2" and q.notices[-1].asset_tag == "B3"
    q.delivered(0)
    assert q.dropped == 2
    q.delivered(10)
    assert q.dropped == 0 and len(q.notices) == MAX_PENDING - 10
