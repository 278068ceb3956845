"""DisplayString decoding: UTF-8, then Windows-1252, visible bytes otherwise, no controls."""

from __future__ import annotations

from kape_itops.cli.render import safe
from kape_itops.domain.devicetext import decode_display, decode_text, hex_bytes, stream_decoder


def test_utf8_khmer_is_decoded() -> None:
    assert decode_display("ទឹកខ្មៅ".encode()) == "ទឹកខ្មៅ"


def test_latin1_bytes_are_read_as_text() -> None:
    assert decode_display(b"Toner r\xe9serve") == "Toner réserve"
    assert decode_display(b"Bac d\x92entr\xe9e \x80") == "Bac d’entrée €"  # cp1252 range
    assert decode_display(b"Ligne 1\r\nd\xe9but", single_line=False) == "Ligne 1\ndébut"


def test_mixed_or_binary_bytes_stay_visible_as_escapes_inside_their_words() -> None:
    # valid UTF-8 next to a stray byte: broken UTF-8, not Latin-1 (no "cafÃ©" mojibake)
    assert decode_display("café r".encode() + b"\xe9serve") == "café r\\xe9serve"
    # a byte undefined in Windows-1252 (0x81), or control bytes: binary, not text
    assert decode_display(b"Toner r\x81serve") == "Toner r\\x81serve"
    assert decode_display(b"HP\x1b[2J r\xe9serve") == "HP\\x1b[2J r\\xe9serve"
    assert decode_text(b"\x00\x1a\xe9") == "\x00\x1a\\xe9"


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


def test_stream_decoder_keeps_split_characters_and_reads_stray_bytes() -> None:
    khmer = "ទឹកខ្មៅ".encode()
    decoder = stream_decoder()
    first = decoder.decode(b"Toner r\xe9serve " + khmer[:4])  # a character cut after 1 byte
    second = decoder.decode(khmer[4:] + b" \x81", final=True)
    assert first + second == "Toner réserve ទឹកខ្មៅ \\x81"
