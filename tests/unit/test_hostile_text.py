"""Control and bidi characters: revealed in every output, refused by inventory fields."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from kape_itops.cli.render import RevealingConsole, print_json, safe, table
from kape_itops.cli.ssh_render import clean as ssh_clean
from kape_itops.domain.devicetext import decode_display, printable
from kape_itops.domain.fields import DEVICE_FIELD, SCHOOL_FIELD, FieldError
from kape_itops.domain.text import refusal, reveal, reveal_json, reveal_value
from kape_itops.inventory.labels import Label, render_labels
from kape_itops.inventory.sanitize import safe_cell
from kape_itops.quotes import report_md as quote_report
from kape_itops.reports import render_csv, render_md
from tests.hostile.text import HOSTILE, KHMER, assert_clean, hidden_characters, hostile_text


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_reveal_leaves_no_raw_character(name: str) -> None:
    shown = reveal(HOSTILE[name])
    assert_clean(shown, name)
    assert_clean(reveal(HOSTILE[name], newlines=False), name, lines=False)
    assert reveal(shown) == shown


def test_reveal_writes_python_style_escapes() -> None:
    assert reveal("\x1b[2J") == "\\x1b[2J"
    assert reveal("a\x9bb\x7f\x00") == "a\\x9bb\\x7f\\x00"
    assert reveal("invoice\u202efdp.exe") == "invoice\\u202efdp.exe"
    assert reveal("x\udcff") == "x\\udcff"
    assert reveal("ok\rFAIL") == "ok\\rFAIL"
    assert reveal("a\r\nb\tc\n") == "a\nb\tc\n"
    assert reveal("a\nb", newlines=False) == "a\\nb"


def test_khmer_zero_width_joiners_are_kept() -> None:
    assert reveal(KHMER) == KHMER
    assert refusal(KHMER) is None
    assert DEVICE_FIELD["notes"].parse(KHMER) == KHMER
    assert SCHOOL_FIELD["name_km"].parse(KHMER) == KHMER


@given(hostile_text(surrogates=True))
def test_reveal_any_text(text: str) -> None:
    assert_clean(reveal(text))
    assert_clean(reveal(text, newlines=False), lines=False)
    assert reveal(reveal(text)) == reveal(text)


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_reveal_keeps_ordinary_text(text: str) -> None:
    assert reveal(text) == text


@given(hostile_text(surrogates=True))
def test_reveal_json_is_the_same_data_and_clean(text: str) -> None:
    data = {"name": text, "list": [text, 1, None]}
    dumped = reveal_json(json.dumps(data, ensure_ascii=False, indent=2))
    assert_clean(dumped)
    assert json.loads(dumped) == json.loads(json.dumps(data))  # as ASCII JSON (surrogate pairs)


@given(hidden_characters(), st.text(alphabet="abc", max_size=5))
def test_refusal_names_the_character_and_where(ch: str, prefix: str) -> None:
    why = refusal(prefix + ch + "z")
    assert why is not None and f"U+{ord(ch):04X}" in why and f"position {len(prefix) + 1}" in why


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_inventory_text_fields_refuse_hidden_characters(name: str) -> None:
    with pytest.raises(FieldError, match=r"contains the .* U\+[0-9A-F]{4}|longer than 2000"):
        DEVICE_FIELD["notes"].parse("note " + HOSTILE[name])
    assert DEVICE_FIELD["notes"].parse("line 1\n\tline 2") == "line 1\n\tline 2"


def test_rlo_refusal_message_names_the_override() -> None:
    with pytest.raises(FieldError) as info:
        DEVICE_FIELD["model"].parse("HP\u202eX")
    assert str(info.value) == (
        "contains the bidi control U+202E RIGHT-TO-LEFT OVERRIDE at position 3"
    )


def _terminal() -> tuple[RevealingConsole, io.StringIO]:
    out = io.StringIO()
    return RevealingConsole(file=out, force_terminal=True, color_system="truecolor", width=100), out


def _no_hostile_sequence(text: str) -> None:
    """Rich's own styling is allowed on a terminal; no hostile sequence or character is."""
    for bad in ("\x1b[2J", "\x1b]0;", "\x1b[5m", "\x07", "\x08", "\x7f", "\x9b", "\x9d", "\r"):
        assert bad not in text, repr(bad)
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028":
        assert ch not in text, repr(ch)


def test_console_shows_escapes_for_strings_tables_and_objects() -> None:
    con, out = _terminal()
    for name, text in HOSTILE.items():
        con.print(text)
        con.print(f"[bold]{safe(name)}[/] {safe(text)}")
        con.print(table(text[:40], ["tag", text[:20]], [[name, text, dt.date(2026, 1, 2)]]))
        con.print(Decimal(1), ValueError(text), name)
    _no_hostile_sequence(out.getvalue())
    assert "\\x1b[2J" in out.getvalue() and "invoice\\u202efdp.exe" in out.getvalue()


def test_console_without_terminal_is_clean() -> None:
    out = io.StringIO()
    con = RevealingConsole(file=out, width=80)
    for text in HOSTILE.values():
        con.print(table(None, ["value"], [[text]]))
    assert_clean(out.getvalue())


def test_table_column_widths_count_the_escapes() -> None:
    con, out = _terminal()
    con.print(table(None, ["key", "value"], [["a", "\x1b[2J" * 3], ["b", "x"]]))
    lines = [ln for ln in out.getvalue().splitlines() if "\\x1b" in ln]
    assert lines and "\\x1b[2J\\x1b[2J\\x1b[2J" in lines[0]


def test_print_json_escapes_and_keeps_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    print_json(dict(HOSTILE))
    out = capsys.readouterr().out
    assert_clean(out)
    assert json.loads(out) == HOSTILE


def test_safe_cell_reveals_then_neutralises() -> None:
    assert safe_cell("=HYPERLINK(\x1b[2J)") == "'=HYPERLINK(\\x1b[2J)"
    assert safe_cell("\x1b[2J") == "\\x1b[2J"
    assert safe_cell("a\nb") == "a\nb"
    for text in HOSTILE.values():
        assert_clean(safe_cell(text))
        assert_clean(render_csv.cell(text))


def test_markdown_cells_are_one_clean_line() -> None:
    for text in HOSTILE.values():
        assert_clean(render_md.md(text + "\nline two"), lines=False)
        assert_clean(quote_report.md(text + "\nline two"), lines=False)


def test_finalize_reveals_text_and_keeps_markup() -> None:
    assert reveal_value("a\x1bb") == "a\\x1bb"
    assert reveal_value(3) == 3
    chart = Markup("<svg><title>a\x1b</title></svg>")
    shown = reveal_value(chart)
    assert isinstance(shown, Markup) and shown == Markup("<svg><title>a\\x1b</title></svg>")
    assert reveal_value(Markup("<b>ok</b>")) is not None


def test_label_sheet_reveals_school_names(tmp_path: object) -> None:
    from kape_itops.inventory.labels import qr_svg

    html = render_labels(
        [Label("KAPE-1", "KPT", HOSTILE["rlo"] + HOSTILE["clear_screen"], qr_svg("KAPE-1"))],
        title="Labels " + HOSTILE["osc_title"],
    )
    assert_clean(html)
    assert "invoice\\u202efdp.exe" in html and "\\x1b]0;owned\\x07" in html


def test_snmp_strings_reveal_bidi_and_c1() -> None:
    raw = "Lab\u202eRTP \x9b2J".encode()
    assert decode_display(raw) == "Lab\\u202eRTP \\x9b2J"
    assert printable("a\x1b[2Jb") == "a\\x1b[2Jb"
    for text in HOSTILE.values():
        assert_clean(printable(text), lines=False)


def test_ssh_output_has_no_raw_control_or_bidi() -> None:
    assert ssh_clean("hostname \x1b[1mR1\x1b[0m\r\n") == "hostname R1\n"
    assert ssh_clean("desc \u202eevil \x9b2J") == "desc \\u202eevil \\x9b2J"
    for text in HOSTILE.values():
        assert_clean(ssh_clean(text))


def test_long_hostile_lines_are_revealed_in_linear_time() -> None:
    text = ("\x1b[2J\u202e" + "A" * 100) * 20_000  # 2 MB, 40,000 hidden characters
    start = time.perf_counter()
    shown = reveal(text)
    dumped = reveal_json(json.dumps(text, ensure_ascii=False))
    assert time.perf_counter() - start < 2.0
    assert len(shown) == len(text) + 20_000 * (3 + 5) and shown.count("\\x1b") == 20_000
    assert_clean(shown)
    assert_clean(dumped)
