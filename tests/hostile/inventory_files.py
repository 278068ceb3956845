"""Hostile inventory imports: JSON and CSV files built to exhaust or crash the readers.

Each generator writes one file under ``folder`` and returns its path; ``JSON_FILES`` and
``CSV_FILES`` name them all, with the words the refusal must contain. Hostile prices live in
``BAD_PRICES`` (cell text -> words of the refusal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

HEADER = "asset_tag,school,kind,unit_price"


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def json_deep(folder: Path) -> Path:
    """A device whose notes are 100,000 nested lists (the JSON parser used to recurse)."""
    notes = "[" * 100_000 + "]" * 100_000
    text = (
        '{"devices": [{"asset_tag": "D1", "school": "KPT-PSP", "kind": "laptop", "notes": '
        + notes
        + "}]}"
    )
    return _write(folder / "deep.json", text)


def json_moderately_deep(folder: Path) -> Path:
    """Nesting of 200 levels: parses, but is over the depth limit."""
    notes = "[" * 200 + "]" * 200
    text = (
        '{"devices": [{"asset_tag": "D1", "school": "KPT-PSP", "kind": "laptop", "notes": '
        + notes
        + "}]}"
    )
    return _write(folder / "deep200.json", text)


def json_huge_int(folder: Path) -> Path:
    """A price of 5,000 digits (Python's int() refuses over 4,300 digits with ValueError)."""
    return _write(
        folder / "hugeint.json",
        '{"devices": [{"asset_tag": "D1", "school": "KPT-PSP", "kind": "laptop", "unit_price": 1%s}]}'
        % ("0" * 5000),
    )


def json_float_overflow(folder: Path) -> Path:
    """A price of 1e400 (a float parser makes it inf)."""
    return _write(
        folder / "inf.json",
        '{"devices": [{"asset_tag": "D1", "school": "KPT-PSP", "kind": "laptop", "unit_price": 1e400}]}',
    )


def json_wide(folder: Path) -> Path:
    """One item with 50,000 different keys."""
    item = {"asset_tag": "D1", **{f"k{i}": i for i in range(50_000)}}
    return _write(folder / "wide.json", json.dumps({"devices": [item]}))


def json_many_keys_spread(folder: Path) -> Path:
    """20,000 items with a new key each (the header used to grow quadratically)."""
    items = [{"asset_tag": f"D{i}", f"k{i}": 1} for i in range(20_000)]
    return _write(folder / "spread.json", json.dumps({"devices": items}))


def json_long_cell(folder: Path) -> Path:
    """A notes value of two million characters."""
    return _write(
        folder / "long.json",
        json.dumps(
            {
                "devices": [
                    {
                        "asset_tag": "D1",
                        "school": "KPT-PSP",
                        "kind": "laptop",
                        "notes": "x" * 2_000_000,
                    }
                ]
            }
        ),
    )


def csv_wide(folder: Path) -> Path:
    """A header of 100,000 columns."""
    return _write(folder / "devices.csv", "asset_tag,school,kind" + ",c" * 100_000 + "\nD1\n")


def csv_long_cell(folder: Path) -> Path:
    """A quoted notes cell of 100,000 characters."""
    return _write(folder / "devices.csv", f'asset_tag,school,kind,notes\nD1,KPT-PSP,laptop,"{"y" * 100_000}"\n')


def csv_huge_field(folder: Path) -> Path:
    """An unclosed quote swallowing 5 MB (the csv module's field limit)."""
    return _write(folder / "devices.csv", 'asset_tag,school,kind,notes\nD1,KPT-PSP,laptop,"' + "z" * 5_000_000 + "\n")


JSON_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "deep": (json_deep, "nested deeper than 50 levels"),
    "deep200": (json_moderately_deep, "nested deeper than 50 levels"),
    "huge_int": (json_huge_int, "too long for an amount"),
    "float_overflow": (json_float_overflow, "not a plain number"),
    "wide": (json_wide, "more than 200 different fields"),
    "spread": (json_many_keys_spread, "more than 200 different fields"),
    "long_cell": (json_long_cell, "over the limit of 10,000"),
}
CSV_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "wide": (csv_wide, "over the limit of 200"),
    "long_cell": (csv_long_cell, "over the limit of 10,000"),
    "huge_field": (csv_huge_field, "not valid CSV"),
}

BAD_PRICES: dict[str, str] = {
    "12,50": "comma as the decimal mark",
    "1,2,3": "not a plain number",
    "1,23,456": "not a plain number",
    "1,234,56": "not a plain number",
    "1e308": "not a plain number",
    "1E+3": "not a plain number",
    "inf": "not a plain number",
    "NaN": "not a plain number",
    "1" + "0" * 39: "too large",
    "99999999999999": "too large",
    "12.505": "more than two decimals",
    "-1,234.00": "must not be negative",
}
"""Price cells that must be refused (never guessed), with words of the refusal."""

GOOD_PRICES: dict[str, str] = {
    "1,234.56": "1234.56",
    "1,234": "1234.00",
    "1 234 567.5": "1234567.50",
    "12.500": "12.50",
    "9999999999999.99": "9999999999999.99",
    "0": "0.00",
}
"""Price cells read exactly, with the stored amount."""
