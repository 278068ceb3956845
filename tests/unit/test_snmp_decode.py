"""DisplayString decoding: UTF-8, visible bytes on failure, no terminal control characters."""

from __future__ import annotations

from kape_itops.cli.render import safe
from kape_itops.probes.snmp_decode import decode_display, hex_bytes


def test_utf8_khmer_is_decoded() -> None:
    assert decode_display("ទឹកខ្មៅ".encode()) == "ទឹកខ្មៅ"


def test_undecodable_bytes_stay_visible_as_escapes() -> None:
    assert decode_display(b"Toner r\xe9serve") == "Toner r\\xe9serve"


def test_trailing_nul_padding_is_dropped_and_inner_controls_escaped() -> None:
    assert decode_display(b"HP\x1b[2J\x00\x00") == "HP\\x1b[2J"


def test_newlines_fold_to_one_space_unless_multi_line() -> None:
    assert decode_display(b"line1\r\nline2\tx") == "line1 line2 x"
    assert decode_display(b"a\nb", single_line=False) == "a\nb"


def test_c1_controls_are_escaped() -> None:
    assert decode_display("a\u009bb".encode()) == "a\\x9bb"


def test_markup_in_device_strings_is_escaped_for_rich() -> None:
    assert safe(decode_display(b"[red]Magenta[/red]")) == "\\[red]Magenta\\[/red]"


def test_hex_bytes() -> None:
    assert hex_bytes(b"\x00\x1a") == "0x001a"
