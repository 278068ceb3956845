"""Uploaded quotation forms checked before anything is kept: the name, the size, a hostile
workbook (:func:`kape_itops.xlsxguard.check_xlsx`) and the quotation readers, every problem
named by file, sheet, row and field."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kape_itops.errors import DataError, Issue, ValidationFailed
from kape_itops.limits import Limits, too_big
from kape_itops.quotes.readers import read_quotation
from kape_itops.xlsxguard import XlsxRefused, check_xlsx

__all__ = ["MAX_FILES", "SUFFIXES", "UploadRefused", "Uploaded", "check_upload", "safe_filename"]

MAX_FILES = 50
"""Most quotation files in one upload."""
SUFFIXES = (".xlsx", ".xlsm", ".csv")
_UNSAFE = re.compile(r"[/\\:*?\"<>|]")


class UploadRefused(ValidationFailed):
    """Uploaded forms refused (nothing stored); ``issues`` names file, sheet, row and field."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    """One stored form; ``replaced`` names the file it replaced (same vendor), else empty."""

    id: int
    filename: str
    vendor: str
    sha256: str
    replaced: str


def vendor_key(vendor: str) -> str:
    """The vendor's name as compared: spaces squeezed, case folded."""
    return " ".join(vendor.split()).casefold()


def safe_filename(name: str) -> str:
    """The base name of an uploaded file, without control, format or path characters."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in base
    )
    cleaned = _UNSAFE.sub("_", cleaned).strip().lstrip(".")
    stem, dot, suffix = cleaned.rpartition(".")
    if len(cleaned) > 120:
        cleaned = (stem[: 119 - len(suffix)] + dot + suffix) if dot else cleaned[:120]
    return cleaned


def check_upload(name: str, content: bytes, limits: Limits) -> str | list[Issue]:
    """The vendor the form ``name`` (already :func:`safe_filename`) names, or its problems."""
    if not name or not name.lower().endswith(SUFFIXES):
        why = "not a quotation form: upload the .xlsx form (or .csv)"
        return [Issue(name or "(no name)", None, None, None, why)]
    if not content:
        return [Issue(name, None, None, None, "the file is empty")]
    if len(content) > limits.max_file_bytes:
        why = too_big("the file", len(content), limits.max_file_bytes, "max_file_mb", " bytes")
        return [Issue(name, None, None, None, why)]
    with tempfile.TemporaryDirectory(prefix="itops-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        prefix = f"{tmp}/"
        try:
            if name.lower().endswith((".xlsx", ".xlsm")):
                check_xlsx(path, limits, name)
            quotation = read_quotation(path, limits)
        except XlsxRefused as exc:
            return [Issue(name, None, None, None, exc.reason)]
        except ValidationFailed as exc:
            return [
                Issue(i.file.replace(prefix, ""), i.row, i.column, i.value, i.reason)
                for i in exc.issues
            ]
        except DataError as exc:
            text = str(exc).replace(prefix, "")
            return [Issue(name, None, None, None, text.removeprefix(f"{name}: "))]
    if not quotation.vendor.strip():
        return [Issue(name, None, "vendor", None, "the form names no vendor")]
    return quotation.vendor.strip()
