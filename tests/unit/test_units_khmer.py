"""Khmer in quotations: digits, unit words and spelling variants, yes/no, labels, and every
comparison written with the normalised values it used."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kape_itops.quotes.cpu import CpuTable
from kape_itops.quotes.khmer import UNIT_WORDS, bilingual, fold, latinise
from kape_itops.quotes.layout import attribute_name, header_field, line_column
from kape_itops.quotes.readers import QuoteLine
from kape_itops.quotes.spec import Spec, load_spec
from kape_itops.quotes.steps.compliance import check_requirement
from kape_itops.quotes.units import UNITS, UnitError, parse_bool, parse_quantity

REPO = Path(__file__).resolve().parents[2]
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def khmer(text: str) -> str:
    return text.translate(KHMER_DIGITS)


@pytest.mark.parametrize(
    ("text", "hint", "same_as"),
    [
        ("៣៦ ខែ", "months", "36 months"),
        ("៣៦ខែ", "months", "36 months"),
        ("៣៦\u200bខែ", "months", "36 months"),
        ("ធានា ៣៦ខែ", "months", "36 months"),
        ("៣ ឆ្នាំ", "months", "3 years"),
        ("៣០ ថ្ងៃ", "days", "30 days"),
        ("២ សប្តាហ៍", "days", "2 weeks"),
        ("២ សប្ដាហ៍", "days", "2 weeks"),
        ("៨ ម៉ោង", "h", "8 hours"),
        ("១៥.៦ អ៊ីញ", "in", "15.6 in"),
        ("១៥.៦ អ៉ីញ", "in", "15.6 in"),
        ("១៥.៦ អុិញ", "in", "15.6 in"),
        ("១៥.៦ អី៊ញ", "in", "15.6 in"),
        ("១,៨ គីឡូក្រាម", "kg", "1.8 kg"),
        ("១.៨ គ.ក", "kg", "1.8 kg"),
        ("១៦ ជីហ្គាបៃ DDR4", "GB", "16 GB"),
        ("១៦ ជីកាបៃ", "GB", "16 GB"),
        ("០.៥ តេរ៉ាបៃ", "GB", "500 GB"),
        ("៦៥ វ៉ាត់", "W", "65 W"),
        ("៥៤ វ៉ាត់ម៉ោង", "Wh", "54 Wh"),
        ("៣០ ម៉ែត្រ", "m", "30 m"),
        ("៣០ មែ៉ត្រ", "m", "30 m"),
        ("១,០០០ ទំព័រ", "pages", "1000 pages"),
    ],
)
def test_khmer_digits_and_unit_words(text: str, hint: str, same_as: str) -> None:
    got, ref = parse_quantity(text, hint), parse_quantity(same_as, hint)
    assert got.dimension == ref.dimension
    assert got.value == pytest.approx(ref.value)


def test_khmer_units_as_spec_units() -> None:
    assert parse_quantity("36", "ខែ").value == parse_quantity("36 months", None).value


UNIT_ALIASES = sorted(
    a for a, (dim, _) in UNITS.items() if a and dim not in ("wifi", "ip_rating", "number")
)
numbers = st.one_of(
    st.integers(min_value=0, max_value=10**7).map(str),
    st.integers(min_value=1000, max_value=10**7).map(lambda n: f"{n:,}"),
    st.decimals(min_value="0.01", max_value="99999", places=2).map(str),
)


@settings(max_examples=300, deadline=None, database=None)
@given(number=numbers, alias=st.sampled_from(UNIT_ALIASES), space=st.sampled_from(["", " "]))
def test_any_number_in_khmer_digits_reads_as_in_ascii(number: str, alias: str, space: str) -> None:
    ascii_text = f"{number}{space}{alias}"
    try:
        expected = parse_quantity(ascii_text, alias)
    except UnitError:
        with pytest.raises(UnitError):
            parse_quantity(khmer(ascii_text), alias)
        return
    got = parse_quantity(khmer(ascii_text), alias)
    assert (got.value, got.dimension) == (expected.value, expected.dimension)


@settings(max_examples=300, deadline=None, database=None)
@given(number=numbers, word=st.sampled_from(sorted(UNIT_WORDS)), zwsp=st.booleans())
def test_khmer_unit_word_reads_as_its_english_unit(number: str, word: str, zwsp: bool) -> None:
    english = UNIT_WORDS[word]
    sep = "\u200b" if zwsp else ""
    got = parse_quantity(f"{khmer(number)}{sep}{word}", english)
    expected = parse_quantity(f"{number} {english}", english)
    assert got.dimension == expected.dimension
    assert math.isclose(got.value, expected.value, rel_tol=1e-12)


def test_khmer_separators_stay_exact() -> None:
    assert parse_quantity("១,០០០ ជីកាបៃ", "GB").value == 1000.0
    assert parse_quantity("១,៥ តេរ៉ាបៃ", "GB").value == 1500.0
    assert parse_quantity("១.៥ តេរ៉ាបៃ", "GB").value == 1500.0
    with pytest.raises(UnitError):
        parse_quantity("១,២,៣ ខែ", "months")


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("បាទ", True),
        ("ចាស", True),
        ("បាទ/ចាស", True),
        ("មាន", True),
        ("មាន (Bluetooth 5.0)", True),
        ("\u200bបាទ\u200b", True),
        ("ទេ", False),
        ("គ្មាន", False),
        ("មិនមាន", False),
        ("ទេ។", False),
        ("ប្រទេស", None),
        ("yes", True),
    ],
)
def test_khmer_yes_and_no(text: str, answer: bool | None) -> None:
    assert parse_bool(text) is answer


def test_spelling_variants_fold_to_one() -> None:
    assert fold("អ៊ីញ") == fold("អ៉ីញ") == fold("អុិញ") == fold("អី៊ញ")
    assert fold("សប្តាហ៍") == fold("សប្ដាហ៍")
    assert fold("ក\u200bខ") == "កខ"
    assert latinise("Khmer/English 16 GB") == "Khmer/English 16 GB"
    assert latinise("ខ្មែរ/English") == "Khmer /English"


def test_labels_in_english_khmer_or_both() -> None:
    assert header_field("Vendor") == "vendor"
    assert header_field("អ្នកផ្គត់ផ្គង់") == "vendor"
    assert header_field("Vendor / អ្នកផ្គត់ផ្គង់") == "vendor"
    assert header_field("Valid until\nមានសុពលភាពដល់") == "valid_until"
    assert header_field("រួមបញ្ចូល អតប:") == "vat_inclusive"
    assert line_column("Brand/Model / ម៉ាក/ម៉ូដែល") == "brand_model"
    assert line_column("ម៉ាក/ម៉ូដែល") == "brand_model"
    assert line_column("តម្លៃឯកតា") == "unit_price"
    assert line_column("Unit / ឯកតា") == "unit"
    assert attribute_name("ram (GB) / អង្គចងចាំ") == "ram"
    assert attribute_name("អង្គចងចាំ (GB)") == "ram"
    assert attribute_name("ក្ដារចុច") == "keyboard"  # coeng DA spelling of ក្តារចុច
    assert attribute_name("ពណ៌") == ""
    assert bilingual("Vendor", "en") == "Vendor"
    assert bilingual("Vendor", "en+km") == "Vendor / អ្នកផ្គត់ផ្គង់"
    assert bilingual("no such label", "en+km") == "no such label"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(REPO / "specs" / "laptop.yaml")


def check(spec: Spec, requirement: str, **attrs: str) -> tuple[str, str]:
    req = next(r for r in spec.requirements if r.id == requirement)
    line = QuoteLine(
        1, "LT-1", "", "Dell Latitude 3540", Decimal(1), "pcs", Decimal(1), None, attrs
    )
    c = check_requirement(req, line, CpuTable.load(), Decimal(1))
    return c.status, c.reason


def test_every_comparison_shows_the_normalised_values(spec: Spec) -> None:
    assert check(spec, "ssd-512", storage="0.5 TB") == ("fail", "0.5 TB = 500 GB < 512 GB")
    assert check(spec, "ram-min", ram="16 GB DDR4") == ("pass", "16 GB ≥ 8 GB")
    assert check(spec, "warranty", warranty="3 yrs") == ("pass", "3 yrs = 36 months ≥ 36 months")
    assert check(spec, "warranty", warranty="៣៦ ខែ") == ("pass", "៣៦ ខែ = 36 months ≥ 36 months")
    assert check(spec, "warranty", warranty="២៤ ខែ") == ("fail", "២៤ ខែ = 24 months < 36 months")
    assert check(spec, "weight", weight="២ គ.ក") == ("fail", "២ គ.ក = 2 kg > 1.8 kg")
    assert check(spec, "display", display="39.6 cm") == ("pass", "39.6 cm = 15.5906 in ≥ 14 in")


def test_khmer_answers_in_text_rules(spec: Spec) -> None:
    status, reason = check(spec, "keyboard", keyboard="ខ្មែរ/English")
    assert status == "pass" and reason.startswith("ខ្មែរ/English = Khmer")
    assert check(spec, "keyboard", keyboard="ភាសាខ្មែរ")[0] == "pass"
    assert check(spec, "keyboard", keyboard="អង់គ្លេស")[0] == "fail"
    assert check(spec, "warranty-onsite", warranty_type="ជួសជុលនៅនឹងកន្លែង")[0] == "pass"
