"""The CPU table and the "i5 / Ryzen 5 class or better, or equivalent" lookup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kape_itops.errors import ValidationFailed
from kape_itops.quotes.cpu import Cpu, CpuTable, compare_cpu, cpu_key
from kape_itops.quotes.evaluate import evaluate
from kape_itops.quotes.readers import read_quotation
from kape_itops.quotes.report import canonical_json
from kape_itops.quotes.rfq import load_rfq
from kape_itops.quotes.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
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


# ------------------------------------------------------------------ table provenance (#12.5)

SOURCE_PAGES = ("Intel ARK: ", "AMD product specifications: ", "Apple tech specs: ")


def test_table_loads_with_a_source_on_every_row() -> None:
    assert len(TABLE.cpus) >= 200
    assert len(TABLE.sha256) == 64
    for c in TABLE.cpus:
        page, sep, basis = c.source.partition("; index: ")
        assert sep, f"{c.model}: source must say what the index is based on: {c.source!r}"
        assert page.startswith(SOURCE_PAGES), f"{c.model}: source names no manufacturer page"
        assert c.vendor.split()[0] in page or c.vendor == "Apple", c.model
        assert basis == "benchmark estimate" or basis.startswith("as "), f"{c.model}: {basis}"


def test_a_renamed_sibling_takes_its_twin_index_cores_and_threads() -> None:
    twins = [c for c in TABLE.cpus if c.source.partition("; index: ")[2].startswith("as ")]
    assert len(twins) >= 15
    for c in twins:
        name = c.source.partition("; index: as ")[2].split(" (")[0]
        twin = TABLE.lookup(name).cpu
        assert twin is not None and twin.model == name, f"{c.model}: no row for {name}"
        assert (twin.index, twin.cores, twin.threads) == (c.index, c.cores, c.threads), c.model


def test_a_row_without_a_source_column_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "cpus.csv"
    path.write_text(
        "model,vendor,class,generation,segment,cores,threads,index\n"
        "Core i5-1235U,Intel,i5,12,laptop,10,12,225\n",
        "utf-8",
    )
    assert CpuTable.load(path).cpus[0].source == ""


def test_table_covers_2024_2026_families() -> None:
    classes = {c.cpu_class for c in TABLE.cpus}
    assert {"i9", "core3", "core5", "core7", "ultra9", "ryzen9", "ryzenai5", "ryzenai7"} <= classes
    gens = {(c.vendor, c.generation) for c in TABLE.cpus}
    assert {("AMD", g) for g in ("5000", "6000", "7000", "8000", "200", "ai300", "9000")} <= gens
    for gen in ("12", "13"):
        suffixes = {
            re.sub(r"\d", "", c.model.rsplit("-", 1)[-1])
            for c in TABLE.cpus
            if c.generation == gen and c.segment == "laptop" and c.cpu_class in ("i5", "i7")
        }
        assert {"U", "P", "H", "HX"} <= suffixes, (gen, suffixes)


# ------------------------------------------------------------------ vendor model strings


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("Intel® Core™ Ultra 5 125U", "Core Ultra 5 125U"),
        ("Intel® Core™ Ultra 7 Processor 155H", "Core Ultra 7 155H"),
        ("Intel Core Ultra 9 185H", "Core Ultra 9 185H"),
        ("Intel® Core™ Ultra 5 processor 226V", "Core Ultra 5 226V"),
        ("Core Ultra 7 255H", "Core Ultra 7 255H"),
        ("Intel Core Ultra 5 225 (desktop)", "Core Ultra 5 225"),
        ("Intel Core Ultra 5 245K", "Core Ultra 5 245K"),
        ("Intel® Core™ 5 processor 120U", "Core 5 120U"),
        ("Intel Core 7 250H", "Core 7 250H"),
        ("i5-13420H", "Core i5-13420H"),
        ("Intel Core i5-1334U", "Core i5-1334U"),
        ("Core i7-1360P", "Core i7-1360P"),
        ("Intel Core i9-13900H", "Core i9-13900H"),
        ("Intel Core i7-14650HX", "Core i7-14650HX"),
        ("Intel Core i5-12400F", "Core i5-12400F"),
        ("N100", "Processor N100"),
        ("Intel N150", "Processor N150"),
        ("Intel® Processor N97", "Processor N97"),
        ("Intel Core i3-N300", "Core i3-N300"),
        ("Intel® Core™ 3 Processor N355", "Core 3 N355"),
        ("AMD Ryzen AI 7 350", "Ryzen AI 7 350"),
        ("AMD Ryzen™ AI 9 HX 370 w/ Radeon™ 890M", "Ryzen AI 9 HX 370"),
        ("AMD Ryzen AI 7 PRO 360", "Ryzen AI 7 PRO 360"),
        ("AMD Ryzen AI 5 340", "Ryzen AI 5 340"),
        ("AMD Ryzen 7 260", "Ryzen 7 260"),
        ("AMD Ryzen 5 220 with Radeon 740M", "Ryzen 5 220"),
        ("AMD Ryzen™ 5 PRO 7530U with Radeon Graphics", "Ryzen 5 7530U"),
        ("Ryzen 5 7430U", "Ryzen 5 7430U"),
        ("Ryzen 7 6800H", "Ryzen 7 6800H"),
        ("AMD Ryzen 7 8845HS", "Ryzen 7 8845HS"),
        ("AMD Ryzen 9 5900HX", "Ryzen 9 5900HX"),
        ("AMD Ryzen 5 9600X", "Ryzen 5 9600X"),
        ("AMD Ryzen 5 5500", "Ryzen 5 5500"),
        ("Apple M4", "Apple M4"),
    ],
)
def test_new_families_are_found_as_vendors_write_them(text: str, model: str) -> None:
    match = TABLE.lookup(text)
    assert match.cpu is not None, match.reason
    assert match.cpu.model == model


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("AMD Ryzen AI 7", "names no CPU model"),
        ("Intel Core 5", "names no CPU model"),
        ("Intel Core Ultra 5 or equivalent", "names no CPU model"),
        ("Ryzen AI Max+ 395", "not a recognised CPU model"),
        ("Ryzen 5 280", "names no CPU model"),
    ],
)
def test_new_families_without_a_model_cannot_be_verified(text: str, reason: str) -> None:
    match = TABLE.lookup(text)
    assert match.cpu is None
    assert reason in match.reason


# ------------------------------------------------------------------ any one of several references


def cpu(text: str) -> Cpu:
    found = TABLE.lookup(text).cpu
    assert found is not None, text
    return found


def test_one_reference_keeps_the_plain_reason() -> None:
    v = compare_cpu(cpu("Core i5-1335U"), [cpu("Core i5-1235U")])
    assert v.ok and v.reference.model == "Core i5-1235U"
    assert v.reason == "Core i5-1335U index 240 >= Core i5-1235U index 225"


def test_a_pass_names_the_most_demanding_reference_met() -> None:
    refs = [cpu("Core i5-1235U"), cpu("Ryzen 5 5500U"), cpu("Core Ultra 5 125U")]
    v = compare_cpu(cpu("Ryzen 5 7530U"), refs)  # 265: meets 225 and 215, not 290
    assert v.ok and v.reference.model == "Core i5-1235U"
    assert v.reason.startswith("Ryzen 5 7530U index 265 >= Core i5-1235U index 225")
    assert "any one of Core i5-1235U, Ryzen 5 5500U, Core Ultra 5 125U suffices" in v.reason
    only_amd = compare_cpu(cpu("Core Ultra 5 115U"), refs[:2])  # 210: meets neither
    assert not only_amd.ok


def test_a_failure_names_the_closest_reference() -> None:
    v = compare_cpu(cpu("Core i3-1315U"), [cpu("Core i5-1235U"), cpu("Ryzen 5 5500U")])
    assert not v.ok and v.reference.model == "Ryzen 5 5500U"
    assert v.reason == (
        "Core i3-1315U index 185 < Ryzen 5 5500U index 215 "
        "(closest reference; meets none of Core i5-1235U, Ryzen 5 5500U)"
    )


def test_equal_references_the_first_listed_decides() -> None:
    a, b = cpu("Core i5-12400"), cpu("Core i5-12400F")
    assert compare_cpu(cpu("Core i5-13400"), [b, a]).reference is b
    assert compare_cpu(cpu("Core i3-12100"), [a, b]).reference is a
    with pytest.raises(ValueError, match="at least one"):
        compare_cpu(a, [])


# ------------------------------------------------------------------ spec validation


SPEC_HEAD = """\
id: lab-pc
version: "t1"
category: desktop
title: Lab PC
requirements:
  - id: cpu
    label: Core i5-12400 or Ryzen 5 5600G or better
    attribute: cpu
    type: cpu
    operator: ">="
"""
SPEC_TAIL = """\
    level: mandatory
    evidence: true
  - id: ram
    label: Memory at least 8 GB
    attribute: ram
    operator: ">="
    value: 8
    unit: GB
    level: mandatory
"""


def write_spec(tmp_path: Path, value: str, head: str = SPEC_HEAD) -> Path:
    path = tmp_path / "lab-pc.yaml"
    path.write_text(head + f"    value: {value}\n" + SPEC_TAIL, "utf-8")
    return path


def issues_of(path: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        load_spec(path, TABLE)
    return [f"{i.file} {i.reason}" for i in err.value.issues]


def test_spec_accepts_a_list_of_reference_cpus(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, "[Core i5-12400, AMD Ryzen 5 5600G]"), TABLE)
    req = spec.requirements[0]
    assert [c.model for c in req.cpus] == ["Core i5-12400", "Ryzen 5 5600G"]
    assert req.shown == ">= Core i5-12400 or Ryzen 5 5600G"
    single = load_spec(write_spec(tmp_path, "Core i5-12400"), TABLE).requirements[0]
    assert [c.model for c in single.cpus] == ["Core i5-12400"]
    assert single.shown == ">= Core i5-12400"


def test_every_shipped_cpu_rule_names_known_references() -> None:
    for name in ("laptop", "desktop"):
        spec = load_spec(REPO / "specs" / f"{name}.yaml", TABLE)
        rule = next(r for r in spec.requirements if r.kind == "cpu")
        assert len(rule.cpus) >= 2, name
        assert {c.vendor for c in rule.cpus} == {"Intel", "AMD"}, name


@pytest.mark.parametrize(
    ("value", "where", "reason"),
    [
        (
            "[Core i5-12400, Core i5-99999X]",
            "lab-pc.yaml:11 at requirements[0].value[1]",
            "is not in the CPU table",
        ),
        (
            "[Core i5-12400, Ryzen 5]",
            "lab-pc.yaml:11 at requirements[0].value[1]",
            "names no CPU model",
        ),
        (
            "[Core i5-12400, Intel Core i5-12400]",
            "lab-pc.yaml:11 at requirements[0].value[1]",
            "Core i5-12400 listed twice",
        ),
        ("[]", "lab-pc.yaml:11 at requirements[0].value", "should be non-empty"),
    ],
)
def test_spec_rejects_a_bad_reference_list(
    tmp_path: Path, value: str, where: str, reason: str
) -> None:
    found = issues_of(write_spec(tmp_path, value))
    assert any(where in f and reason in f for f in found), found


def test_a_list_is_only_for_cpu_or_in(tmp_path: Path) -> None:
    head = SPEC_HEAD.replace("    type: cpu\n", "    unit: GB\n")
    found = issues_of(write_spec(tmp_path, "[8 GB, 16 GB]", head))
    assert any("a list of values needs operator in, or type: cpu" in f for f in found), found


# ------------------------------------------------------------------ evaluation with a list


RFQ = """\
rfq: RFQ-CPU-LIST
title: Lab PCs
spec: lab-pc
currency: USD
evaluation_date: '2026-11-05'
required_quotes: 3
lots:
- id: '1'
  name: Lab PCs
  lines:
  - {item: PC-1, description: Lab PC, quantity: 10, unit: set}
"""


def write_quote(folder: Path, name: str, price: int, cpu_text: str) -> Path:
    path = folder / f"{name}.csv"
    path.write_text(
        f"Vendor,Vendor {name}\nTax ID,K-{name}\nQuote number,Q-{name}\nDate,2026-11-01\n"
        "Valid until,2026-12-31\nCurrency,USD\nVAT inclusive,no\nRFQ,RFQ-CPU-LIST\n\n"
        "Item,Description,Brand/Model,Quantity,Unit,Unit price,Line total,cpu,ram (GB)\n"
        f"PC-1,Lab PC,Model {name},10,set,{price},{price * 10},{cpu_text},16 GB\n",
        "utf-8",
    )
    return path


def test_evaluation_with_a_list_reference_names_the_deciding_cpu(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, "[Core i5-12400, Ryzen 5 5600G]"), TABLE)
    (tmp_path / "rfq.yaml").write_text(RFQ, "utf-8")
    rfq = load_rfq(tmp_path / "rfq.yaml")
    quotes = [
        read_quotation(write_quote(tmp_path, "a-amd", 560, "AMD Ryzen 5 8600G")),
        read_quotation(write_quote(tmp_path, "b-i3", 450, "Intel® Core™ i3-14100")),
        read_quotation(write_quote(tmp_path, "c-ultra", 620, "Intel Core Ultra 5 225")),
        read_quotation(write_quote(tmp_path, "d-vague", 400, "Core Ultra 5 or equivalent")),
    ]
    ev = evaluate(spec, rfq, quotes, TABLE)
    checks = {v.quote: next(c for c in v.checks if c.requirement == "cpu") for v in ev.vendors}
    a, b, c, d = (checks[f"{n}.csv"] for n in ("a-amd", "b-i3", "c-ultra", "d-vague"))
    # Ryzen 5 8600G (415) meets both: the most demanding one met (Ryzen 5 5600G, 330) decides
    assert a.status == "pass" and "Ryzen 5 8600G index 415 >= Ryzen 5 5600G index 330" in a.reason
    # Core i3-14100 (250) meets neither: the closest (Core i5-12400, 325) is named
    assert b.status == "fail" and "Core i3-14100 index 250 < Core i5-12400 index 325" in b.reason
    assert "meets none of Core i5-12400, Ryzen 5 5600G" in b.reason
    assert c.status == "pass" and ">= Ryzen 5 5600G index 330" in c.reason
    assert d.status == "unverified" and "names no CPU model" in d.reason
    offers = {o.quote: o for o in ev.lots[0].offers}
    assert offers["a-amd.csv"].rank == 1 and offers["c-ultra.csv"].rank == 2
    assert offers["b-i3.csv"].rank is None and "fails mandatory: cpu" in offers["b-i3.csv"].reason
    assert offers["d-vague.csv"].rank is None
    assert ev.requirements[0]["rule"] == ">= Core i5-12400 or Ryzen 5 5600G"
    again = evaluate(spec, rfq, quotes, TABLE)
    assert canonical_json(again) == canonical_json(ev)
