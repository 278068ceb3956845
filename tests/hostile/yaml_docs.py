"""Hostile YAML documents: alias bombs, recursion, deep nesting, wrong encodings, size.

``DOCS`` maps a name to the document's bytes and words its refusal must contain. Every YAML
loader of kape-itops (specs, RFQs, probe kinds/overrides, SNMP profiles, SSH command sets,
ONVIF settings) must refuse each one with a one-line error, quickly and in little memory.
"""

from __future__ import annotations

import itertools


def laughs(levels: int = 9, width: int = 9) -> bytes:
    """The billion laughs: 9 anchors of 9 aliases each, 9^9 strings once expanded (~500 B)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = [chr(ord("a") + i) for i in range(levels)]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * width) + "]")
    return ("\n".join(lines) + "\n").encode()


def few_aliases_wide() -> bytes:
    """Under 100 aliases, still 10^8 values: each of 8 levels repeats the last 10 times."""
    return laughs(levels=9, width=10)


DOCS: dict[str, tuple[bytes, str]] = {
    "laughs": (laughs(), "values through its aliases"),
    "few_aliases_wide": (few_aliases_wide(), "values through its aliases"),
    "many_aliases": (
        ("base: &x 1\nitems: [" + ",".join(["*x"] * 500) + "]\n").encode(),
        "more than 100 aliases",
    ),
    "recursive_list": (b"name: &a [1, *a]\n", "recursive alias"),
    "recursive_map": (b"&a {name: x, self: *a}\n", "recursive alias"),
    "deep_flow": (b"name: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nested deeper than 50"),
    "deep_block": (
        "".join("  " * i + f"k{i}:\n" for i in range(120)).encode() + b"  " * 120 + b"v\n",
        "nested deeper than 50",
    ),
    "many_values": (b"name: [" + b"1," * 400_000 + b"1]\n", "over 100,000 values"),
    "latin1": (
        "name: caf\u00e9 r\u00e9seau\n".encode("latin-1"),
        "not UTF-8 text: byte 0xe9 at line 1",
    ),
    "utf16": ("name: x\n".encode("utf-16"), "not UTF-8 text"),
    "huge": (b"name: " + b"x" * (2 * 1024 * 1024) + b"\n", "larger than 1 MiB"),
}
