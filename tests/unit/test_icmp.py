"""ICMP packet building and parsing (pure)."""

from __future__ import annotations

import socket
import struct

from kape_itops.probes.icmp.client import (
    SO_TIMESTAMPNS,
    build_echo,
    checksum,
    kernel_timestamp_ns,
    parse_packet,
)


def test_checksum_rfc1071_example() -> None:
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert checksum(data) == 0x220D
    assert checksum(data + struct.pack("!H", 0x220D)) == 0


def test_echo_v4_has_valid_checksum_and_fields() -> None:
    pkt = build_echo(4, 0x1234, 7, b"hello")
    assert pkt[0] == 8 and checksum(pkt) == 0
    assert struct.unpack("!HH", pkt[4:8]) == (0x1234, 7)


def test_echo_v6_leaves_checksum_to_kernel() -> None:
    pkt = build_echo(6, 1, 2, b"x")
    assert pkt[0] == 128 and pkt[2:4] == b"\0\0"


def _ip_header(src: str, dst: str, proto: int = 1) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        0,
        0,
        0,
        64,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )


def test_parse_reply_with_ip_header() -> None:
    reply = bytearray(build_echo(4, 9, 3, b"tok"))
    reply[0] = 0
    parsed = parse_packet(4, _ip_header("10.0.0.5", "10.0.0.1") + bytes(reply), "10.0.0.5", True)
    assert parsed is not None
    assert (parsed.kind, parsed.ident, parsed.seq, parsed.payload) == ("reply", 9, 3, b"tok")


def test_parse_ignores_requests_and_short_packets() -> None:
    req = build_echo(4, 9, 3, b"")
    assert parse_packet(4, _ip_header("1.1.1.1", "2.2.2.2") + req, "1.1.1.1", True) is None
    assert parse_packet(4, b"\x45" * 10, "1.1.1.1", True) is None
    assert parse_packet(6, b"\x81\x00", "::1", False) is None


def test_parse_unreachable_quotes_original_echo() -> None:
    original = _ip_header("10.0.0.1", "10.0.0.99") + build_echo(4, 42, 17, b"payload")[:8]
    err = struct.pack("!BBHI", 3, 1, 0, 0) + original
    parsed = parse_packet(4, _ip_header("10.0.0.1", "10.0.0.1") + err, "10.0.0.1", True)
    assert parsed is not None
    assert (parsed.kind, parsed.ident, parsed.seq, parsed.source) == ("error", 42, 17, "10.0.0.99")
    assert parsed.detail == "destination unreachable"


def test_parse_v6_reply_without_header() -> None:
    reply = bytes([129, 0, 0, 0]) + struct.pack("!HH", 5, 6) + b"p"
    parsed = parse_packet(6, reply, "::1", False)
    assert parsed is not None and (parsed.ident, parsed.seq) == (5, 6)


def test_kernel_timestamp() -> None:
    anc = [(socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("@qq", 12, 345))]
    assert kernel_timestamp_ns(anc) == 12_000_000_345
    assert kernel_timestamp_ns([]) is None


def test_responder_builds_a_valid_reply() -> None:
    from kape_itops.lab.responder import make_reply

    request = _ip_header("198.18.0.1", "198.18.1.5") + build_echo(4, 77, 5, b"data")
    parsed = make_reply(request)
    assert parsed is not None
    dst, src, reply = parsed
    assert (socket.inet_ntoa(dst), socket.inet_ntoa(src)) == ("198.18.1.5", "198.18.0.1")
    assert reply[12:16] == dst and reply[16:20] == src and checksum(reply[:20]) == 0
    icmp = reply[20:]
    assert icmp[0] == 0 and checksum(icmp) == 0 and icmp[4:] == request[24:]
    assert make_reply(_ip_header("1.1.1.1", "2.2.2.2", proto=6) + b"\0" * 8) is None
