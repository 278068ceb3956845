"""Comparing quantities, and the comparison written out for a reviewer.

:func:`compare` decides ``actual <operator> reference`` (resolutions and IP ratings part by
part); :func:`explain` writes it with the conversion it made ("0.5 TB = 500 GB < 512 GB",
"៣៦ ខែ = 36 months ≥ 24 months").
"""

from __future__ import annotations

import math
import re

from kape_itops.quotes.khmer import clean, has_khmer, latinise
from kape_itops.quotes.units import UNITS, Quantity, UnitError, show_value

__all__ = ["compare", "explain", "in_unit"]


def in_unit(q: Quantity, unit: str | None) -> str | None:
    """``q`` written in ``unit`` ("500 GB" for 0.5 TB in GB); None for units without a factor
    (resolutions, Wi-Fi generations, IP ratings) or of another dimension."""
    key = latinise(unit).strip().lower() if unit else ""
    if not key or key not in UNITS or q.parts:
        return None
    dimension, factor = UNITS[key]
    if dimension != q.dimension or dimension in ("wifi", "ip_rating", "number"):
        return None
    return show_value(q.value / factor, unit or "")


_SIGNS = {">=": ("≥", "<"), "<=": ("≤", ">"), "==": ("=", "≠")}


def _squash(text: str) -> str:
    return "".join(text.lower().split())


def _with(shown: str, converted: str | None) -> str:
    """Shown as "0.5 TB = 500 GB", or alone when it already says ``converted`` ("16GB")."""
    if converted is None:
        return shown
    if re.search(r"(?<![\d.,])" + re.escape(_squash(converted)), _squash(shown)):
        return shown
    return f"{shown} = {converted}"


def explain(
    written: str,
    got: Quantity,
    operator: str,
    ok: bool,
    reference: Quantity,
    unit: str | None,
) -> str:
    """One comparison with the normalised values it used, for a reviewer.

    "0.5 TB = 500 GB < 512 GB", "៣៦ ខែ = 36 months ≥ 24 months", "16 GB ≥ 8 GB": what was written
    (Khmer as written, else the value read), its conversion to the spec's unit when that differs,
    the sign that held, and the reference.
    """
    shown = clean(written) if has_khmer(written) else got.text
    ref_unit = in_unit(reference, unit)
    right = reference.text if _with(reference.text, ref_unit) == reference.text else ref_unit
    sign = _SIGNS.get(operator, (operator, f"not {operator}"))[0 if ok else 1]
    return f"{_with(shown, in_unit(got, unit))} {sign} {right}"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def compare(actual: Quantity, operator: str, reference: Quantity) -> bool:
    """``actual <operator> reference``; resolutions and IP ratings compare each part."""
    if actual.dimension != reference.dimension:
        raise UnitError(
            f"cannot compare {actual.text} ({actual.dimension}) with "
            f"{reference.text} ({reference.dimension})"
        )
    pairs = (
        list(zip(actual.parts, reference.parts, strict=True))
        if actual.parts and reference.parts and len(actual.parts) == len(reference.parts)
        else [(actual.value, reference.value)]
    )
    if operator == ">=":
        return all(a > b or _close(a, b) for a, b in pairs)
    if operator == "<=":
        return all(a < b or _close(a, b) for a, b in pairs)
    if operator == "==":
        return all(_close(a, b) for a, b in pairs)
    raise UnitError(f"operator '{operator}' does not compare quantities")
