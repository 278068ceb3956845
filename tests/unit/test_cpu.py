"""The CPU table and the "i5 / Ryzen 5 class or better, or equivalent" lookup."""

from __future__ import annotations

import pytest

from kape_itops.quotes.cpu import CpuTable, cpu_key

TABLE = CpuTable.load()


def test_every_row_has_a_unique_key_and_a_sane_index() -> None:
    keys = [cpu_key(c.model) for c in TABLE.cpus]
    assert None not in keys
    assert len(set(keys)) == len(keys)
    for c in TABLE.cpus:
        assert c.index > 0 and c.index % 5 == 0, c.model
        assert c.threads >= c.cores >= 1, c.model


def test_table_covers_the_families_the_specs_name() -> None:
    classes = {c.cpu_class for c in TABLE.cpus}
    assert {
        "i3",
        "i5",
        "i7",
        "ultra5",
        "ultra7",
        "ryzen3",
        "ryzen5",
        "ryzen7",
        "celeron",
        "pentium",
        "athlon",
        "m",
    } <= classes
    gens = {c.generation for c in TABLE.cpus if c.cpu_class == "i5"}
    assert {"8", "9", "10", "11", "12", "13", "14"} <= gens
    assert {c.generation for c in TABLE.cpus if c.vendor == "AMD"} >= {
        "3000",
        "5000",
        "7000",
        "8000",
    }


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("Intel® Core™ i5-1235U", "Core i5-1235U"),
        ("Core i5 1135G7 @ 2.4GHz", "Core i5-1135G7"),
        ("intel core i7-13700", "Core i7-13700"),
        ("AMD Ryzen 5 7530U with Radeon Graphics", "Ryzen 5 7530U"),
        ("Ryzen 7 PRO 5700U", "Ryzen 7 5700U"),
        ("Intel Core Ultra 5 125U", "Core Ultra 5 125U"),
        ("Apple M2", "Apple M2"),
        ("Apple M3 Pro", "Apple M3 Pro"),
        ("Intel Celeron N4020", "Celeron N4020"),
        ("Pentium Silver N5030", "Pentium Silver N5030"),
        ("AMD Athlon Silver 3050U", "Athlon Silver 3050U"),
        ("Intel Processor N100", "Processor N100"),
    ],
)
def test_lookup(text: str, model: str) -> None:
    match = TABLE.lookup(text)
    assert match.cpu is not None, match.reason
    assert match.cpu.model == model


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Intel Core i5 or equivalent", "names no CPU model"),
        ("Ryzen 5", "names no CPU model"),
        ("equivalent", "names no CPU model"),
        ("Core i5-99999X", "not in the CPU table"),
        ("MediaTek Helio G99", "not a recognised CPU model"),
    ],
)
def test_unverifiable(text: str, reason: str) -> None:
    match = TABLE.lookup(text)
    assert match.cpu is None
    assert reason in match.reason


def test_class_or_better_ordering_is_plausible() -> None:
    def idx(text: str) -> int:
        cpu = TABLE.lookup(text).cpu
        assert cpu is not None
        return cpu.index

    ref = idx("Core i5-1135G7")
    assert idx("Core i5-1235U") > ref and idx("Ryzen 5 7530U") > ref and idx("Apple M1") > ref
    assert idx("Celeron N4500") < ref and idx("Core i3-10110U") < ref
    assert idx("Core i7-1165G7") >= ref
