"""Step 1, responsiveness: expired and late quotations, duplicate vendors and missing lot items
are set aside (a ``reject`` flag); lines quoted twice or not requested are ignored, with a flag.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from kape_itops.quotes.khmer import ascii_digits, clean
from kape_itops.quotes.readers import Quotation, QuoteLine
from kape_itops.quotes.result import INFO, REJECT, WARN, Flag
from kape_itops.quotes.rfq import Lot, Rfq
from kape_itops.quotes.steps.state import Received

__all__ = ["missing_items", "receipt_flags", "select_lines", "set_aside_duplicates", "vendor_key"]


def receipt_flags(q: Quotation, rfq: Rfq, when: dt.date) -> list[Flag]:
    """Expired on the evaluation date, dated after the deadline, or quoting another RFQ."""
    flags: list[Flag] = []
    if q.valid_until < when:
        flags.append(
            Flag(
                "expired",
                REJECT,
                f"quotation expired: valid until {q.valid_until.isoformat()}, "
                f"evaluation on {when.isoformat()}",
            )
        )
    if rfq.submission_deadline and q.quote_date > rfq.submission_deadline:
        flags.append(
            Flag(
                "late",
                REJECT,
                f"quotation dated {q.quote_date.isoformat()}, after the submission deadline "
                f"{rfq.submission_deadline.isoformat()}",
            )
        )
    if q.rfq and q.rfq.strip() != rfq.id:
        flags.append(Flag("rfq_reference", WARN, f"quotes RFQ '{q.rfq}', not '{rfq.id}'"))
    return flags


def select_lines(q: Quotation, rfq: Rfq) -> tuple[dict[str, QuoteLine], list[Flag]]:
    """The quoted lines the RFQ asks for, by item (the first of a repeated item), and flags for
    repeated, extra and unpriced items."""
    flags: list[Flag] = []
    wanted = {ln.item for ln in rfq.lines}
    lines: dict[str, QuoteLine] = {}
    for line in q.lines:
        if line.item in lines:
            flags.append(
                Flag(
                    "duplicate_line",
                    WARN,
                    f"item {line.item} quoted twice (row {line.row} ignored)",
                )
            )
            continue
        if line.item not in wanted:
            flags.append(
                Flag(
                    "extra_item",
                    INFO,
                    f"item {line.item} (row {line.row}) is not in the RFQ; ignored",
                )
            )
            continue
        lines[line.item] = line
    for item in q.unpriced:
        if item in wanted and item not in lines:
            flags.append(Flag("unpriced", WARN, f"item {item} listed without a unit price"))
    return lines, flags


def vendor_key(q: Quotation) -> str:
    """Tax ID if given, else the vendor name without company suffixes and punctuation."""
    tax = re.sub(r"[^A-Z0-9]", "", ascii_digits(clean(q.tax_id)).upper())
    if tax:
        return "tax:" + tax
    name = re.sub(r"[^\w ]|_", " ", ascii_digits(clean(q.vendor)).casefold())
    words = [w for w in name.split() if w not in ("co", "ltd", "company", "limited", "plc", "the")]
    return "name:" + " ".join(words)


def set_aside_duplicates(received: Sequence[Received]) -> None:
    """Flag every quotation of a vendor who sent several (all are set aside), then mark each
    quotation with a ``reject`` flag as rejected."""
    groups: dict[str, list[Received]] = {}
    for p in received:
        groups.setdefault(vendor_key(p.q), []).append(p)
    for members in groups.values():
        if len(members) > 1:
            names = ", ".join(m.q.name for m in members)
            for m in members:
                m.flags.append(
                    Flag(
                        "duplicate_vendor",
                        REJECT,
                        f"duplicate vendor: quotations {names} come from the same vendor "
                        f"({m.q.vendor}, tax ID {m.q.tax_id or 'not stated'}); one vendor, one "
                        "quotation — all are set aside",
                    )
                )
    for p in received:
        p.rejected = any(f.severity == REJECT for f in p.flags)


def missing_items(qt: Received, lot: Lot) -> tuple[list[str], list[Flag]]:
    """The lot's items ``qt`` did not quote, and the ``reject`` flag that names them."""
    missing = [ln.item for ln in lot.lines if ln.item not in qt.lines]
    flags = (
        [
            Flag(
                "missing_item",
                REJECT,
                f"missing item(s) {', '.join(missing)} of lot {lot.id}",
                lot.id,
            )
        ]
        if missing
        else []
    )
    return missing, flags
