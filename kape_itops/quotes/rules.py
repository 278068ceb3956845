"""Procurement rules the evaluation applies, as pure text-level decisions.

- An answer a vendor *omitted* (blank, "-", "N/A") to a mandatory requirement is not offered:
  a clarification may explain what a quotation says, never add what it left out after the
  deadline. The RFQ may choose ``blank_mandatory: clarify`` instead; reports say which rule ran.
- An answer that is present but not checkable ("TBA", "Generic", "OEM", "or equivalent") cannot
  be verified: that is what a clarification is for.
- An award resting on fewer compliant quotations than the RFQ requires is flagged on the award.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "NOT_OFFERED",
    "award_short",
    "blank_rule",
    "is_blank",
    "is_placeholder",
    "omitted_reason",
    "quotation_counts",
    "rate_note",
]

NOT_OFFERED = "not offered"
_BLANKS = frozenset({"", "-", "--", "–", "—", "n/a", "na", "n.a.", "nil", "not stated"})
_PLACEHOLDERS = frozenset(
    {
        "tba",
        "tbc",
        "tbd",
        "to be advised",
        "to be announced",
        "to be confirmed",
        "to be determined",
        "generic",
        "oem",
        "unbranded",
        "no brand",
        "no name",
        "noname",
        "white label",
        "various",
        "any",
        "equivalent",
        "or equivalent",
        "similar",
    }
)


_SEPARATORS = re.compile(r"[\s_:()\[\]-]+")
_ALTERNATIVES = re.compile(r"[/,;&+]|\bor\b|\band\b")
_DIGIT = re.compile(r"\d")


def _norm(value: str) -> str:
    return " ".join(_SEPARATORS.sub(" ", value.replace(".", "")).split())


@lru_cache(maxsize=8192)
def is_blank(value: str) -> bool:
    """True when nothing was answered: empty, a dash, "N/A", "nil" (cached per answer)."""
    return " ".join(value.strip().lower().split()) in _BLANKS


@lru_cache(maxsize=8192)
def is_placeholder(value: str) -> bool:
    """True when the whole answer names nothing checkable: "TBA", "Generic", "OEM / TBA".

    Cached per distinct answer (a quotation repeats a handful of answers on every line); an
    answer with a digit names something (no placeholder word has one), so it exits early.
    """
    low = value.strip().lower()
    if not low or _DIGIT.search(low):
        return False
    parts = [_norm(p) for p in _ALTERNATIVES.split(low)]
    parts = [p for p in parts if p]
    return bool(parts) and all(p in _PLACEHOLDERS for p in parts)


def omitted_reason(attribute: str, mandatory: bool, rule: str) -> tuple[bool, str]:
    """(is a failure, reason) for a blank answer under the RFQ's ``blank_mandatory`` rule.

    A blank desirable answer is always "not offered" (no points, priced deviation): a
    clarification may not raise a score either.
    """
    if mandatory and rule == "clarify":
        return False, (
            f"'{attribute}' not stated; clarification requested (RFQ rule blank_mandatory: clarify)"
        )
    if mandatory:
        return True, (
            f"{NOT_OFFERED}: '{attribute}' left blank; an omitted mandatory answer cannot be "
            "added by clarification (RFQ rule blank_mandatory: fail)"
        )
    return True, f"{NOT_OFFERED}: '{attribute}' left blank"


def blank_rule(rule: str) -> str:
    """The rule in words, for every report."""
    if rule == "clarify":
        return (
            "blank_mandatory: clarify — a mandatory requirement left blank is 'cannot verify' "
            "and the vendor is asked to clarify (set by the RFQ)"
        )
    return (
        "blank_mandatory: fail — a mandatory requirement left blank is not offered and fails; "
        "clarification may explain what a quotation says, never add what it omitted"
    )


def quotation_counts(
    received: int, responsive: int, compliant: int, required: int | None = None
) -> str:
    """Quotation counts in words: "5 received, 3 responsive, 1 compliant (3 required)".

    Received: quotations pricing any item of the lot; responsive: on time, valid, complete;
    compliant: responsive and passing every mandatory requirement (and, under QCBS, the minimum
    technical score), i.e. ranked.
    """
    text = f"{received} received, {responsive} responsive, {compliant} compliant"
    return text if required is None else f"{text} ({required} required)"


def award_short(compliant: int, required: int) -> str | None:
    """The award-line warning when the award rests on too few compliant quotations."""
    if compliant >= required:
        return None
    return (
        f"award rests on {compliant} compliant quotation{'s' if compliant != 1 else ''} of "
        f"{required} required: the procurement rules may require re-advertising or a "
        "justification"
    )


def rate_note(rate: str | None, source: str | None) -> str | None:
    """The warning every report shows when a rate is used without a stated source."""
    if not rate or source:
        return None
    return (
        f"the exchange rate's source is not stated ({rate}): name it in rfq.yaml "
        "(rate: source:) or after the date in --rate, e.g. 'National Bank of Cambodia official rate'"
    )
