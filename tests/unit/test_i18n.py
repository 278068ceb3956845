"""Every message of the pages and reports has a Khmer translation, and the .mo files are current."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from kape_itops import i18n

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import i18n as i18n_tool


def test_every_message_has_a_khmer_translation_and_compiled_catalogues() -> None:
    assert i18n_tool.problems() == []


def test_messages_are_found_in_templates() -> None:
    found = list(i18n_tool.messages())
    assert ("Log in", "kape_itops/server/web/templates/login.html.j2") in {
        (m, f) for m, f, _ in found
    }


def test_catalogues_merge_and_english_is_the_source() -> None:
    assert i18n.gettext("en", "Log in") == "Log in"
    assert i18n.gettext("km", "Log in") == "ចូល"
    assert i18n.gettext("km", "no such message here") == "no such message here"


def test_language_choice() -> None:
    assert i18n.pick_lang(None, "", "km-KH,en;q=0.8") == "km"
    assert i18n.pick_lang("fr", None, "de") == "en"
    assert i18n.pick_lang("km", "en") == "km"


def test_local_time_in_phnom_penh() -> None:
    from zoneinfo import ZoneInfo

    at = dt.datetime(2026, 12, 4, 17, 30, tzinfo=dt.UTC)
    assert i18n.format_datetime(at, "km", ZoneInfo("Asia/Phnom_Penh")) == "2026-12-05 00:30"
    assert i18n.format_month(dt.date(2026, 12, 1), "km") == "ធ្នូ 2026"
    assert i18n.format_number(25000, "en") == "25,000"
