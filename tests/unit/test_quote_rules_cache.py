"""The blank/placeholder checks are cheap (parsed once per distinct answer) and unchanged."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kape_itops.quotes.evaluate import evaluate
from kape_itops.quotes.rfq import Lot, RfqLine
from kape_itops.quotes.rules import _BLANKS, _PLACEHOLDERS, is_blank, is_placeholder
from tests.unit.test_evaluate import CPUS, GOOD, REPO, line, make_rfq, quote

LINES = 60


def _reference_placeholder(value: str) -> bool:
    """The rule as first written: every part, normalised, is a placeholder word."""
    parts = re.split(r"[/,;&+]|\bor\b|\band\b", value.strip().lower())
    norm = [" ".join(re.sub(r"[\s_:()\[\]-]+", " ", p.replace(".", "")).split()) for p in parts]
    norm = [p for p in norm if p]
    return bool(norm) and all(p in _PLACEHOLDERS for p in norm)


WORDS = [*sorted(_PLACEHOLDERS | _BLANKS), "Core i5", "Dell", "2", "៣", "ខ្មែរ", "Oracle", "android"]
PIECES = st.sampled_from([*WORDS, " ", "/", ",", " or ", "(", ")", "-", ".", "_", ":", "&", "\t"])


@given(st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=6), st.booleans())
def test_placeholder_and_blank_checks_keep_their_results(pieces: list[str], upper: bool) -> None:
    value = "".join(pieces)
    value = value.upper() if upper else value
    assert is_placeholder(value) == _reference_placeholder(value)
    assert is_blank(value) == (" ".join(value.strip().lower().split()) in _BLANKS)


def test_repeated_answers_are_parsed_once_per_distinct_string() -> None:
    """A quotation repeats a handful of answers on every line: each is parsed once."""
    from kape_itops.quotes.spec import load_spec

    spec = load_spec(REPO / "specs" / "laptop.yaml", CPUS)
    rfq_lines = tuple(
        RfqLine(f"LT-{i}", "laptop", Decimal(2), "pcs", "1", True) for i in range(LINES)
    )
    rfq = dataclasses.replace(make_rfq(), lots=(Lot("1", "Laptops", rfq_lines),))
    quotes = [
        dataclasses.replace(
            quote(name, "500"),
            lines=tuple(
                line(f"LT-{i}", "500", qty="2", **{**GOOD, "cpu": cpu}) for i in range(LINES)
            ),
        )
        for name, cpu in (("a", "Core i5-1235U"), ("b", "Generic"), ("c", "Ryzen 5 7530U"))
    ]
    is_placeholder.cache_clear()
    is_blank.cache_clear()
    ev = evaluate(spec, rfq, quotes, CPUS)
    checks = sum(len(v.checks) for v in ev.vendors)
    assert checks >= 3 * LINES * len(spec.requirements) - LINES
    placeholder, blank = is_placeholder.cache_info(), is_blank.cache_info()
    # distinct answers: the GOOD values, three CPUs, one brand/model
    assert placeholder.misses <= 20 and blank.misses <= 20
    assert placeholder.hits + placeholder.misses >= checks * 0.9
    b = next(v for v in ev.vendors if v.quote == "b")
    assert {c.status for c in b.checks if c.requirement == "cpu"} == {"unverified"}
