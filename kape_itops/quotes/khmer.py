"""Khmer in quotations: digits, unit and value words, yes/no, and the bilingual labels.

Every Khmer string of the quotation code lives here (no gettext: a few hundred words). Khmer is
written without spaces between words and with several spellings of the same word (muusikatoan
``៉`` or triisap ``៊``, marks in either order, ``ុិ`` for ``ី``, coeng ``ដ`` or ``ត``), so text is
*folded* before it is compared: NFC, zero-width characters removed, those variants merged.
:func:`latinise` then turns Khmer digits and known words into the ASCII the parsers read
("៣៦ ខែ" -> "36 months").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "ATTRIBUTE_LABELS",
    "CURRENCY_WORDS",
    "LABELS",
    "LANGS",
    "MONTHS",
    "UNIT_WORDS",
    "VALUE_WORDS",
    "ascii_digits",
    "bilingual",
    "clean",
    "date_text",
    "fold",
    "has_khmer",
    "latinise",
    "visible",
    "yes_no",
]

LANGS = ("en", "en+km")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_DIGITS = {0x17E0 + i: str(i) for i in range(10)}
_KHMER = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]")
_SHIFTERS = dict.fromkeys(map(ord, "\u17c9\u17ca"))

# Words a vendor writes, in one spelling (variants are folded): Khmer -> what the parsers read.
UNIT_WORDS: dict[str, str] = {
    "ខែ": "months",
    "ឆ្នាំ": "years",
    "ថ្ងៃ": "days",
    "សប្តាហ៍": "weeks",
    "ម៉ោង": "hours",
    "នាទី": "minutes",
    "វិនាទី": "seconds",
    "អ៊ីញ": "in",
    "អ៊ិញ": "in",
    "គីឡូក្រាម": "kg",
    "គីឡូ": "kg",
    "គ.ក": "kg",
    "ជីហ្គាបៃ": "GB",
    "ជីកាបៃ": "GB",
    "ជីហ្គា": "GB",
    "តេរ៉ាបៃ": "TB",
    "តេរ៉ា": "TB",
    "មេហ្គាបៃ": "MB",
    "មេកាបៃ": "MB",
    "វ៉ាត់": "W",
    "វ៉ាត់ម៉ោង": "Wh",
    "គីឡូវ៉ាត់": "kW",
    "ម៉ែត្រ": "m",
    "សង់ទីម៉ែត្រ": "cm",
    "មីលីម៉ែត្រ": "mm",
    "ទំព័រ": "pages",
    "ទំព័រ/នាទី": "ppm",
    "ទំព័រក្នុងមួយនាទី": "ppm",
    "ច្រក": "ports",
    "គ្រឿង": "units",
    "ភាគរយ": "%",
}
# Common answers: Khmer -> the English word the spec's options use.
VALUE_WORDS: dict[str, str] = {
    "ខ្មែរ": "Khmer",
    "អង់គ្លេស": "English",
    "នៅនឹងកន្លែង": "on-site",
    "ខេត្ត": "province",
    "ឥតខ្សែ": "wireless",
    "គាំទ្រ": "supported",
    "មិនគាំទ្រ": "not supported",
    "រួមបញ្ចូល": "included",
    "មិនរួមបញ្ចូល": "not included",
    "មិនមាន": "no",
    "អត់មាន": "no",
    "គ្មាន": "none",
    "បាទ": "yes",
    "ចាស": "yes",
    "ចា៎ស": "yes",
}
_YES = ("បាទ", "ចាស", "ចា៎ស", "មាន", "គាំទ្រ", "រួមបញ្ចូល", "ត្រូវ")
_NO = ("ទេ", "គ្មាន", "មិនមាន", "អត់", "អត់មាន", "មិនគាំទ្រ", "អត់គាំទ្រ", "មិនរួមបញ្ចូល")
CURRENCY_WORDS: dict[str, str] = {"ដុល្លារអាមេរិក": "USD", "ដុល្លារ": "USD", "រៀល": "KHR"}
MONTHS: dict[str, str] = {
    "មករា": "Jan",
    "កុម្ភៈ": "Feb",
    "មីនា": "Mar",
    "មេសា": "Apr",
    "ឧសភា": "May",
    "មិថុនា": "Jun",
    "កក្កដា": "Jul",
    "សីហា": "Aug",
    "កញ្ញា": "Sep",
    "តុលា": "Oct",
    "វិច្ឆិកា": "Nov",
    "ធ្នូ": "Dec",
}

# English label (as the form and the report print it) -> Khmer.
LABELS: dict[str, str] = {
    # quotation header block
    "Vendor": "អ្នកផ្គត់ផ្គង់",
    "Tax ID": "លេខអត្តសញ្ញាណកម្មសារពើពន្ធ",
    "Quote number": "លេខសម្រង់តម្លៃ",
    "Date": "កាលបរិច្ឆេទ",
    "Valid until": "មានសុពលភាពដល់",
    "Currency": "រូបិយប័ណ្ណ",
    "VAT inclusive": "រួមបញ្ចូល អតប",
    "Exchange rate": "អត្រាប្តូរប្រាក់",
    "RFQ": "លេខសំណើសុំសម្រង់តម្លៃ",
    # lines table
    "Item": "មុខទំនិញ",
    "Description": "ការពិពណ៌នា",
    "Brand/Model": "ម៉ាក/ម៉ូដែល",
    "Quantity": "បរិមាណ",
    "Unit": "ឯកតា",
    "Unit price": "តម្លៃឯកតា",
    "Line total": "តម្លៃសរុប",
    "Warranty": "ការធានា",
    "Delivery days": "ចំនួនថ្ងៃដឹកជញ្ជូន",
    # requirements sheet of the form
    "Requirement": "តម្រូវការ",
    "Column": "ជួរឈរ",
    "Rule": "លក្ខខណ្ឌ",
    "Mandatory": "ចាំបាច់",
    "Evidence": "ភស្តុតាង",
    "yes": "បាទ/ចាស",
    "no (scored)": "ទេ (ដាក់ពិន្ទុ)",
    "Fill every line of the Quotation sheet: one value per column, with its unit. "
    "Name CPUs by exact model (e.g. Core i5-1235U); 'or equivalent' cannot be verified. "
    "State validity, currency (USD or KHR) and whether prices include VAT.": (
        "សូមបំពេញគ្រប់ជួរនៃសន្លឹក Quotation ៖ តម្លៃមួយក្នុងជួរឈរនីមួយៗ ព្រមទាំងឯកតា "
        "(អាចសរសេរជាលេខខ្មែរ ឬលេខអារ៉ាប់ ឧ. ៣៦ ខែ)។ សូមបញ្ជាក់ម៉ូដែល CPU ឱ្យច្បាស់ "
        "(ឧ. Core i5-1235U)។ សូមបញ្ជាក់សុពលភាព រូបិយប័ណ្ណ (USD ឬ KHR) "
        "និងថាតើតម្លៃរួមបញ្ចូល អតប ឬទេ។"
    ),
    # evaluation report
    "Quotation evaluation": "ការវាយតម្លៃសម្រង់តម្លៃ",
    "Spec": "លក្ខណៈបច្ចេកទេស",
    "Method": "វិធីសាស្ត្រ",
    "Evaluation date": "កាលបរិច្ឆេទវាយតម្លៃ",
    "VAT": "អតប",
    "Arithmetic": "នព្វន្ត",
    "Award": "ការផ្តល់កិច្ចសន្យា",
    "Lot": "ឡូត៍",
    "Rank": "ចំណាត់ថ្នាក់",
    "Quote": "សម្រង់តម្លៃ",
    "Quoted": "តម្លៃដែលបានស្នើ",
    "Evaluated": "តម្លៃវាយតម្លៃ",
    "Deviations": "គម្លាត",
    "Technical": "បច្ចេកទេស",
    "Financial": "ហិរញ្ញវត្ថុ",
    "Combined": "ពិន្ទុរួម",
    "Reason": "ហេតុផល",
    "Comparison matrix": "តារាងប្រៀបធៀប",
    "item": "មុខទំនិញ",
    "mandatory": "ចាំបាច់",
    "desirable": "គួរមាន",
    "Deviations per vendor": "គម្លាតតាមអ្នកផ្គត់ផ្គង់",
    "Arithmetic check": "ការត្រួតពិនិត្យនព្វន្ត",
    "Audit": "សវនកម្ម",
    "Input": "ឯកសារបញ្ចូល",
    "Role": "តួនាទី",
    "File": "ឯកសារ",
    "Row": "ជួរ",
    "Qty": "បរិមាណ",
    "Line total as quoted": "តម្លៃសរុបតាមសម្រង់",
    "Qty × unit price": "បរិមាណ × តម្លៃឯកតា",
    "Used": "តម្លៃប្រើ",
    "Note": "កំណត់ចំណាំ",
    "none": "គ្មាន",
}
# Spec attribute (a form column) -> Khmer; attributes not listed keep their English name only.
ATTRIBUTE_LABELS: dict[str, str] = {
    "cpu": "ខួរក្បាល",
    "ram": "អង្គចងចាំ",
    "storage": "ទំហំផ្ទុក",
    "storage_type": "ប្រភេទឧបករណ៍ផ្ទុក",
    "display": "ទំហំអេក្រង់",
    "resolution": "កម្រិតច្បាស់អេក្រង់",
    "battery": "ថ្ម",
    "wifi": "វ៉ាយហ្វាយ",
    "os": "ប្រព័ន្ធប្រតិបត្តិការ",
    "keyboard": "ក្តារចុច",
    "warranty_type": "ប្រភេទការធានា",
    "weight": "ទម្ងន់",
    "print_speed": "ល្បឿនបោះពុម្ព",
    "duplex": "បោះពុម្ពពីរមុខ",
    "ports": "ច្រក",
    "power": "ថាមពល",
    "capacity": "កម្លាំង",
    "outlets": "រន្ធដោត",
    "monitor": "ម៉ូនីទ័រ",
    "clients": "ចំនួនអ្នកប្រើ",
    "channels": "ចំនួនប៉ុស្តិ៍",
}


def has_khmer(text: str) -> bool:
    """True when ``text`` holds Khmer script (letters, marks, digits or signs)."""
    return _KHMER.search(text) is not None


def visible(text: str) -> str:
    """NFC with the zero-width characters removed (Khmer text is full of U+200B)."""
    text = str(text)
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)


def clean(text: str) -> str:
    """:func:`visible` with whitespace collapsed: text as shown back to people."""
    return " ".join(visible(text).split())


def ascii_digits(text: str) -> str:
    """Khmer digits as ASCII digits ("១,២០០" -> "1,200"); nothing else changes."""
    return str(text).translate(_DIGITS)


def fold(text: str) -> str:
    """One spelling per word: NFC, no zero-width characters, register shifters dropped,
    ``ុិ``/``ិុ`` read as ``ី``, coeng DA as coeng TA. Khmer digits stay Khmer."""
    out = visible(text)
    if out.isascii() or not has_khmer(out):
        return out
    out = out.translate(_SHIFTERS)
    out = out.replace("\u17bb\u17b7", "\u17b8").replace("\u17b7\u17bb", "\u17b8")
    return out.replace("\u17d2\u178a", "\u17d2\u178f")


def _pattern(words: dict[str, str]) -> tuple[re.Pattern[str], dict[str, str]]:
    folded = {fold(k): v for k, v in words.items()}
    alternatives = sorted(folded, key=lambda w: (-len(w), w))
    return re.compile("|".join(re.escape(w) for w in alternatives)), folded


_WORDS, _WORD_MAP = _pattern({**UNIT_WORDS, **VALUE_WORDS})
_MONTHS, _MONTH_MAP = _pattern(MONTHS)
_BOUNDARY = re.compile(r"(?<=[\u1780-\u17ff])(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])(?=[\u1780-\u17ff])")


@lru_cache(maxsize=4096)
def latinise(text: str) -> str:
    """Khmer digits and known words as ASCII: "ធានា ៣៦ខែ" -> "ធានា 36 months".

    ASCII text without zero-width characters comes back unchanged. Unknown Khmer words stay,
    separated from numbers by a space (Khmer writes "៣៦ខែ" without one).
    """
    out = fold(text)
    if not has_khmer(out):
        return out
    out = out.translate(_DIGITS)
    out = _WORDS.sub(lambda m: f" {_WORD_MAP[m.group()]} ", out)
    out = _BOUNDARY.sub(" ", out)
    return " ".join(out.replace("។", " ").split())


def date_text(text: str) -> str:
    """A Khmer date as the ASCII a date format reads: "ថ្ងៃទី០១ ខែវិច្ឆិកា ឆ្នាំ២០២៦" -> "01 Nov 2026"."""
    out = fold(text)
    if not has_khmer(out):
        return out
    out = _MONTHS.sub(lambda m: f" {_MONTH_MAP[m.group()]} ", out.translate(_DIGITS))
    return " ".join(_KHMER.sub(" ", out).split())


_YES_F = frozenset(fold(w) for w in _YES)
_NO_F = frozenset(fold(w) for w in _NO)
_SEPARATORS = re.compile(r"[\s,;:(/\u17d4\u17d5\u17d6]")


def yes_no(text: str) -> bool | None:
    """A Khmer yes/no answer ("បាទ", "ចាស", "មាន", "ទេ", "គ្មាន", "មិនមាន"…), whole or as the first
    word; None when the text is no Khmer answer."""
    folded = fold(text).strip().strip("។៕")
    if not has_khmer(folded):
        return None
    for candidate in (folded, _SEPARATORS.split(folded, maxsplit=1)[0]):
        if candidate in _NO_F:
            return False
        if candidate in _YES_F:
            return True
    return None


def bilingual(english: str, lang: str = "en", khmer: str | None = None) -> str:
    """English "Vendor" (en) or "Vendor / អ្នកផ្គត់ផ្គង់" (en+km); untranslated labels stay English."""
    if lang == "en":
        return english
    km = khmer if khmer is not None else LABELS.get(english)
    return f"{english} / {km}" if km else english
